#!/usr/bin/env python3
"""Checks that a crate's modules form a downward order: no import cycles.

Usage: check-module-graph.py SRC_DIR [--print]

Every `.rs` file under SRC_DIR is one module (`lib.rs` is the crate root,
`a/mod.rs` and `a.rs` are `a`). An edge A -> B means code in A names an item
of B: through `use`, or through a path written inline (`crate::b::f()`,
`super::X`). Paths are resolved to the file that defines the item, following
`pub use` re-exports, so a file that names `crate::vault::Slot` depends on
`vault/slot.rs`, not on the `vault` facade. Comments and doc comments are
ignored (an intra-doc link is not a dependency), and so is test code: a
trailing `#[cfg(test)] mod tests` (or `#[cfg(all(test, …))]`) and files named `tests.rs`.

Exits 1 and prints each cycle when there is one; `--print` also prints the
graph, one module per line with what it uses.
"""

import os
import re
import sys


def module_path(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib"):
        rel = rel[:-1]
    return tuple(rel)


def strip_comments_and_strings(text):
    # Line comments (including /// and //!), block comments, string literals.
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            i = n if end < 0 else end + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]):
            i += len(re.match(r"'(\\.[^']*|[^\\'])'", text[i:]).group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def without_tests(text):
    cut = re.search(r"#\[cfg\((?:test|all\([^\]]*\btest\b[^\]]*\))\)\]\s*mod tests\b", text)
    return text[:cut.start()] if cut else text


def expand_use_tree(tree):
    """`a::{b::C, d as e, self}` -> ['a::b::C', 'a::d', 'a']."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)

    def split_top(s):
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            parts.append(cur)
        return parts

    def walk(prefix, s):
        if "{" not in s:
            full = prefix + s
            return [full[:-len("::self")] if full.endswith("::self") else full]
        head, rest = s.split("{", 1)
        inner = rest[: rest.rindex("}")]
        paths = []
        for part in split_top(inner):
            paths.extend(walk(prefix + head, part))
        return paths

    return walk("", tree)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show = "--print" in sys.argv
    if len(args) != 1:
        sys.exit(__doc__)
    src = args[0]
    files = {}
    for root, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs") and name != "tests.rs":
                path = os.path.join(root, name)
                files[module_path(src, path)] = path
    modules = set(files)
    code = {m: without_tests(strip_comments_and_strings(open(p, encoding="utf-8").read())) for m, p in files.items()}

    # Re-exports: (module, name) -> the module the name comes from (unresolved path).
    reexports = {}
    use_re = re.compile(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);")
    for m, text in code.items():
        for vis, tree in use_re.findall(text):
            if not vis:
                continue
            for path in expand_use_tree(tree):
                name = path.split("::")[-1]
                reexports[(m, name)] = path

    def absolute(m, segments):
        if segments[0] == "crate":
            return [], segments[1:]
        base = list(m)
        rest = list(segments)
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
        if segments[0] not in ("super", "self"):
            # A `use` of a child module declared here (`use slot::Slot`).
            if tuple(base + [rest[0]]) not in modules:
                return None
        return base, rest

    def resolve(m, path, depth=0):
        segments = path.split("::")
        found = absolute(m, segments)
        if found is None or depth > 10:
            return None
        base, rest = found
        mod = tuple(base)
        while rest and tuple(list(mod) + [rest[0]]) in modules:
            mod = tuple(list(mod) + [rest[0]])
            rest = rest[1:]
        if rest and (mod, rest[0]) in reexports:
            target = resolve(mod, reexports[(mod, rest[0])], depth + 1)
            if target is not None:
                return target
        return mod

    edges = {m: set() for m in modules}
    inline = re.compile(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)")
    for m, text in code.items():
        paths = []
        for _vis, tree in use_re.findall(text):
            paths.extend(expand_use_tree(tree))
        body = use_re.sub("", text)
        paths.extend(inline.findall(body))
        # Inline paths through a child module declared here (`slot::LEN`).
        children = {c[-1] for c in modules if c[:-1] == m and len(c) == len(m) + 1}
        for child in children:
            paths.extend(re.findall(rf"(?<![\w:])({child}(?:::\w+)+)", body))
        for path in paths:
            target = resolve(m, path.rstrip(":*").rstrip(":"))
            if target is not None and target != m:
                edges[m].add(target)

    def name(m):
        return "crate" if not m else "::".join(m)

    if show:
        for m in sorted(modules):
            print(f"{name(m)} -> {', '.join(sorted(name(t) for t in edges[m])) or '(nothing)'}")

    # Tarjan's strongly connected components.
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            strong(v)
    if sccs:
        for comp in sccs:
            members = sorted(comp)
            detail = "; ".join(
                f"{name(a)} -> {name(b)}" for a in members for b in sorted(edges[a]) if b in comp
            )
            print(f"import cycle: {detail}")
        sys.exit(1)
    print(f"ok: {len(modules)} modules in {src}, no import cycles")


if __name__ == "__main__":
    main()
