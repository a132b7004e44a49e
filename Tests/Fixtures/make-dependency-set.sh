#!/usr/bin/env bash
# Builds the resolver's test package set with dpkg-deb into OUT_DIR: several versions of a
# library (one a ~ pre-release), a diamond, a virtual package with two providers that
# conflict with each other, a Conflicts+Replaces takeover, a plain conflict, a cycle, and
# requirements nothing can meet. Tests/ConaryIntegrationTests/DependencyResolutionTests.swift
# documents what each is for.
# Usage: Tests/Fixtures/make-dependency-set.sh OUT_DIR
set -euo pipefail
out=$1
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# deb_for ARCH NAME VERSION [Field: value]...: a package built for ARCH.
deb_for() {
    local arch=$1 name=$2 version=$3
    shift 3
    local dir="$work/$name-$version-$arch"
    mkdir -p "$dir/DEBIAN" "$dir/usr/share/$name"
    {
        echo "Package: $name"
        echo "Version: $version"
        echo "Architecture: $arch"
        echo "Maintainer: Conary tests <tests@conary.invalid>"
        for field in "$@"; do echo "$field"; done
        echo "Description: $name $version for the resolver tests"
    } > "$dir/DEBIAN/control"
    echo "$name $version" > "$dir/usr/share/$name/VERSION"
    dpkg-deb --root-owner-group -Zgzip --build "$dir" "$out/${name}_${version}_${arch}.deb" > /dev/null
}

# deb NAME VERSION [Field: value]...: an architecture-independent package.
deb() { deb_for all "$@"; }

deb libcore 1.0-1
deb libcore 1.5-1
deb liba 1.0-1 "Depends: libcore (>= 1.0)"
deb liba 2.0-1 "Depends: libcore (>= 1.0)"
deb liba 3.0~beta1-1 "Depends: libcore (>= 1.5)"
deb libb 1.0-1 "Depends: libcore"
deb app 1.0-1 "Depends: liba (>= 1.0), libb"
deb app 2.0-1 "Depends: liba (>= 2.0), libb, mail-transport-agent"
deb postfix-lite 1.0-1 "Provides: mail-transport-agent" "Conflicts: mail-transport-agent"
deb exim-lite 1.0-1 "Provides: mail-transport-agent" "Conflicts: mail-transport-agent"
deb oldtool 1.0-1
deb newtool 1.0-1 "Conflicts: oldtool" "Replaces: oldtool"
deb rival 1.0-1 "Conflicts: app (>= 2.0)"
deb cyc-a 1.0-1 "Depends: cyc-b"
deb cyc-b 1.0-1 "Depends: cyc-a (= 1.0-1)"
deb broken-app 1.0-1 "Depends: libmissing (>= 1)"
deb needs-new-core 1.0-1 "Depends: libcore (>= 2.0)"
deb needs-core15 1.0-1 "Depends: libcore (>= 1.5)"
# Multilib pairs as libc6-i386 and libc6-x32 ship them: each conflicts only with the other
# built for its own architecture.
deb lib32-like 1.0-1 "Conflicts: libx32-like:i386"
deb libx32-like 1.0-1 "Conflicts: lib32-like:x32"
deb any-user 1.0-1 "Depends: libcore:any (>= 1.5)"
# Requirements on one architecture's build, met by the package built for it (by its name or
# a provide) and by no other architecture's build.
deb_for amd64 archlib 1.0-1 "Provides: archlib-api"
deb_for i386 i386lib 1.0-1
deb arch-user 1.0-1 "Depends: archlib:amd64 (>= 1.0), archlib-api:amd64, i386lib:i386"
deb wrong-arch-user 1.0-1 "Depends: archlib:i386"
ls "$out"/*.deb
