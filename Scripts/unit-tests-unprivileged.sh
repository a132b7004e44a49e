#!/usr/bin/env bash
# Runs the pure layers' tests (Tests/ConaryUnitTests: values, versions and flavors, the
# resolver, the VFS) as the unprivileged user nobody, from a private copy of the test bundle,
# with an empty environment and no Conary root or database anywhere: they must pass without
# root, SQLite or files of their own. Run after `swift build --build-tests`.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle="$(swift build --show-bin-path)/ConaryPackageTests.xctest"
[ -x "$bundle" ] || { echo "unit-tests-unprivileged: build the tests first (swift build --build-tests)" >&2; exit 1; }
# XCTest filters by class: every class of the ConaryUnitTests module.
classes=$("$bundle" --list-tests | sed -n 's|^\(ConaryUnitTests\.[A-Za-z]*\)/.*|\1|p' | sort -u | paste -sd, -)
[ -n "$classes" ] || { echo "unit-tests-unprivileged: the bundle has no ConaryUnitTests" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
    exec "$bundle" "$classes"
fi
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp "$bundle" "$copy/"
chmod 755 "$copy" "$copy/ConaryPackageTests.xctest"
cd "$copy"
echo "unit-tests-unprivileged: ConaryUnitTests as $(runuser -u nobody -- id -un) (uid $(id -u nobody)), no root, no database"
runuser -u nobody -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent \
    "$copy/ConaryPackageTests.xctest" "$classes"
