#!/usr/bin/env python3
"""Checks that no Conary target imports or depends on a target of its own or a higher layer.

Reads every Sources/<Target>/**/*.swift for import statements and Package.swift for the
declared target dependencies, and checks both against LAYERS below. Tests/ is not checked.
Usage: Scripts/check-layers.py [--root DIR]      (DIR defaults to this repository)
Exit status: 0 clean, 1 a violation, 2 a broken layer table or a missing root.
Self-test: Scripts/test-check-layers.sh
"""
import argparse
import re
import sys
from pathlib import Path

# The intended architecture, lowest layer first; Docs/architecture.md draws it. This table is
# the single source of truth: a target may import every target of a LOWER level, minus its
# `forbid` set, plus the modules in its `extra` set (C modules, packages, or a same-level
# sibling if one is ever needed). Nothing else except the STANDARD modules.
LAYERS = {
    # level 0: value types, no I/O
    "ConaryModel":      dict(level=0),
    # level 1
    "ConaryVersions":   dict(level=1),
    "ConarySupport":    dict(level=1, extra={"CLinux", "Crypto"}),
    # level 2: the content-addressed store
    "ConaryStore":      dict(level=2, extra={"Crypto"}),
    # level 3: schema, migrations, every SQL statement; the only target that sees GRDB
    "ConaryDatabase":   dict(level=3, extra={"GRDB"}),
    # level 4
    "ConaryFormats":    dict(level=4, extra={"CArchive", "CSodium", "Crypto"}),
    # the resolver works on an in-memory catalog, never on the database, store or syscalls
    "ConaryResolve":    dict(level=4, extra={"CSolv"},
                             forbid={"ConaryDatabase", "ConaryStore", "ConarySupport"}),
    "ConaryVFS":        dict(level=4, extra={"Crypto"}, forbid={"ConaryDatabase", "ConaryStore"}),
    # level 5..7
    "ConaryBoot":       dict(level=5, extra={"CLinux"}),
    "ConaryDeploy":     dict(level=6, extra={"CLinux"}),
    "ConaryOperations": dict(level=7),
    # level 8: executables
    "conary":           dict(level=8, extra={"ArgumentParser"}),
    "conary-bench":     dict(level=8),
    "conary-fuzz":      dict(level=8),
}

# Modules that are not layers: importable only by a target that lists them in `extra`.
MODULES = {
    "CLinux": "C module", "CArchive": "C module", "CSodium": "C module", "CSolv": "C module",
    "GRDB": "package", "Crypto": "package", "ArgumentParser": "package",
}

# Importable by every target.
STANDARD = {"Foundation", "FoundationEssentials", "Glibc", "Dispatch", "XCTest", "Darwin",
            "Synchronization", "os"}

ONLY_DATABASE = "GRDB"   # importable by ConaryDatabase alone, whatever the table says
PROG = "check-layers"


def module_name(target):
    """The name `import` uses for a target: SwiftPM turns '-' into '_' (conary-bench → conary_bench)."""
    return target.replace("-", "_")


def validate_table():
    problems = []
    names = {}
    for target, spec in LAYERS.items():
        unknown_keys = set(spec) - {"level", "extra", "forbid"}
        if unknown_keys:
            problems.append(f"{target}: unknown keys {sorted(unknown_keys)}")
        if not isinstance(spec.get("level"), int):
            problems.append(f"{target}: no integer level")
        names.setdefault(module_name(target), []).append(target)
    for module, targets in names.items():
        if len(targets) > 1 or module in MODULES or module in STANDARD:
            problems.append(f"module name {module} is not unique")
    for target, spec in LAYERS.items():
        for f in spec.get("forbid", ()):
            if f not in LAYERS:
                problems.append(f"{target}: forbids {f}, which is not in the table")
            elif LAYERS[f]["level"] >= spec["level"]:
                problems.append(f"{target}: forbids {f}, which is not lower anyway")
        for e in spec.get("extra", ()):
            if e not in MODULES and e not in LAYERS:
                problems.append(f"{target}: extra {e} is neither a module nor a target")
            if e == ONLY_DATABASE and target != "ConaryDatabase":
                problems.append(f"{target}: only ConaryDatabase may import {ONLY_DATABASE}")
            if e in LAYERS and LAYERS[e]["level"] > spec["level"]:
                problems.append(f"{target}: extra {e} is a higher layer")
    return problems


def allowed(target):
    spec = LAYERS[target]
    lower = {module_name(t) for t, s in LAYERS.items() if s["level"] < spec["level"]}
    lower -= {module_name(t) for t in spec.get("forbid", ())}
    return STANDARD | lower | {module_name(e) for e in spec.get("extra", ())}


MODULE_TO_TARGET = {module_name(t): t for t in LAYERS}


def describe(target):
    return f"{target} (level {LAYERS[target]['level']})"


def check_edge(target, module, verb):
    """None if `target` may use `module`, else the violation text."""
    if module in allowed(target):
        return None
    head = f"{describe(target)} {verb} {module}"
    if module == ONLY_DATABASE:
        return f"{head}: {ONLY_DATABASE} outside ConaryDatabase"
    other = MODULE_TO_TARGET.get(module)
    if other is not None:
        head = f"{describe(target)} {verb} {describe(other)}"
        if other == target:
            return f"{head}: not allowed (itself)"
        if LAYERS[other]["level"] > LAYERS[target]["level"]:
            return f"{head}: upward {'import' if verb == 'imports' else 'dependency'}"
        return f"{head}: not allowed"
    if module in MODULES:
        return f"{head}: not allowed"
    return f"{head}: not allowed (unknown module: add it to the layer table)"


# --- Swift lexing: comments and string literals are blanked out (newlines kept) ------------

STRING_START = re.compile(r'(#*)("""|")')


class Lexer:
    """Blanks comments (nested /* */ too) and, if asked, string literals (single-line,
    multi-line, raw, with interpolations) so that line and column positions stay put."""

    def __init__(self, text, blank_strings):
        self.text = text
        self.n = len(text)
        self.out = list(text)
        self.blank_strings = blank_strings

    def blank(self, a, b):
        for k in range(a, min(b, self.n)):
            if self.out[k] != "\n":
                self.out[k] = " "

    def run(self):
        self.code(0, nested=False)
        return "".join(self.out)

    def code(self, i, nested):
        """Lexes code from i; if nested (inside an interpolation), stops after its ')'."""
        text, n, depth = self.text, self.n, 0
        while i < n:
            c = text[i]
            if text.startswith("//", i):
                j = text.find("\n", i)
                j = n if j < 0 else j
                self.blank(i, j)
                i = j
            elif text.startswith("/*", i):
                j, level = i, 0
                while j < n:
                    if text.startswith("/*", j):
                        level, j = level + 1, j + 2
                    elif text.startswith("*/", j):
                        level, j = level - 1, j + 2
                        if level == 0:
                            break
                    else:
                        j += 1
                self.blank(i, j)
                i = j
            elif c in '#"' and (m := STRING_START.match(text, i)):
                j = self.string(m.end(), m.group(1), m.group(2) == '"""')
                if self.blank_strings:
                    self.blank(i, j)
                i = j
            elif nested and c == "(":
                depth, i = depth + 1, i + 1
            elif nested and c == ")":
                if depth == 0:
                    return i + 1
                depth, i = depth - 1, i + 1
            else:
                i += 1
        return n

    def string(self, i, hashes, multiline):
        """From just after the opening quote; returns the index after the closing one."""
        text, n = self.text, self.n
        close = ('"""' if multiline else '"') + hashes
        escape = "\\" + hashes
        while i < n:
            if text.startswith(close, i):
                return i + len(close)
            if text[i] == "\n" and not multiline:
                return i          # unterminated: the compiler will complain, not us
            if text.startswith(escape, i):
                k = i + len(escape)
                if k < n and text[k] == "(":
                    i = self.code(k + 1, nested=True)
                else:
                    i = k + 1     # an escaped character (\" too)
                continue
            i += 1
        return n


IMPORT = re.compile(
    r"^(?:(?:@\w+(?:\s*\([^)]*\))?|public|package|internal|fileprivate|private|open)\s+)*"
    r"import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func|actor|macro)\s+)?"
    r"`?([A-Za-z_]\w*)")


def swift_imports(text):
    """(line number, module) for every import statement outside comments and strings."""
    code = Lexer(text, blank_strings=True).run()
    for number, line in enumerate(code.split("\n"), 1):
        for statement in line.split(";"):
            m = IMPORT.match(statement.strip())
            if m:
                yield number, m.group(1)


# --- Package.swift ---------------------------------------------------------------------------

DEFINITION = re.compile(
    r"\.(target|executableTarget|testTarget|systemLibrary|binaryTarget|plugin|macro)\s*\(")
OPENERS, CLOSERS = "([{", ")]}"


def matching(structure, i):
    """Index just after the bracket that closes the one at i (strings and comments blanked)."""
    depth = 0
    for j in range(i, len(structure)):
        if structure[j] in OPENERS:
            depth += 1
        elif structure[j] in CLOSERS:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(structure)


def split_top(structure, a, b):
    """(start, end) of each comma-separated element of structure[a:b] at bracket depth 0."""
    parts, depth, start = [], 0, a
    for j in range(a, b):
        c = structure[j]
        if c in OPENERS:
            depth += 1
        elif c in CLOSERS:
            depth -= 1
        elif c == "," and depth == 0:
            parts.append((start, j))
            start = j + 1
    parts.append((start, b))
    return parts


def read_package(path, warn):
    """Declared targets: name → dict(kind, line, deps=[(line, name)] or None if unreadable)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    plain = Lexer(text, blank_strings=False).run()       # comments gone, strings kept
    structure = Lexer(text, blank_strings=True).run()    # strings gone too, for brackets
    line_of = lambda offset: text.count("\n", 0, offset) + 1
    targets, covered = {}, 0
    for m in DEFINITION.finditer(structure):
        if m.start() < covered:
            continue                                      # a `.target(name:)` dependency
        end = matching(structure, m.end() - 1)
        covered = end
        name = re.search(r'\bname\s*:\s*"([^"]*)"', plain[m.end():end])
        if not name:
            warn(f"{path.name}:{line_of(m.start())}: a .{m.group(1)} without a literal name; skipped")
            continue
        deps = None
        d = re.compile(r"\bdependencies\s*:\s*").search(structure, m.end(), end)
        if d is None:
            deps = []
        elif structure[d.end():d.end() + 1] != "[":
            warn(f"{path.name}:{line_of(d.start())}: dependencies of {name.group(1)} are not a "
                 f"literal list; only its imports are checked")
        else:
            close = matching(structure, d.end())
            deps = []
            for a, b in split_top(structure, d.end() + 1, close - 1):
                element = plain[a:b].strip()
                if not element:
                    continue
                offset = a + len(plain[a:b]) - len(plain[a:b].lstrip())
                dep = re.fullmatch(r'"([^"]*)"', element) or \
                    re.search(r'\bname\s*:\s*"([^"]*)"', element)
                if dep:
                    deps.append((line_of(offset), dep.group(1)))
                else:
                    warn(f"{path.name}:{line_of(offset)}: cannot read the dependency "
                         f"{element!r} of {name.group(1)}; skipped")
        kind = m.group(1)
        custom = re.search(r'\bpath\s*:\s*"([^"]*)"', plain[m.end():end])
        if custom and custom.group(1).startswith("Tests/"):
            # Helpers that only test targets use (shared assertions) are tests, not layers.
            kind = "testTarget"
        elif custom and kind != "testTarget":
            warn(f"{path.name}:{line_of(m.start())}: {name.group(1)} sets a path; its sources "
                 f"are still looked for in Sources/{name.group(1)}")
        targets[name.group(1)] = dict(kind=kind, line=line_of(m.start()), deps=deps)
    return targets


def cycles(graph):
    """Each elementary cycle found by a depth-first search, once, as a list of names."""
    found, seen, state, stack = [], set(), {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):]
                k = cycle.index(min(cycle))
                key = tuple(cycle[k:] + cycle[:k])
                if key not in seen:
                    seen.add(key)
                    found.append(list(key) + [key[0]])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


# --- main --------------------------------------------------------------------------------------

def main(argv):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="repository root (default: this script's repository)")
    root = parser.parse_args(argv).root

    problems = validate_table()
    if problems:
        for p in problems:
            print(f"{PROG}: layer table: {p}", file=sys.stderr)
        return 2
    sources = root / "Sources"
    if not sources.is_dir():
        print(f"{PROG}: no Sources folder in {root}", file=sys.stderr)
        return 2

    sys.setrecursionlimit(10000)
    violations = []           # (sort key, line)
    warn = lambda text: print(f"{PROG}: warning: {text}", file=sys.stderr)

    manifest = root / "Package.swift"
    declared = read_package(manifest, warn) if manifest.is_file() else None

    # Swift target folders and their imports. An import must also be a dependency the
    # target declares: SwiftPM lets a target import whatever reached the build folder
    # through other targets, so the compiler alone does not hold a target to its list.
    target_count = file_count = 0
    for folder in sorted(p for p in sources.iterdir() if p.is_dir()):
        files = sorted(folder.rglob("*.swift"))
        if not files or folder.name in MODULES:
            continue
        rel_folder = folder.relative_to(root).as_posix()
        if folder.name not in LAYERS:
            violations.append(((rel_folder, 0), f"{PROG}: {rel_folder}: target {folder.name} is "
                               f"not in the layer table: add it to the layer table"))
            continue
        target_count += 1
        for f in files:
            file_count += 1
            rel = f.relative_to(root).as_posix()
            text = f.read_text(encoding="utf-8", errors="replace")
            own = declared.get(folder.name) if declared else None
            listed = {module_name(d) for _, d in own["deps"]} if own and own["deps"] is not None else None
            for number, module in swift_imports(text):
                problem = check_edge(folder.name, module, "imports")
                if problem:
                    violations.append(((rel, number), f"{PROG}: {rel}:{number}: {problem}"))
                elif listed is not None and module not in STANDARD and module not in listed:
                    violations.append(((rel, number), f"{PROG}: {rel}:{number}: {folder.name} imports {module}, "
                                       f"which Package.swift does not list among its dependencies"))

    # Package.swift: declared targets and dependencies.
    if declared is not None:
        for name, t in sorted(declared.items(), key=lambda kv: kv[1]["line"]):
            where = f"Package.swift:{t['line']}"
            if t["kind"] == "testTarget" or name in MODULES:
                continue
            if name not in LAYERS:
                violations.append((("Package.swift", t["line"]), f"{PROG}: {where}: target {name} "
                                   f"is not in the layer table: add it to the layer table"))
                continue
            for line, dep in t["deps"] or ():
                problem = check_edge(name, module_name(dep), "depends on")
                if problem:
                    violations.append((("Package.swift", line),
                                       f"{PROG}: Package.swift:{line}: {problem}"))
        graph = {name: [d for _, d in t["deps"] or () if d in declared]
                 for name, t in declared.items()}
        for cycle in cycles(graph):
            first = declared[cycle[0]]["line"]
            violations.append((("Package.swift", first), f"{PROG}: Package.swift:{first}: "
                               f"dependency cycle: {' -> '.join(cycle)}"))
    else:
        warn(f"no Package.swift in {root}; only imports are checked")

    if violations:
        for _, line in sorted(violations, key=lambda v: v[0]):
            print(line)
        print(f"{PROG}: {len(violations)} violation{'s' if len(violations) != 1 else ''}",
              file=sys.stderr)
        return 1
    print(f"{PROG}: {target_count} targets, {file_count} files, no upward import")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
