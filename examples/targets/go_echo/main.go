// A TCP echo server in idiomatic Go: one goroutine per connection, io.Copy
// from the connection to itself. Build and run:
//
//	go run ./examples/targets/go_echo -port 9000
//
// Prints `LISTENING <addr>` when ready. io.Copy between TCP sockets uses
// splice(2) through a pool of pipes that the runtime keeps until GC: that is
// descriptor growth, not a leak, and netrepro reports it as information.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1")
	flag.Parse()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("LISTENING %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go func(c net.Conn) {
			defer c.Close()
			io.Copy(c, c)
		}(c)
	}
}
