"""An asyncio UDP echo server (DatagramProtocol, the idiomatic API) with
IP_RECVERR that spins after one ICMP error.

With IP_RECVERR, Linux queues every ICMP error (port unreachable for a reply
to a client that is gone) on the socket's error queue. asyncio never reads
that queue: epoll keeps reporting the socket readable/errored, asyncio's
recvfrom gets EAGAIN, and the loop wakes again at once, burning a core
forever while still serving everyone (issue 10 item 15: 2.9 million EAGAIN
recvfrom calls in 10 minutes). netrepro must flag it as busy.
With --drain-errqueue, error_received() empties the error queue and the
server stays quiet.

Run: python3 spin_udp_asyncio.py --port 9000 [--reply-delay-ms 150] [--drain-errqueue]
Linux only (IP_RECVERR). Python 3 stdlib only.
"""
import argparse
import asyncio
import socket

from _events import event, listening

IP_RECVERR = getattr(socket, "IP_RECVERR", 11)  # Linux value
MSG_ERRQUEUE = getattr(socket, "MSG_ERRQUEUE", 0x2000)  # Linux value


class Echo(asyncio.DatagramProtocol):
    def __init__(self, sock, delay, drain):
        self.sock, self.delay, self.drain = sock, delay, drain

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if self.delay:
            asyncio.get_running_loop().call_later(self.delay, self.reply, data, addr)
        else:
            self.reply(data, addr)

    def reply(self, data, addr):
        self.transport.sendto(data, addr)

    def error_received(self, exc):
        # The usual handler: log and carry on...
        event("recv_from", exc, False)
        if self.drain:
            # ...the fix: also empty the error queue (bounded).
            for _ in range(64):
                try:
                    self.sock.recvmsg(512, 512, MSG_ERRQUEUE)
                except OSError:
                    break


async def serve(sock, delay, drain):
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: Echo(sock, delay, drain), sock=sock)
    listening(sock)
    await asyncio.Event().wait()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--reply-delay-ms", type=int, default=0)
    p.add_argument("--drain-errqueue", action="store_true")
    a = p.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    sock.bind((a.host, a.port))
    sock.setblocking(False)
    asyncio.run(serve(sock, a.reply_delay_ms / 1000, a.drain_errqueue))


if __name__ == "__main__":
    main()
