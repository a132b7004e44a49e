#!/usr/bin/env bash
# Builds the resolver's rpm test set with Debian's rpmbuild into OUT_DIR: rpm-lib 1.0 and
# 1.1, and rpm-app with its subpackages rpm-helper and rpm-app-legacy.
# Usage: Tests/Fixtures/make-rpm-dependency-set.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
mkdir -p "$out"
for version in 1.0 1.1; do
    rpmbuild --quiet --define "_topdir $top" --define "libver $version" -bb "$here/rpm/resolver-lib.spec" > /dev/null 2>&1
done
rpmbuild --quiet --define "_topdir $top" -bb "$here/rpm/resolver-tools.spec" > /dev/null 2>&1
mv "$top"/RPMS/*/*.rpm "$out"/
ls "$out"/*.rpm
