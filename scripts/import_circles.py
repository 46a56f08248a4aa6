"""Import circles between the modules of a Rust crate (issue 16).

Reads every `.rs` file below the crate's source folder, finds which modules
each one names through `crate::…` (in `use` lists, nested braces included, and
in paths), and prints every group of modules that import each other, directly
or round a circle. Comments and unit-test modules do not count. A module may
use its own submodules and its parents freely.

    python3 scripts/import_circles.py [api/src]

Exits 1 when there is a circle.
"""

import os
import re
import sys


def modules(root):
    """Module path (`services::stats`, `` for lib.rs) to source text."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            module = os.path.relpath(path, root)[:-3].replace(os.sep, "::")
            module = module.removesuffix("::mod")
            found["" if module in ("lib", "main") else module] = open(path, encoding="utf-8").read()
    return found


def code_of(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)


def split_top(items):
    """`a, b::{c, d}, e` split at the commas outside braces."""
    parts, depth, current = [], 0, ""
    for char in items:
        depth += char == "{"
        depth -= char == "}"
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [p for p in parts + [current.strip()] if p]


def use_paths(prefix, items):
    """Every full path a `use crate::{…}` list names."""
    paths = []
    for item in split_top(items):
        nested = re.match(r"([\w:]*?)(?:::)?\{(.*)\}$", item, flags=re.S)
        if nested:
            head = nested.group(1)
            paths += use_paths(f"{prefix}{head}::" if head else prefix, nested.group(2))
        else:
            paths.append(prefix + item.split(" as ")[0].strip())
    return paths


def imports(module, code, known):
    def owner(path):
        parts = path.replace("self", "").strip(":").split("::")
        for length in range(len(parts), 0, -1):
            candidate = "::".join(parts[:length])
            if candidate in known:
                return candidate
        return None

    named = []
    for listed in re.findall(r"use crate::(\{.*?\}|[^;{]+);", code, flags=re.S):
        named += use_paths("", listed[1:-1] if listed.startswith("{") else listed)
    named += re.findall(r"crate::([\w:]+)", code)
    targets = set()
    for path in named:
        target = owner(path)
        related = target is None or target in ("", module) or module.startswith(target + "::")
        if not related and not target.startswith(module + "::"):
            targets.add(target)
    return targets


def circles(edges):
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def main():
    sources = modules(sys.argv[1] if len(sys.argv) > 1 else "api/src")
    edges = {module: imports(module, code_of(text), sources) for module, text in sources.items()}
    found = circles(edges)
    for group in found:
        print("import circle: " + " <-> ".join(group))
        for module in group:
            print(f"    {module} -> {', '.join(sorted(t for t in edges[module] if t in group))}")
    if not found:
        print(f"import circles: none among {len(sources)} modules")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
