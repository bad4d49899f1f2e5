"""Shared helper for the example targets: print errors as netrepro ServerEvent
JSON lines on stderr (same format as the built-in servers, see
harness/src/observe.rs), so a report shows which error a server handled or
died from. Python 3.11 stdlib only."""
import errno
import json
import sys
import time

_START = time.monotonic()

# errno name -> netrepro error class (harness/src/errors.rs), for the ones these examples meet.
_CLASS = {
    "ECONNRESET": "reset",
    "ECONNABORTED": "aborted",
    "ECONNREFUSED": "refused",
    "EPIPE": "broken-pipe",
    "ETIMEDOUT": "timed-out",
    "EHOSTUNREACH": "unreachable",
    "ENETUNREACH": "unreachable",
    "EMSGSIZE": "message-size",
    "ENOTCONN": "not-connected",
    "EBADF": "bad-descriptor",
    "EMFILE": "resource-exhausted",
    "ENFILE": "resource-exhausted",
}


def event(op, exc, fatal):
    """One JSON line for OSError `exc` during `op`."""
    raw = getattr(exc, "errno", None)
    name = errno.errorcode.get(raw, "OTHER") if raw is not None else type(exc).__name__
    line = {
        "op": op,
        "raw": raw,
        "name": name,
        "class": _CLASS.get(name, "other"),
        "fatal": fatal,
        "t_ms": int((time.monotonic() - _START) * 1000),
    }
    print(json.dumps(line), file=sys.stderr, flush=True)


def listening(sock):
    """The readiness line netrepro reads (optional for external targets)."""
    host, port = sock.getsockname()[:2]
    print(f"LISTENING {host}:{port}", flush=True)
