#!/usr/bin/env python3
"""Compare two netrepro JSON reports of the same catalog, ignoring what
differs from run to run on its own: timings, ports, pids, resource samples,
repeat counts and the server's output tails.

Usage: ci/compare-reports.py BEFORE.json AFTER.json
Prints one line per result whose projection differs; exit 0 if none, 1 if
some, 2 on unreadable input. Used to show that a refactor left the reports
of the catalog unchanged (issue 12)."""
import json
import sys


def error_names(obj):
    """The set of OS error names anywhere in obj (order and counts ignored)."""
    out = set()
    if isinstance(obj, dict):
        if "name" in obj and "class" in obj:
            out.add((obj.get("name"), obj.get("class")))
        for v in obj.values():
            out |= error_names(v)
    elif isinstance(obj, list):
        for v in obj:
            out |= error_names(v)
    return out


def project(r):
    steps = r.get("steps") or []
    return {
        "status": r.get("status"),
        "verdict": r.get("verdict"),
        "expected": r.get("expected"),
        "setup_error": bool(r.get("setup_error")),
        "exited": r.get("exit") is not None,
        "probe_served": (r.get("probe") or {}).get("served"),
        "step_kinds": sorted({(s.get("actor"), s.get("op"), (s.get("outcome") or {}).get("kind")) for s in steps}),
        "step_errors": sorted(error_names(steps)),
        "server_errors": sorted(error_names(r.get("server_errors"))),
    }


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"error: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)
    out = {}
    for r in doc.get("results", []):
        sc = r.get("scenario")
        name = sc.get("name") if isinstance(sc, dict) else sc
        out[(name, r.get("impl"))] = project(r)
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    a, b = load(sys.argv[1]), load(sys.argv[2])
    differ = 0
    for key in sorted(set(a) | set(b), key=str):
        if key not in a or key not in b:
            print(f"{key}: only in {'after' if key not in a else 'before'}")
            differ += 1
            continue
        for field, va in a[key].items():
            vb = b[key][field]
            if va != vb:
                print(f"{key[0]} [{key[1]}] {field}: {va} -> {vb}")
                differ += 1
    print(f"{len(a)} / {len(b)} results compared, {differ} differences")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
