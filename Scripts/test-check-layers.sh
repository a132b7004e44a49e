#!/usr/bin/env bash
# Self-test of Scripts/check-layers.py: builds small fixture trees (a Package.swift and a few
# Sources/<Target>/*.swift) in a temporary folder and checks what the checker says about each.
# Needs bash and python3, not Swift. Usage: Scripts/test-check-layers.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
checker=$here/check-layers.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# A clean tree: every planned target, each importing what it may, declared like the real manifest.
base=$work/base
mkdir -p "$base/Sources" "$base/Tests/ConaryTests"
cat > "$base/Package.swift" <<'EOF'
// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Conary",
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .target(name: "CLinux"),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive"),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium"),
        .systemLibrary(name: "CSolv", pkgConfig: "libsolv"),
        // .target(name: "ConaryModel", dependencies: ["ConaryDeploy"]),  (a comment: ignored)
        .target(name: "ConaryModel"),
        .target(name: "ConaryVersions", dependencies: ["ConaryModel"]),
        .target(
            name: "ConarySupport",
            dependencies: [
                "ConaryModel", "CLinux",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(name: "ConaryStore", dependencies: [
            "ConaryModel", .target(name: "ConarySupport"), .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "ConaryDatabase", dependencies: [
            "ConaryStore", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "ConaryFormats", dependencies: [
            "ConaryDatabase", "ConaryVersions", "CArchive", "CSodium",
            .product(name: "Crypto", package: "swift-crypto", condition: .when(platforms: [.linux])),
        ]),
        .target(name: "ConaryResolve", dependencies: ["ConaryModel", "ConaryVersions", "CSolv"]),
        .target(name: "ConaryVFS", dependencies: ["ConaryModel", "ConarySupport"]),
        .target(name: "ConaryBoot", dependencies: ["ConaryFormats", "ConaryVFS", "ConaryDatabase"]),
        .target(name: "ConaryDeploy", dependencies: ["ConaryBoot", "ConaryStore"]),
        .target(name: "ConaryOperations", dependencies: ["ConaryDeploy", "ConaryResolve", "ConaryDatabase"]),
        .executableTarget(name: "conary", dependencies: [
            "ConaryOperations",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "conary-bench", dependencies: ["ConaryOperations"]),
        .executableTarget(name: "conary-fuzz", dependencies: ["ConaryFormats"]),
        .testTarget(name: "ConaryTests", dependencies: [
            "conary", "ConaryOperations", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ]
)
EOF
source_file() {   # source_file TREE TARGET FILE LINES...
    local tree=$1 target=$2 file=$3
    shift 3
    mkdir -p "$tree/Sources/$target"
    printf '%s\n' "$@" > "$tree/Sources/$target/$file"
}
source_file "$base" ConaryModel Model.swift "import Foundation" "public struct Trove {}"
source_file "$base" ConaryVersions Version.swift "import Foundation" "import ConaryModel"
source_file "$base" ConarySupport Syscall.swift "import Glibc" "import CLinux" "import Crypto" "import ConaryModel"
source_file "$base" ConaryStore ObjectStore.swift "import Foundation" "import Crypto" "import ConarySupport" "import ConaryModel"
source_file "$base" ConaryDatabase StateDatabase.swift "import Foundation" "import GRDB" "import ConaryStore"
source_file "$base" ConaryFormats RPMReader.swift "import CArchive" "import CSodium" "import Crypto" "import ConaryVersions" "import ConaryDatabase"
source_file "$base" ConaryResolve SolverPool.swift "import CSolv" "import ConaryVersions" "import ConaryModel"
source_file "$base" ConaryVFS ArenaTree.swift "import ConaryModel" "import ConarySupport"
source_file "$base" ConaryBoot Loader.swift "import ConaryVFS" "import ConaryFormats" "import ConaryDatabase"
source_file "$base" ConaryDeploy Blitter.swift "import ConaryBoot" "import ConaryStore"
source_file "$base" ConaryOperations Deployment.swift "import Foundation" "import ConaryDeploy" "import ConaryResolve"
mkdir -p "$base/Sources/ConaryOperations/Nested/Deeper"
source_file "$base" ConaryOperations Nested/Deeper/Queries.swift "import ConaryDatabase"
source_file "$base" conary Conary.swift "import ArgumentParser" "import ConaryOperations"
source_file "$base" conary-bench Bench.swift "import ConaryOperations" "import Dispatch"
source_file "$base" conary-fuzz Fuzz.swift "import ConaryFormats"
mkdir -p "$base/Sources/CLinux/include"
printf '#include <unistd.h>\n' > "$base/Sources/CLinux/include/shim.h"
# Tests are not layers: anything goes.
printf '@testable import conary\nimport GRDB\nimport ConaryDeploy\n' > "$base/Tests/ConaryTests/T.swift"

n=0
new_tree() {      # a fresh copy of the clean tree in $tree
    n=$((n + 1))
    tree=$work/case$n
    cp -r "$base" "$tree"
}
run() {           # runs the checker on $tree; sets $out and $rc
    out=$(python3 "$checker" --root "$tree" 2>&1)
    rc=$?
}
pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; printf '%s\n' "$out" | sed 's/^/       /'; }
expect() {        # expect NAME RC [FIXED-STRING...]: the exit status, and each string in the output
    local name=$1 want_rc=$2
    shift 2
    if [ "$rc" -ne "$want_rc" ]; then fail "$name (exit $rc, expected $want_rc)"; return; fi
    local s
    for s in "$@"; do
        if ! grep -qF -- "$s" <<<"$out"; then fail "$name (no \"$s\")"; return; fi
    done
    pass "$name"
}
expect_absent() { # expect_absent NAME FIXED-STRING: the string is not in the output
    if grep -qF -- "$2" <<<"$out"; then fail "$1 (unexpected \"$2\")"; else pass "$1"; fi
}

new_tree; run
expect "a clean tree passes" 0 "check-layers: 14 targets, 15 files, no upward import"
[ "$(wc -l <<<"$out")" -eq 1 ] && pass "a clean tree prints one line" || fail "a clean tree prints one line"

new_tree
source_file "$tree" ConaryStore Foo.swift "import Foundation" "" "import ConaryDeploy"
run
expect "an upward import fails, naming file, line and both targets" 1 \
    "check-layers: Sources/ConaryStore/Foo.swift:3: ConaryStore (level 2) imports ConaryDeploy (level 6): upward import"
[ "$(grep -c '^check-layers: Sources' <<<"$out")" -eq 1 ] && pass "one violation, one line" || fail "one violation, one line"

new_tree
source_file "$tree" ConaryDeploy Undeclared.swift "import ConaryVFS"
run
expect "an import the target does not declare fails, though the layer allows it" 1 \
    "Sources/ConaryDeploy/Undeclared.swift:1: ConaryDeploy imports ConaryVFS, which Package.swift does not list among its dependencies"

new_tree
source_file "$tree" ConaryOperations Sql.swift "import GRDB"
run
expect "GRDB in ConaryOperations fails" 1 \
    "Sources/ConaryOperations/Sql.swift:1: ConaryOperations (level 7) imports GRDB: GRDB outside ConaryDatabase"

new_tree
source_file "$tree" ConaryResolve Universe.swift "import Foundation" "import ConaryDatabase"
run
expect "ConaryDatabase in ConaryResolve fails" 1 \
    "Sources/ConaryResolve/Universe.swift:2: ConaryResolve (level 4) imports ConaryDatabase (level 3): not allowed"

new_tree
source_file "$tree" ConaryResolve Syscalls.swift "import ConarySupport" "import ConaryStore"
source_file "$tree" ConaryVFS Tree.swift "import ConaryStore" "import ConaryDatabase"
run
expect "ConaryResolve/ConaryVFS exclusions are enforced" 1 \
    "Syscalls.swift:1: ConaryResolve (level 4) imports ConarySupport (level 1): not allowed" \
    "Syscalls.swift:2: ConaryResolve (level 4) imports ConaryStore (level 2): not allowed" \
    "Tree.swift:1: ConaryVFS (level 4) imports ConaryStore (level 2): not allowed" \
    "Tree.swift:2: ConaryVFS (level 4) imports ConaryDatabase (level 3): not allowed"

new_tree
source_file "$tree" ConaryFormats Sibling.swift "import ConaryVFS"
run
expect "a same-level sibling import fails" 1 \
    "Sibling.swift:1: ConaryFormats (level 4) imports ConaryVFS (level 4): not allowed"

new_tree
source_file "$tree" ConaryStore Forms.swift \
    "@testable import ConaryDeploy" \
    "import struct ConaryDeploy.Blitter" \
    "@_exported import ConaryBoot" \
    "@preconcurrency import ConaryOperations" \
    "public import ConaryFormats" \
    "package import ConaryVFS" \
    "internal import ConaryResolve" \
    "#if canImport(ConaryDatabase)" \
    "    import ConaryDatabase" \
    "#endif" \
    "@_spi(Private) @preconcurrency import conary_bench" \
    "import Foundation; import ConaryDeploy" \
    "import func ConaryFormats.read"
run
expect "every import form is caught" 1 \
    "Forms.swift:1: ConaryStore (level 2) imports ConaryDeploy (level 6): upward import" \
    "Forms.swift:2: ConaryStore (level 2) imports ConaryDeploy (level 6): upward import" \
    "Forms.swift:3: ConaryStore (level 2) imports ConaryBoot (level 5): upward import" \
    "Forms.swift:4: ConaryStore (level 2) imports ConaryOperations (level 7): upward import" \
    "Forms.swift:5: ConaryStore (level 2) imports ConaryFormats (level 4): upward import" \
    "Forms.swift:6: ConaryStore (level 2) imports ConaryVFS (level 4): upward import" \
    "Forms.swift:7: ConaryStore (level 2) imports ConaryResolve (level 4): upward import" \
    "Forms.swift:9: ConaryStore (level 2) imports ConaryDatabase (level 3): upward import" \
    "Forms.swift:11: ConaryStore (level 2) imports conary-bench (level 8): upward import" \
    "Forms.swift:12: ConaryStore (level 2) imports ConaryDeploy (level 6): upward import" \
    "Forms.swift:13: ConaryStore (level 2) imports ConaryFormats (level 4): upward import"
[ "$(grep -c '^check-layers: Sources' <<<"$out")" -eq 11 ] && pass "every import form: 11 lines" || fail "every import form: 11 lines"

new_tree
cat > "$tree/Sources/ConaryStore/Quiet.swift" <<'EOF'
import Foundation
// import ConaryDeploy
    // import ConaryDeploy
/* import ConaryDeploy
import ConaryDeploy
   /* nested: import ConaryDeploy */
import ConaryDeploy
*/
let sql = """
import ConaryDeploy
    import GRDB
"""
let raw = #"""
import ConaryDeploy "quoted" \(not) """ still inside
"""#
let one = "import ConaryDeploy // /* not a comment"
let interpolated = "\(one.isEmpty ? "/*" : "x")"
import ConaryModel /* trailing */ // import ConaryDeploy
let path = "a\"b"; let x = 1
EOF
run
expect "imports in comments and strings do not count" 0 "no upward import"

new_tree
source_file "$tree" ConaryStore After.swift \
    'let s = """' 'import GRDB' '"""' 'import ConaryDeploy' '/* a */ import ConaryBoot'
run
expect "an import right after a string or comment counts" 1 \
    "After.swift:4: ConaryStore (level 2) imports ConaryDeploy (level 6): upward import" \
    "After.swift:5: ConaryStore (level 2) imports ConaryBoot (level 5): upward import"
expect_absent "the string's content is not an import" "After.swift:2"

new_tree
source_file "$tree" ConaryImport TreeImporter.swift "import Foundation"
run
expect "an unknown target folder fails" 1 \
    "check-layers: Sources/ConaryImport: target ConaryImport is not in the layer table: add it to the layer table"

new_tree
source_file "$tree" ConaryStore Native.swift "import CArchive" "import Zlib"
run
expect "modules not listed for a target fail" 1 \
    "Native.swift:1: ConaryStore (level 2) imports CArchive: not allowed" \
    "Native.swift:2: ConaryStore (level 2) imports Zlib: not allowed (unknown module: add it to the layer table)"

new_tree
sed -i 's/.target(name: "ConaryDeploy", dependencies: \["ConaryBoot", "ConaryStore"\]),/.target(name: "ConaryDeploy", dependencies: ["ConaryBoot", "ConaryStore", "ConaryOperations", .product(name: "GRDB", package: "GRDB.swift")]),/' \
    "$tree/Package.swift"
run
expect "Package.swift: an upward dependency and GRDB fail, and the cycle is reported" 1 \
    "check-layers: Package.swift:38: ConaryDeploy (level 6) depends on ConaryOperations (level 7): upward dependency" \
    "check-layers: Package.swift:38: ConaryDeploy (level 6) depends on GRDB: GRDB outside ConaryDatabase" \
    "dependency cycle: ConaryDeploy -> ConaryOperations -> ConaryDeploy"

new_tree
sed -i 's/.target(name: "ConaryVFS", dependencies: \["ConaryModel", "ConarySupport"\]),/.target(name: "ConaryVFS", dependencies: ["ConaryModel", "ConarySupport"]),\n        .target(name: "ConaryCore", dependencies: ["ConaryModel"]),/' \
    "$tree/Package.swift"
run
expect "Package.swift: an undeclared-in-table target fails" 1 \
    "check-layers: Package.swift:37: target ConaryCore is not in the layer table: add it to the layer table"

new_tree
# Cycle among targets the table does not judge (tests, C modules): the graph check alone finds it.
sed -i 's/.target(name: "CLinux"),/.target(name: "CLinux", dependencies: ["CLinux"]),/' "$tree/Package.swift"
run
expect "Package.swift: a cycle outside the layers is still reported" 1 \
    "check-layers: Package.swift:12: dependency cycle: CLinux -> CLinux"

new_tree
rm "$tree/Package.swift"
run
expect "no Package.swift: imports alone are checked" 0 "no upward import" "only imports are checked"

new_tree
out=$(python3 "$checker" --root "$tree/nowhere" 2>&1); rc=$?
expect "a root without Sources is a usage error" 2 "no Sources folder"

new_tree
cp "$checker" "$work/edited-check-layers.py"
sed -i 's/"ConaryOperations": dict(level=7),/"ConaryOperations": dict(level=7, extra={"GRDB"}),/' "$work/edited-check-layers.py"
out=$(python3 "$work/edited-check-layers.py" --root "$tree" 2>&1); rc=$?
expect "a layer table that gives GRDB to another target is refused" 2 \
    "layer table: ConaryOperations: only ConaryDatabase may import GRDB"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
