"""Threaded TCP port forwarder written like Natter's ForwardSocket before
commit a69ec4b (MikeWang000000/Natter natter.py, _socket_tcp_forward): two
threads per connection, one per direction; on EOF *or any error* a thread
closes *both* sockets while its sibling is still blocked in recv() on one
of them.
  https://github.com/MikeWang000000/Natter/issues/41
  https://github.com/MikeWang000000/Natter/commit/a69ec4baef520c18ade93bbd779f5a01076f7d2f
  (analysis: shared/references/OS-BEHAVIOUR.md section 2)

What that does per OS:
- Windows: the sibling's blocked recv fails with WSAECONNABORTED 10053 - the
  "WinError 10053" of Natter issue #41 (logged, not fatal).
- Linux (observed with CPython 3.11): the sibling's recv on the socket closed
  under it ends with EBADF, logged as a bad-descriptor error - the Linux face
  of the same mistake; the connection itself is torn down, so the verdict is
  "survived" on Linux and the difference shows in the server errors.

Prints no LISTENING line on purpose: netrepro then waits until the port accepts.
Run: python3 natter_forward.py --port 9000 --upstream 127.0.0.1:8000
"""
import argparse
import socket
import threading

from _events import event


def forward(src, dst):
    try:
        while True:
            buf = src.recv(8192)
            if not buf:
                break
            dst.sendall(buf)
    except OSError as e:
        event("forward", e, False)
    # Natter: close both, whatever the sibling thread is doing.
    src.close()
    dst.close()


def handle(client, upstream_addr):
    try:
        upstream = socket.create_connection(upstream_addr, timeout=3)
        upstream.settimeout(None)
    except OSError as e:
        event("connect_upstream", e, False)
        client.close()
        return
    for a, b in ((client, upstream), (upstream, client)):
        threading.Thread(target=forward, args=(a, b), daemon=True).start()


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
        client, _ = lsock.accept()
        handle(client, upstream_addr)


if __name__ == "__main__":
    main()
