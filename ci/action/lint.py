#!/usr/bin/env python3
"""Lint the composite action (action.yml) as far as actionlint cannot.

actionlint (1.7+) reads a local action's metadata only through a workflow
that uses it (`uses: ./` in .github/workflows/example-python-server.yml):
it checks the metadata's keys and the `with:` inputs against it, but not
the composite steps (its own docs, release notes of v1.7.0; issue
rhysd/actionlint#46). So this script
  1. checks the structure actionlint skips: `runs.using` is composite, every
     step is either `run` with a `shell` or `uses`, step ids are unique,
     every `inputs.X` used is declared and every declared input is used,
     every `steps.ID` used names an earlier step, every output's value
     names a step;
  2. turns the steps into a workflow (the inputs become workflow_dispatch
     inputs, so `inputs.X` keeps its meaning) and runs actionlint on it:
     expressions, `uses:` inputs of known actions, and shellcheck on every
     `run:` script when shellcheck is on PATH.
Usage: ci/action/lint.py ACTIONLINT [action.yml]; exit 0 clean, 1 not.
Needs PyYAML."""
import os
import re
import subprocess
import sys
import tempfile

import yaml

INPUT = re.compile(r"\binputs\.([A-Za-z0-9_-]+)")
STEP = re.compile(r"\bsteps\.([A-Za-z0-9_-]+)\.")


def strings(obj):
    """Every string anywhere in obj."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v)


def structure(action):
    errors = []
    for key in ("name", "description", "runs"):
        if key not in action:
            errors.append(f"missing top-level `{key}`")
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        errors.append(f"runs.using is {runs.get('using')!r}, expected 'composite'")
    steps = runs.get("steps") or []
    if not steps:
        errors.append("runs.steps is empty")
    declared = set((action.get("inputs") or {}).keys())
    used = set()
    seen_ids = []
    for i, step in enumerate(steps):
        where = f"step {i + 1} ({step.get('name') or step.get('id') or step.get('uses')})"
        if ("run" in step) == ("uses" in step):
            errors.append(f"{where}: needs exactly one of `run` and `uses`")
        if "run" in step and "shell" not in step:
            errors.append(f"{where}: a composite `run` step needs `shell`")
        for s in strings(step):
            used |= set(INPUT.findall(s))
            for ref in STEP.findall(s):
                if ref not in seen_ids:
                    errors.append(f"{where}: steps.{ref} is not an earlier step's id")
        if "id" in step:
            if step["id"] in seen_ids:
                errors.append(f"{where}: duplicate id {step['id']!r}")
            seen_ids.append(step["id"])
    for name, out in (action.get("outputs") or {}).items():
        value = (out or {}).get("value", "")
        refs = STEP.findall(value)
        if not refs:
            errors.append(f"output {name}: its value names no step")
        for ref in refs:
            if ref not in seen_ids:
                errors.append(f"output {name}: steps.{ref} is no step's id")
    for name in sorted(used - declared):
        errors.append(f"inputs.{name} is used but not declared")
    for name in sorted(declared - used):
        errors.append(f"input {name} is declared but never used")
    return errors


def as_workflow(action):
    inputs = {
        name: {
            "description": (spec or {}).get("description", name),
            "type": "string",
            "required": False,
            "default": str((spec or {}).get("default", "")),
        }
        for name, spec in (action.get("inputs") or {}).items()
    }
    return {
        "name": "action.yml as a workflow (ci/action/lint.py)",
        "on": {"workflow_dispatch": {"inputs": inputs}},
        "permissions": {"contents": "read"},
        "jobs": {
            "action": {
                "runs-on": "ubuntu-latest",
                "steps": action["runs"]["steps"],
            }
        },
    }


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    actionlint = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) == 3 else "action.yml"
    with open(path) as f:
        action = yaml.safe_load(f)
    errors = structure(action)
    for e in errors:
        print(f"{path}: {e}")
    if errors:
        return 1
    # A file under .github/workflows, where actionlint expects workflows
    # (and resolves `uses: ./` from the repository root).
    wf_dir = os.path.join(os.path.dirname(os.path.abspath(path)), ".github", "workflows")
    with tempfile.NamedTemporaryFile(
        "w", suffix=".yml", prefix=".action-lint-", dir=wf_dir, delete=False
    ) as f:
        yaml.safe_dump(as_workflow(action), f, sort_keys=False)
        wf = f.name
    try:
        r = subprocess.run([actionlint, wf])
    finally:
        os.unlink(wf)
    if r.returncode != 0:
        print(f"{path}: actionlint found the problems above in its steps "
              "(line numbers are of the generated workflow)")
        return 1
    print(f"{path}: structure and steps clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
