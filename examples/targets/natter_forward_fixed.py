"""natter_forward.py with the forwarding teardown fixed: EOF in one
direction is passed on as a half-close (shutdown(SHUT_WR)) instead of
closing both sockets; an error shuts down both sockets (shutdown wakes the
sibling's blocked recv on Linux, unlike close) and the *last* of the two
threads closes them. Errors are logged and contained to the connection.
Natter's own commit a69ec4b only stopped logging ECONNABORTED/EBADF (its
predicate was inverted); this is the teardown the issue discussion asks for.
  https://github.com/MikeWang000000/Natter/issues/41

Run: python3 natter_forward_fixed.py --port 9000 --upstream 127.0.0.1:8000
"""
import argparse
import socket
import threading

from _events import event


class Pair:
    """Both sockets of one forwarded connection; closed once, by the last thread."""

    def __init__(self, a, b):
        self.socks = (a, b)
        self.left = 2
        self.lock = threading.Lock()

    def shutdown_all(self):
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already disconnected

    def done(self):
        with self.lock:
            self.left -= 1
            last = self.left == 0
        if last:
            for s in self.socks:
                s.close()


def forward(pair, src, dst):
    try:
        while True:
            buf = src.recv(8192)
            if not buf:
                dst.shutdown(socket.SHUT_WR)  # pass the half-close on
                break
            dst.sendall(buf)
    except OSError as e:
        event("forward", e, False)
        pair.shutdown_all()
    finally:
        pair.done()


def handle(client, upstream_addr):
    try:
        upstream = socket.create_connection(upstream_addr, timeout=3)
        upstream.settimeout(None)
    except OSError as e:
        event("connect_upstream", e, False)
        client.close()
        return
    pair = Pair(client, upstream)
    for a, b in ((client, upstream), (upstream, client)):
        threading.Thread(target=forward, args=(pair, a, b), daemon=True).start()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True, help="HOST:PORT")
    a = p.parse_args()
    host, port = a.upstream.rsplit(":", 1)
    upstream_addr = (host.strip("[]"), int(port))
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((a.host, a.port))
    lsock.listen(128)
    while True:
        try:
            client, _ = lsock.accept()
        except OSError as e:
            event("accept", e, False)
            continue
        handle(client, upstream_addr)


if __name__ == "__main__":
    main()
