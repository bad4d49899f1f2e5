#!/usr/bin/env python3
"""Memory benchmark of the harness (issue 11, acceptance): peak RSS of
`netrepro run` and the size of its JSON report in two hostile cases.

  flood  a target that writes 100,000 JSON server events on stderr
  group  a parallel group of 200 members, each sending 16 MiB

Targets: under 200 MB peak RSS and under 5 MB of report, for both. This is
a benchmark, not a test: it prints figures (and exits 1 if a target is
missed), it is not part of `cargo nextest run`.

Usage: ci/bench-memory.py [path/to/netrepro]   (default: target/release/netrepro)

Peak RSS is `ru_maxrss` from wait4() on the netrepro process: Linux reports
the largest of that process and the descendants it reaped (the servers it
started), so the figure is an upper bound for the harness itself. Linux
(and any Unix with wait4; macOS reports bytes, not KiB, handled below).
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENTS = 100_000
MEMBERS = 200
PAYLOAD = 16 * 1024 * 1024
RSS_LIMIT_MB = 200
REPORT_LIMIT_MB = 5

# An echo server for the probe that floods EVENTS server events on stderr
# once it is listening (the same JSON line format the built-in servers use).
FLOOD = r"""
import socket, sys, threading
port = int(sys.argv[1])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(64)
print("LISTENING 127.0.0.1:%d" % port, flush=True)
err = sys.stderr
for i in range(EVENTS):
    err.write('{"op":"recv","raw":104,"name":"ECONNRESET","class":"reset","fatal":false,"t_ms":%d}\n' % i)
err.flush()
def serve(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d: return
            c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
""".replace("EVENTS", str(EVENTS))

# Reads everything; echoes only the first 4 KiB of a connection (the probe),
# so 200 x 16 MiB are consumed without being sent back or buffered.
SINK = r"""
import asyncio, sys
port = int(sys.argv[1])
async def handle(r, w):
    echoed = 0
    while True:
        d = await r.read(1 << 20)
        if not d: break
        if echoed < 4096:
            w.write(d[:4096 - echoed]); echoed += len(d); await w.drain()
    w.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
    print("LISTENING 127.0.0.1:%d" % port, flush=True)
    await srv.serve_forever()
asyncio.run(main())
"""

FLOOD_SCENARIO = """name = "bench-event-flood"
summary = "the target floods its stderr with server events"
actors = ["a"]
[target]
proto = "tcp"
[[steps]]
actor = "a"
op = "connect"
[[steps]]
actor = "a"
op = "close"
[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
"""

GROUP_SCENARIO = """name = "bench-group-16mib"
summary = "%(members)d members send %(payload)d bytes each, all at once"
timeout_ms = 120000
groups = { crowd = %(members)d }
[target]
proto = "tcp"
[[steps]]
actor = "crowd"
op = "connect"
parallel = true
[[steps]]
actor = "crowd"
op = "send"
bytes = %(payload)d
timeout_ms = 30000
parallel = true
[[steps]]
actor = "crowd"
op = "close"
[expect.naive]
server = "survived"
[expect.hardened]
server = "survived"
""" % {"members": MEMBERS, "payload": PAYLOAD}


def run_case(exe, tmp, name, scenario, target):
    sc = os.path.join(tmp, name + ".toml")
    with open(sc, "w") as f:
        f.write(scenario)
    tgt = os.path.join(tmp, name + ".py")
    with open(tgt, "w") as f:
        f.write(target)
    report = os.path.join(tmp, name + ".json")
    cmd = [exe, "run", sc, "--quiet", "--report", report,
           "--target-cmd", "python3 %s {port}" % tgt, "--expect", "survived"]
    started = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # netrepro's own high-water mark (VmHWM), sampled every 20 ms while it
    # runs (Linux): a lower bound for netrepro alone, next to the wait4
    # upper bound.
    hwm = [0]
    def sample():
        while p.poll() is None:
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            hwm[0] = max(hwm[0], int(line.split()[1]))
            except OSError:
                return
            time.sleep(0.02)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # Read before waiting: a full pipe would block netrepro.
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    sampler.join(1)
    p.returncode = os.waitstatus_to_exitcode(status)
    secs = time.monotonic() - started
    kib = usage.ru_maxrss / (1024 if sys.platform == "darwin" else 1)
    size = os.path.getsize(report) if os.path.exists(report) else -1
    summary = ""
    if size > 0:
        r = json.load(open(report))
        res = r["results"][0]
        events = res.get("server_errors", [])
        summary = "verdict %s, %d step records, %d server events in %d records" % (
            res.get("verdict"), len(res.get("steps", [])),
            sum(e.get("count", 1) for e in events), len(events))
    return {
        "case": name, "exit": p.returncode, "seconds": secs,
        "rss_mb": kib / 1024, "own_mb": hwm[0] / 1024, "report_mb": size / 1e6, "summary": summary,
        "tail": out.decode(errors="replace").strip().splitlines()[-3:],
    }


def main():
    exe = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/netrepro")
    if not os.path.exists(exe):
        sys.exit("no netrepro binary at %s (cargo build --release -p netrepro)" % exe)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name, sc, tgt in [("flood", FLOOD_SCENARIO, FLOOD),
                              ("group", GROUP_SCENARIO, SINK)]:
            r = run_case(exe, tmp, name, sc, tgt)
            within = r["rss_mb"] < RSS_LIMIT_MB and 0 <= r["report_mb"] < REPORT_LIMIT_MB
            ok &= within
            print("%-6s peak RSS %7.1f MB (limit %d; netrepro alone, sampled: %.1f MB)  report %7.3f MB (limit %d)  %5.1f s  exit %d  %s  %s"
                  % (r["case"], r["rss_mb"], RSS_LIMIT_MB, r["own_mb"], r["report_mb"], REPORT_LIMIT_MB,
                     r["seconds"], r["exit"], "ok" if within else "OVER", r["summary"]))
            if not within or r["exit"] not in (0, 1):
                for line in r["tail"]:
                    print("       | " + line)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
