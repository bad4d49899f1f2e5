"""Fork-per-connection TCP echo server (the classic Unix design: one child
process per accepted connection). With --leak, a child that sees its client
go away keeps the connection open and never exits: the process tree grows by
one process and one socket per connection, which netrepro must see as a leak
although the parent process itself holds nothing new.

    python3 fork_echo.py --port 9000 [--leak]

Prints `LISTENING <addr>` when ready. Python 3 stdlib only; Unix only (os.fork).
"""
import argparse
import os
import signal
import socket
import sys
import threading


def serve(conn, leak):
    while True:
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            break
        try:
            conn.sendall(data)
        except OSError:
            break
    if leak:
        # The bug: the connection is never closed and the child never exits.
        threading.Event().wait()
    conn.close()
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--leak", action="store_true")
    a = ap.parse_args()
    # Children are reaped by the kernel: no zombies in the tree.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.host, a.port))
    srv.listen(128)
    print("LISTENING %s:%d" % srv.getsockname(), flush=True)
    while True:
        try:
            conn, _ = srv.accept()
        except OSError:
            continue
        if os.fork() == 0:
            srv.close()
            serve(conn, a.leak)
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
