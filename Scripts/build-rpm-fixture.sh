#!/usr/bin/env bash
# Builds the test RPM (Tests/Fixtures/rpm/conary-hello.spec) with Debian's rpmbuild into
# OUT_DIR, its payload compressed with COMPRESSOR (gzip, xz or zstd).
# Usage: Scripts/build-rpm-fixture.sh OUT_DIR [COMPRESSOR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$1
case ${2:-gzip} in
    gzip) payload=w9.gzdio ;;
    xz) payload=w6.xzdio ;;
    zstd) payload=w19.zstdio ;;
    *) echo "build-rpm-fixture: unknown compressor $2" >&2; exit 2 ;;
esac
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
rpmbuild --quiet --define "_topdir $top" --define "_binary_payload $payload" \
    -bb "$here/Tests/Fixtures/rpm/conary-hello.spec" >/dev/null 2>&1
mkdir -p "$out"
for rpm in "$top"/RPMS/*/*.rpm; do
    target="$out/$(basename "$rpm" .rpm).${2:-gzip}.rpm"
    mv "$rpm" "$target"
    echo "$target"
done
