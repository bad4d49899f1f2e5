"""tribler_udp_echo.py with the seed fix: an error caused by one peer's ICMP
(port unreachable -> ECONNREFUSED on Linux with IP_RECVERR; WSAECONNRESET /
ERROR_PORT_UNREACHABLE on Windows) is logged and ignored, and the server
keeps serving everyone. This is what CPython gh-91227 (PR 32011, ignore
ERROR_PORT_UNREACHABLE) and Tribler PR 7976 (backport as a monkey-patch) do.
  https://github.com/python/cpython/pull/32011
  https://github.com/Tribler/tribler/pull/7976

Run: python3 tribler_udp_echo_fixed.py --port 9000 [--recverr] [--reply-delay-ms 150]
"""
import argparse
import asyncio
import socket

from _events import event, listening
from tribler_udp_echo import make_socket

# Errors that describe one peer, not the socket: skip and keep receiving.
PEER_ERRORS = (ConnectionRefusedError, ConnectionResetError)
MSG_ERRQUEUE = getattr(socket, "MSG_ERRQUEUE", 0x2000)  # Linux value


def drain_error_queue(sock, limit=64):
    """With IP_RECVERR each ICMP error also queues a message; drop them (bounded)."""
    for _ in range(limit):
        try:
            sock.recvmsg(512, 512, MSG_ERRQUEUE)
        except OSError:
            return


async def serve(sock, delay):
    # Announce only once the event loop runs: its own fds (epoll, self-pipe)
    # exist by then, so the harness's baseline fd count is the real one.
    listening(sock)
    loop = asyncio.get_running_loop()
    while True:
        try:
            data, addr = await loop.sock_recvfrom(sock, 65536)
        except PEER_ERRORS as e:
            event("recv_from", e, False)
            drain_error_queue(sock)
            continue
        if delay:
            await asyncio.sleep(delay)
        try:
            await loop.sock_sendto(sock, data, addr)
        except OSError as e:
            event("send_to", e, False)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--recverr", action="store_true")
    p.add_argument("--reply-delay-ms", type=int, default=0)
    a = p.parse_args()
    sock = make_socket(a.host, a.port, a.recverr)
    asyncio.run(serve(sock, a.reply_delay_ms / 1000))


if __name__ == "__main__":
    main()
