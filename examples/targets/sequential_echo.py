"""Sequential TCP echo server: Python's socketserver.TCPServer, the code
people write first. It serves one connection at a time (accept, echo until
EOF, close, accept the next); everyone else waits in the listen queue
(request_queue_size = 5). socketserver catches a handler's exception per
request (handle_error prints it) and goes on serving.

    python3 sequential_echo.py --port 9000

Prints `LISTENING <addr>` when ready. Python 3 stdlib only.
"""
import argparse
import socketserver
import sys


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    a = ap.parse_args()
    socketserver.TCPServer.allow_reuse_address = True
    with socketserver.TCPServer((a.host, a.port), Echo) as srv:
        host, port = srv.server_address[:2]
        print(f"LISTENING {host}:{port}", flush=True)
        srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
