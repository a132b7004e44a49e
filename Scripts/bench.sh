#!/usr/bin/env bash
# Builds release binaries and runs conary-bench on a 50,000-file tree and on the
# 159-package Debian corpus of the tests (as root).
# Installs ostree for the baseline when it is missing. Usage: Scripts/bench.sh [FILES]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v ostree >/dev/null; then
    apt-get install -y -qq ostree >/dev/null || { apt-get update -qq && apt-get install -y -qq ostree >/dev/null; }
fi
cd "$here"
swift build -c release --product conary
swift build -c release --product conary-bench
mapfile -t corpus < <(Scripts/fetch-debs.sh "$here/fixtures-cache/corpus" $(cat Tests/Fixtures/debian-corpus.txt))
.build/release/conary-bench "$here/bench-work" "${1:-50000}" "${corpus[@]}"
rm -rf "$here/bench-work"
