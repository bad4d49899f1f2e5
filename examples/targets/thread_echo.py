"""Thread-per-connection TCP echo server. With --stuck-thread, the thread of
a connection whose client went away closes the socket but then never ends
(it waits forever, like a forwarder's second direction thread that nobody
wakes): the sockets come back, the threads do not, and netrepro must call
that a leak.

    python3 thread_echo.py --port 9000 [--stuck-thread]

Prints `LISTENING <addr>` when ready. Python 3 stdlib only.
"""
import argparse
import socket
import sys
import threading


def serve(conn, stuck):
    with conn:
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                break
            if not data:
                break
            try:
                conn.sendall(data)
            except OSError:
                break
    if stuck:
        threading.Event().wait()  # the bug: this thread never ends


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--stuck-thread", action="store_true")
    a = ap.parse_args()
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
        threading.Thread(target=serve, args=(conn, a.stuck_thread), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
