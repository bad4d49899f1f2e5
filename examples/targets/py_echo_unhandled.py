"""A sequential TCP echo server as tutorials write it: no error handling.
A client that resets its connection (RST) makes recv() raise
ConnectionResetError, which nobody catches, so the process dies with a
traceback on stderr (`ConnectionResetError: [Errno 104] Connection reset by
peer` on Linux). It prints no netrepro JSON events: the report's server
errors come from that traceback (source = text). Python 3 stdlib only.

Run: python3 py_echo_unhandled.py --port 9000
"""
import argparse
import socket


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.host, a.port))
    srv.listen()
    host, port = srv.getsockname()[:2]
    print(f"LISTENING {host}:{port}", flush=True)
    while True:
        conn, _ = srv.accept()
        while True:
            data = conn.recv(65536)  # the bug: ConnectionResetError ends the server
            if not data:
                break
            conn.sendall(data)
        conn.close()


if __name__ == "__main__":
    main()
