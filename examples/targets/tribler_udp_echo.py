"""UDP echo server with the Tribler / CPython-proactor bug: one vanished
client stops the server for everyone.

The bug (Tribler issue #7972, CPython gh-91227, gh-127057): on Windows,
asyncio's ProactorEventLoop gets the ICMP port-unreachable caused by a reply
to a client that already left as an error on the *next* receive
(ERROR_PORT_UNREACHABLE 1234 / WSAECONNRESET 10054) and stopped reading:
no datagram_received for any client until restart.
  https://github.com/Tribler/tribler/issues/7972
  https://github.com/python/cpython/issues/91227
  https://github.com/python/cpython/issues/127057

Why not a DatagramProtocol here: on Linux asyncio uses the selector loop,
whose datagram transport passes such an error to error_received() and keeps
reading (Lib/asyncio/selector_events.py, _SelectorDatagramTransport
._read_ready) - a DatagramProtocol cannot reproduce the bug on Linux at all.
So this program is written the other common way, a receive loop on
loop.sock_recvfrom() that lets the error end it (as the proactor's read loop
ended); it surfaces the same OS error to the same place, honestly.

Linux reports the ICMP error on an unconnected UDP socket only with
IP_RECVERR (man 7 ip): pass --recverr to emulate Windows. --reply-delay-ms
makes "the reply goes to a client that already left" deterministic.

Run: python3 tribler_udp_echo.py --port 9000 [--recverr] [--reply-delay-ms 150]
"""
import argparse
import asyncio
import socket
import sys

from _events import event, listening

IP_RECVERR = getattr(socket, "IP_RECVERR", 11)  # Linux value


def make_socket(host, port, recverr):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if recverr:
        sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


async def serve(sock, delay):
    # Announce only once the event loop runs: its own fds (epoll, self-pipe)
    # exist by then, so the harness's baseline fd count is the real one.
    listening(sock)
    loop = asyncio.get_running_loop()
    while True:
        # The bug: an error here (ECONNREFUSED from an earlier reply's ICMP)
        # ends the loop for every client.
        data, addr = await loop.sock_recvfrom(sock, 2048)
        if delay:
            await asyncio.sleep(delay)
        await loop.sock_sendto(sock, data, addr)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--recverr", action="store_true")
    p.add_argument("--reply-delay-ms", type=int, default=0)
    a = p.parse_args()
    sock = make_socket(a.host, a.port, a.recverr)
    try:
        asyncio.run(serve(sock, a.reply_delay_ms / 1000))
    except OSError as e:
        event("recv_from", e, True)
        sys.exit(1)


if __name__ == "__main__":
    main()
