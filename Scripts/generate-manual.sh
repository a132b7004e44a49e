#!/usr/bin/env bash
# Scripts/generate-manual.sh BINARY DIR: writes DIR/conary.1, the man page of the conary
# binary BINARY, with swift-argument-parser's own generator: the generate-manual tool that
# `swift package generate-manual` (its command plugin) runs, which reads the binary's
# --experimental-dump-help. The tool is built here from the resolved swift-argument-parser
# checkout, in its own scratch directory (.build/generate-manual), for two reasons: the
# plugin builds every product of the package itself (in release mode) rather than taking the
# binary to install, and it needs .build, which a running `swift test` holds.
# The page's date is SOURCE_DATE_EPOCH's, else the last commit's, so it does not change
# from one build to the next.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 BINARY DIR" >&2; exit 2; }
binary=$1 out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
parser=${ARGUMENT_PARSER_DIR:-$here/.build/checkouts/swift-argument-parser}
[ -f "$parser/Package.swift" ] || swift package --package-path "$here" resolve
scratch=$here/.build/generate-manual
swift build --quiet --package-path "$parser" --scratch-path "$scratch" --product generate-manual
tool=$(swift build --package-path "$parser" --scratch-path "$scratch" --show-bin-path)/generate-manual
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}
mkdir -p "$out"
"$tool" "$binary" --date "$(date -u -d "@$epoch" +%Y-%m-%d)" --output-directory "$out"
