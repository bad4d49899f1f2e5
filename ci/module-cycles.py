#!/usr/bin/env python3
"""Report import cycles between sibling modules inside each crate (issue 12).

Cargo forbids cycles between crates; nothing forbids them between the modules
of one crate, where they creep back in (`load` uses `matrix` uses `load`).
This script builds each crate's module graph from the source and fails when
two or more sibling modules depend on each other, directly or through other
siblings.

The graph, per crate target (`src/lib.rs`, `src/main.rs`):

- modules come from `mod x;` (file: `x.rs`, `x/mod.rs` or `#[path]`) and
  inline `mod x { ... }`; `#[cfg(test)]` modules are left out (tests may
  reach anywhere);
- module A depends on module B when A names B or an item of B through
  `crate::...`, `super::...` or `self::...` paths, in `use` trees (braces
  expanded) or inline in code, or through a name a `use` bound to a module;
  an item re-exported with `pub use` (or a glob) is followed to the module
  that defines it;
- an edge A -> B counts between the two children of their nearest common
  ancestor that contain A and B. A module using its own descendant (or
  ancestor) is the normal tree shape and is not a cycle.

A cycle is a strongly connected component of two or more siblings. The
script prints each with one source location per edge, so the fix is one
look away.

Usage: ci/module-cycles.py [--allow FILE] [--self-test] [CARGO_TOML_DIR...]
Default: the binary crate `harness/` and every crate under `harness/crates/`.
Crates named in the allowlist (default `ci/module-cycles-allow.txt`) have
their cycles printed without failing; an entry for a crate that has no cycle
fails too, so the list only ever shrinks. Exit code 1 on a failure, 0 when
clean, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
from dataclasses import dataclass, field

# ---------------------------------------------------------------- lexing


@dataclass
class Tok:
    kind: str  # ident, punct, str, other
    text: str
    line: int


IDENT_START = re.compile(r"[A-Za-z_]")
IDENT_CHAR = re.compile(r"[A-Za-z0-9_]")


def lex(src: str) -> list[Tok]:
    """Tokens of Rust source with comments dropped; string literals become
    one `str` token (their text kept for `#[path = "..."]`), so nothing
    inside a string or comment is read as a path."""
    toks: list[Tok] = []
    i, n, line = 0, len(src), 1

    def newlines(a: int, b: int) -> int:
        return src.count("\n", a, b)

    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c.isspace():
            i += 1
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            line += newlines(i, j)
            i = j
            continue
        # raw strings: r"..", r#".."#, br"..", cr#".."#
        m = re.compile(r'(?:b|c)?r(#*)"').match(src, i)
        if m:
            close = '"' + m.group(1)
            j = src.find(close, m.end())
            j = n if j < 0 else j + len(close)
            toks.append(Tok("str", src[m.end() : max(m.end(), j - len(close))], line))
            line += newlines(i, j)
            i = j
            continue
        m = re.compile(r'(?:b|c)?"').match(src, i)
        if m:
            j = m.end()
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            toks.append(Tok("str", src[m.end() : j], line))
            line += newlines(i, j + 1)
            i = j + 1
            continue
        if c == "'" or src.startswith("b'", i):
            k = i + (2 if c == "b" else 1)
            if k < n and src[k] == "\\":  # escaped char literal
                j = k + 1
                while j < n and src[j] != "'":
                    j += 1
                i = j + 1
                toks.append(Tok("other", "char", line))
                continue
            if k + 1 < n and src[k + 1] == "'":  # 'x'
                i = k + 2
                toks.append(Tok("other", "char", line))
                continue
            # a lifetime or label: skip the quote, the ident follows
            i = k
            toks.append(Tok("punct", "'", line))
            continue
        if src.startswith("r#", i) and i + 2 < n and IDENT_START.match(src[i + 2]):
            j = i + 2
            while j < n and IDENT_CHAR.match(src[j]):
                j += 1
            toks.append(Tok("ident", src[i + 2 : j], line))
            i = j
            continue
        if IDENT_START.match(c):
            j = i
            while j < n and IDENT_CHAR.match(src[j]):
                j += 1
            toks.append(Tok("ident", src[i:j], line))
            i = j
            continue
        if c.isdigit():
            j = i
            while j < n and (IDENT_CHAR.match(src[j]) or (src[j] == "." and j + 1 < n and src[j + 1].isdigit())):
                j += 1
            toks.append(Tok("other", src[i:j], line))
            i = j
            continue
        if src.startswith("::", i):
            toks.append(Tok("punct", "::", line))
            i += 2
            continue
        toks.append(Tok("punct", c, line))
        i += 1
    return toks


def matching(toks: list[Tok], i: int) -> int:
    """Index just past the bracket that closes the one at `i`."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = [pairs[toks[i].text]]
    j = i + 1
    while j < len(toks) and stack:
        t = toks[j].text if toks[j].kind == "punct" else None
        if t in pairs:
            stack.append(pairs[t])
        elif t is not None and stack and t == stack[-1]:
            stack.pop()
        j += 1
    return j


def item_end(toks: list[Tok], i: int, end: int) -> int:
    """Index after the item starting at `i`: its `;` or its `{...}` body."""
    while i < end:
        t = toks[i].text if toks[i].kind == "punct" else None
        if t in ("(", "["):
            i = matching(toks, i)
            continue
        if t == "{":
            return matching(toks, i)
        if t == ";":
            return i + 1
        i += 1
    return i


# ---------------------------------------------------------------- modules

Path = tuple  # module path from the crate root, e.g. ("report", "load")


@dataclass
class Ref:
    """A path written in a module: `segments` start with crate/super/self,
    a child module, or a name the module bound by `use`; `in_use` when it
    is a `use` item itself."""

    segments: list[str]
    file: str
    line: int
    in_use: bool = False


@dataclass
class UseBinding:
    """`use a::b::c as d;` binds `d` (or `c`) to that path; `*` for globs."""

    name: str
    segments: list[str]


@dataclass
class Module:
    path: Path
    files: set = field(default_factory=set)
    children: set = field(default_factory=set)
    defined: set = field(default_factory=set)
    refs: list = field(default_factory=list)
    uses: list = field(default_factory=list)


ITEM_KEYWORDS = {"fn", "struct", "enum", "trait", "type", "const", "static", "union"}
PATH_STARTS = {"crate", "super", "self"}


def is_test_cfg(attr: str) -> bool:
    """`#[cfg(test)]` (or any cfg that requires test, not one that excludes it)."""
    return attr.startswith("cfg(") and re.search(r"\btest\b", attr) is not None and "not(test" not in attr.replace(" ", "")


class Crate:
    def __init__(self, label: str, root_file: str):
        self.label = label
        self.modules: dict[Path, Module] = {}
        self.errors: list[str] = []
        self.load_file(root_file, (), os.path.dirname(root_file))

    def module(self, path: Path) -> Module:
        if path not in self.modules:
            self.modules[path] = Module(path)
        return self.modules[path]

    def load_file(self, fname: str, path: Path, child_dir: str) -> None:
        try:
            with open(fname, encoding="utf-8") as f:
                toks = lex(f.read())
        except OSError as e:
            self.errors.append(f"{fname}: {e.strerror}")
            return
        self.module(path).files.add(fname)
        self.scan(toks, 0, len(toks), path, fname, child_dir)

    def scan(self, toks: list[Tok], start: int, end: int, path: Path, fname: str, child_dir: str) -> None:
        """Read items in toks[start:end], the body of module `path`."""
        mod = self.module(path)
        attrs: list[str] = []
        i = start
        while i < end:
            t = toks[i]
            if t.kind == "punct" and t.text == "#":
                j = i + 1
                if j < end and toks[j].text == "!":
                    j += 1
                if j < end and toks[j].text == "[":
                    k = matching(toks, j)
                    attrs.append(" ".join(x.text if x.kind != "str" else '"' + x.text + '"' for x in toks[j + 1 : k - 1]).replace(" ( ", "(").replace("( ", "(").replace(" )", ")"))
                    i = k
                    continue
            if t.kind == "ident" and t.text == "pub":
                i += 1
                if i < end and toks[i].text == "(":
                    i = matching(toks, i)
                continue
            if t.kind == "ident" and t.text == "mod" and i + 2 < end and toks[i + 1].kind == "ident":
                name, after = toks[i + 1].text, toks[i + 2]
                test_only = any(is_test_cfg(a) for a in attrs)
                if after.text == "{":
                    close = matching(toks, i + 2)
                    if not test_only:
                        mod.children.add(name)
                        self.scan(toks, i + 3, close - 1, path + (name,), fname, os.path.join(child_dir, name))
                    attrs = []
                    i = close
                    continue
                if after.text == ";":
                    if not test_only:
                        mod.children.add(name)
                        self.load_child(name, attrs, path, fname, child_dir)
                    attrs = []
                    i += 3
                    continue
            if any(is_test_cfg(a) for a in attrs):
                attrs = []
                i = item_end(toks, i, end)  # a test-only item: like a test module
                continue
            attrs = []
            if t.kind == "ident" and t.text in ITEM_KEYWORDS and i + 1 < end and toks[i + 1].kind == "ident":
                mod.defined.add(toks[i + 1].text)
            if t.kind == "ident" and t.text == "macro_rules" and i + 2 < end and toks[i + 1].text == "!":
                mod.defined.add(toks[i + 2].text)
            if t.kind == "ident" and t.text == "use":
                i = self.read_use(toks, i + 1, end, mod, fname)
                continue
            if t.kind == "ident" and i + 1 < end and toks[i + 1].text == "::" and not (i > 0 and toks[i - 1].text in ("::", "$")):
                segs, j = [t.text], i + 1
                while j + 1 < end and toks[j].text == "::" and toks[j + 1].kind == "ident":
                    segs.append(toks[j + 1].text)
                    j += 2
                mod.refs.append(Ref(segs, fname, t.line))
                i = j
                continue
            i += 1

    def load_child(self, name: str, attrs: list[str], path: Path, fname: str, child_dir: str) -> None:
        for a in attrs:
            m = re.match(r'path = "(.*)"$', a)
            if m:
                f = os.path.join(os.path.dirname(fname), m.group(1))
                # A #[path] file owns the directory it sits in, like a mod.rs.
                self.load_file(f, path + (name,), os.path.dirname(f))
                return
        for f, d in ((os.path.join(child_dir, name + ".rs"), os.path.join(child_dir, name)), (os.path.join(child_dir, name, "mod.rs"), os.path.join(child_dir, name))):
            if os.path.isfile(f):
                self.load_file(f, path + (name,), d)
                return
        self.errors.append(f"{fname}: no file for `mod {name};` in {child_dir}")

    def read_use(self, toks: list[Tok], i: int, end: int, mod: Module, fname: str) -> int:
        """Expand the use tree at toks[i:] into Refs and bindings; returns the
        index after its `;`."""
        line = toks[i].line if i < end else 0

        def tree(i: int, prefix: list[str]) -> int:
            segs = list(prefix)
            if i < end and toks[i].text == "::":  # `use ::std::...`: external
                segs.append("::")
                i += 1
            while i < end:
                t = toks[i]
                if t.kind == "ident":
                    segs.append(t.text)
                    i += 1
                    if i < end and toks[i].text == "::":
                        i += 1
                        continue
                    if i < end and toks[i].kind == "ident" and toks[i].text == "as":
                        alias = toks[i + 1].text
                        i += 2
                    else:
                        alias = segs[-1]
                    self.add_use(mod, segs, alias, fname, line)
                    return i
                if t.text == "*":
                    self.add_use(mod, segs, "*", fname, line)
                    return i + 1
                if t.text == "{":
                    close = matching(toks, i)
                    j = i + 1
                    while j < close - 1:
                        j = tree(j, segs)
                        while j < close - 1 and toks[j].text != ",":
                            j += 1
                        j += 1
                    return close
                return i + 1
            return i

        i = tree(i, [])
        while i < end and toks[i].text != ";":
            i += 1
        return i + 1

    def add_use(self, mod: Module, segs: list[str], alias: str, fname: str, line: int) -> None:
        if segs and segs[-1] == "self":  # `use a::b::{self}` binds b
            segs = segs[:-1]
            if alias == "self":
                alias = segs[-1] if segs else alias
        if not segs or segs[0] == "::":
            return
        mod.uses.append(UseBinding(alias, segs))
        mod.refs.append(Ref(segs, fname, line, in_use=True))

    # ------------------------------------------------------------ resolution

    def start(self, at: Path, segs: list[str]) -> tuple[Path, list[str]] | None:
        """Module a path starts from, and the segments left to walk."""
        here = at
        k = 0
        if segs[0] == "crate":
            here, k = (), 1
        elif segs[0] == "self":
            k = 1
        elif segs[0] == "super":
            while k < len(segs) and segs[k] == "super":
                if not here:
                    return None
                here, k = here[:-1], k + 1
        elif segs[0] in self.module(at).children:
            pass  # a child of this module (2018 paths)
        else:
            return None
        return here, segs[k:]

    def resolve(self, at: Path, segs: list[str], depth: int = 0) -> Path | None:
        """The module that defines what `segs` (written in module `at`) names,
        following `use` re-exports; None for paths outside the crate."""
        if depth > 16:
            return None
        s = self.start(at, segs)
        if s is None:
            # A name a `use` of this module (or a parent's, via `super`) bound.
            if depth == 0:
                for u in self.module(at).uses:
                    if u.name == segs[0] and u.segments != segs:
                        target = self.resolve(at, u.segments + segs[1:], depth + 1)
                        if target is not None:
                            return target
            return None
        here, rest = s
        while rest and rest[0] in self.module(here).children:
            here, rest = here + (rest[0],), rest[1:]
        if not rest or rest[0] in ("*", "self"):
            return here
        return self.item(here, rest[0], depth + 1) or here

    def item(self, module: Path, name: str, depth: int) -> Path | None:
        """Where `name`, as seen in `module`, is defined (None: not found)."""
        if depth > 16:
            return None
        m = self.module(module)
        if name in m.defined:
            return module
        for u in m.uses:
            if u.name == name:
                return self.resolve(module, u.segments, depth + 1)
        for u in m.uses:
            if u.name == "*":
                g = self.resolve(module, u.segments, depth + 1)
                if g is not None and g != module:
                    found = self.item(g, name, depth + 1)
                    if found is not None:
                        return found
        return None

    def edges(self) -> dict[Path, dict[tuple[str, str], tuple[str, int]]]:
        """Sibling edges grouped by parent: {parent: {(a, b): (file, line)}}."""
        out: dict[Path, dict[tuple[str, str], tuple[str, int]]] = {}
        for path, m in sorted(self.modules.items()):
            for r in m.refs:
                if r.segments[0] not in PATH_STARTS and not r.in_use:
                    # `name::...` where `name` is a module a `use` bound
                    if not any(u.name == r.segments[0] for u in m.uses):
                        continue
                target = self.resolve(path, r.segments)
                if target is None:
                    continue
                k = 0
                while k < len(path) and k < len(target) and path[k] == target[k]:
                    k += 1
                if k == len(path) or k == len(target):
                    continue  # ancestor or descendant: the tree, not a cycle
                parent, a, b = path[:k], path[k], target[k]
                out.setdefault(parent, {}).setdefault((a, b), (r.file, r.line))
        return out

    def cycles(self) -> list[tuple[Path, list[str], dict]]:
        found = []
        for parent, es in sorted(self.edges().items()):
            graph: dict[str, set] = {}
            for a, b in es:
                graph.setdefault(a, set()).add(b)
                graph.setdefault(b, set())
            for comp in sccs(graph):
                if len(comp) > 1:
                    inside = {e: loc for e, loc in es.items() if e[0] in comp and e[1] in comp}
                    found.append((parent, sorted(comp), inside))
        return found


def sccs(graph: dict[str, set]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


# ---------------------------------------------------------------- crates


def crate_targets(manifest_dir: str) -> list[tuple[str, str, str]]:
    """(crate name, label, root file) of the lib and bin targets."""
    name = os.path.basename(os.path.abspath(manifest_dir))
    try:
        with open(os.path.join(manifest_dir, "Cargo.toml"), encoding="utf-8") as f:
            in_pkg = False
            for raw in f:
                s = raw.strip()
                if s.startswith("["):
                    in_pkg = s == "[package]"
                m = re.match(r'name\s*=\s*"([^"]+)"', s)
                if in_pkg and m:
                    name = m.group(1)
                    break
    except OSError:
        pass
    out = []
    src = os.path.join(manifest_dir, "src")
    if os.path.isfile(os.path.join(src, "lib.rs")):
        out.append((name, f"{name} (lib)", os.path.join(src, "lib.rs")))
    if os.path.isfile(os.path.join(src, "main.rs")):
        out.append((name, f"{name} (bin)", os.path.join(src, "main.rs")))
    bins = os.path.join(src, "bin")
    if os.path.isdir(bins):
        for f in sorted(os.listdir(bins)):
            if f.endswith(".rs"):
                out.append((name, f"{name} (bin {f[:-3]})", os.path.join(bins, f)))
    return out


def show(p: Path) -> str:
    return "crate" if not p else "crate::" + "::".join(p)


def read_allow(path: str) -> set:
    allow = set()
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            for raw in f:
                s = raw.split("#", 1)[0].strip()
                if s:
                    allow.add(s)
    return allow


def check(dirs: list[str], allow: set, out=sys.stdout) -> int:
    failed = False
    seen = set()
    cyclic = set()
    for d in dirs:
        for name, label, root in crate_targets(d):
            seen.add(name)
            crate = Crate(label, root)
            for e in crate.errors:
                print(f"{label}: {e}", file=out)
                failed = True
            found = crate.cycles()
            if not found:
                print(f"{label}: no module cycles ({len(crate.modules)} modules)", file=out)
                continue
            cyclic.add(name)
            tag = "allowed for now (ci/module-cycles-allow.txt)" if name in allow else "FAIL"
            print(f"{label}: {len(found)} module cycle(s), {tag}", file=out)
            for parent, comp, es in found:
                print(f"  under {show(parent)}: {' <-> '.join(comp)}", file=out)
                for (a, b), (f, line) in sorted(es.items()):
                    print(f"    {a} -> {b}  ({os.path.relpath(f)}:{line})", file=out)
            if name not in allow:
                failed = True
    for name in sorted(allow & seen - cyclic):
        print(f"{name}: allowlisted but has no module cycles now: remove it from the allowlist", file=out)
        failed = True
    return 1 if failed else 0


# ---------------------------------------------------------------- self-test


def self_test() -> int:
    """Small crates with known answers, so the checker itself can fail."""
    cases = {
        # a <-> b through `use crate::`, including a brace tree.
        "cycle": ({"lib.rs": "mod a; mod b;", "a.rs": "use crate::b::X;", "b.rs": "use crate::{a::{Y, Z}};"}, [((), ["a", "b"])]),
        # parent -> child and child -> parent (super) are the tree.
        "tree": ({"lib.rs": "mod a; use a::X; fn f() { a::g() }", "a.rs": "use super::Root; pub struct X;"}, []),
        # a test module may reach anywhere.
        "tests": ({"lib.rs": "mod a; mod b;", "a.rs": "use crate::b::X;", "b.rs": "#[cfg(test)]\nmod tests { use crate::a::Y; }"}, []),
        # comments and strings are not paths.
        "text": ({"lib.rs": "mod a; mod b;", "a.rs": "use crate::b::X;", "b.rs": '// crate::a::Y\nconst S: &str = "crate::a::Y"; /* crate::a */'}, []),
        # a re-export is followed to the defining module: c -> a via lib's `pub use`.
        "reexport": ({"lib.rs": "mod a; mod c; pub use a::*;", "a.rs": "use crate::c::Q; pub struct Y;", "c.rs": "fn f() -> crate::Y { todo!() }"}, [((), ["a", "c"])]),
        # an inline path and a module bound by `use`, nested modules in mod.rs.
        "nested": ({"lib.rs": "mod p;", "p/mod.rs": "mod x; mod y;", "p/x.rs": "use super::y; fn f() { y::g() }", "p/y.rs": "fn g() { crate::p::x::h() }"}, [(("p",), ["x", "y"])]),
        # three siblings in a ring.
        "ring": ({"lib.rs": "mod a; mod b; mod c;", "a.rs": "use crate::b::B;", "b.rs": "use crate::c::C;", "c.rs": "fn f() { super::a::g() }"}, [((), ["a", "b", "c"])]),
        # a one-way chain is fine, and a lifetime is not a char literal.
        "chain": ({"lib.rs": "mod a; mod b;", "a.rs": "fn f<'a>(x: &'a crate::b::B) {}", "b.rs": "pub struct B;"}, []),
    }
    bad = 0
    for name, (files, want) in cases.items():
        with tempfile.TemporaryDirectory() as d:
            for rel, text in files.items():
                p = os.path.join(d, "src", rel)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w", encoding="utf-8") as f:
                    f.write(text)
            crate = Crate(name, os.path.join(d, "src", "lib.rs"))
            got = [(parent, comp) for parent, comp, _ in crate.cycles()]
            if crate.errors or got != want:
                print(f"self-test {name}: want {want}, got {got} {crate.errors}")
                bad += 1
    print(f"self-test: {len(cases) - bad} of {len(cases)} cases pass")
    return 1 if bad else 0


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--allow", default=os.path.join(here, "module-cycles-allow.txt"))
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("dirs", nargs="*")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    dirs = args.dirs
    if not dirs:
        crates = os.path.join(top, "harness", "crates")
        dirs = [os.path.join(top, "harness")] + sorted(
            os.path.join(crates, c) for c in os.listdir(crates) if os.path.isfile(os.path.join(crates, c, "Cargo.toml"))
        )
    return check(dirs, read_allow(args.allow))


if __name__ == "__main__":
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends it quietly
    sys.exit(main())
