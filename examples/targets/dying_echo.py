"""A TCP echo server that dies slowly, like a JVM whose accept thread died
(e.g. of EMFILE) while other non-daemon threads keep the process alive a
little longer. The serving thread handles one connection; when it ends
(however the client left) the thread closes the listener and dies of an
exception. A separate non-daemon "shutdown" thread then keeps the process
alive for --linger-ms before it exits with code 3. netrepro must call this
crashed, not hung: new clients are refused while the process is still alive.

    python3 dying_echo.py --port 9000 [--linger-ms 1500]

Prints `LISTENING <addr>` when ready. Python 3 stdlib only.
"""
import argparse
import os
import socket
import sys
import threading


def serve(srv, dying):
    try:
        conn, _ = srv.accept()
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                    if not data:
                        break
                    conn.sendall(data)
                except OSError:
                    break
    finally:
        srv.close()  # like try-with-resources around the accept loop
        dying.set()
    raise RuntimeError("serving thread died")


def linger(dying, seconds):
    dying.wait()
    # The other work of the process, finishing before it exits.
    threading.Event().wait(seconds)
    os._exit(3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--linger-ms", type=int, default=1500)
    a = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.host, a.port))
    srv.listen(128)
    print("LISTENING %s:%d" % srv.getsockname(), flush=True)
    dying = threading.Event()
    threading.Thread(target=linger, args=(dying, a.linger_ms / 1000)).start()
    threading.Thread(target=serve, args=(srv, dying)).start()


if __name__ == "__main__":
    sys.exit(main())
