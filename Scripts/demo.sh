#!/usr/bin/env bash
# The main job: builds a demo system root from real Debian packages and walks it through
# install → add → update → rollback, printing the states, a diff and timings.
# Usage: Scripts/demo.sh [CONARY_BINARY] [DEMO_ROOT]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
conary=${1:-$here/.build/debug/conary}
demo=${2:-$here/demo-root}
cache=$here/fixtures-cache/debs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
now() { date +%s%N; }
run() {
    local start; start=$(now)
    echo "\$ conary $*"
    "$conary" --root "$demo" "$@"
    printf '   (%d ms)\n' $(( ($(now) - start) / 1000000 ))
}

step "Fetching real packages (cached in fixtures-cache/)"
mapfile -t debs < <("$here/Scripts/fetch-debs.sh" "$cache" busybox-static libc6 hello libgcc-s1 gcc-12-base)
printf '  %s\n' "${debs[@]##*/}"

step "Building a busybox root tree and two versions of an os-release tree"
busybox_deb=${debs[0]} libc6_deb=${debs[1]} hello_deb=${debs[2]} libgcc_deb=${debs[3]} gcc_base_deb=${debs[4]}
dpkg-deb -x "$busybox_deb" "$work/busybox"
# busybox-static ships only /bin/busybox; a busybox root also has its applet links.
for applet in sh ls cat echo uname; do ln -s busybox "$work/busybox/bin/$applet"; done
# Two versions of one trove: the OS identity, so an update and a rollback are visible.
for version in 1.0 1.1; do
    mkdir -p "$work/os-release-$version/usr/lib"
    printf 'NAME="Conary Demo"\nVERSION_ID=%s\n' "$version" > "$work/os-release-$version/usr/lib/os-release"
done

rm -rf "$demo"
mkdir -p "$demo"
total_start=$(now)

step "Committing the trees into the store"
run commit "$work/busybox" --name busybox-root --version "$(dpkg-deb -f "$busybox_deb" Version)"
run commit "$work/os-release-1.0" --name os-release --version 1.0
run commit "$work/os-release-1.1" --name os-release --version 1.1

step "Importing libc6 and what it needs into the store (as a package source would)"
run import "$libc6_deb" "$libgcc_deb" "$gcc_base_deb"

step "Install a base system: two trees and libc6; the resolver brings libc6's dependencies → state 1"
run install busybox-root os-release=1.0 libc6
step "Add hello straight from its .deb → state 2"
run install "$hello_deb"
step "Update os-release 1.0 → 1.1: the plan first, then the update → state 3"
run update --dry-run os-release
run update os-release
echo "   live: $(chroot "$demo" /bin/sh -c '. /usr/lib/os-release; echo "$NAME $VERSION_ID"; hello')"
step "Roll back → state 2"
run rollback
echo "   live: $(chroot "$demo" /bin/sh -c '. /usr/lib/os-release; echo "$NAME $VERSION_ID"')"

step "States, and why each trove is in state 2"
run state list
run state show 2
step "What changed from state 1 to state 3, and from state 2 to state 3 path by path"
run state diff 1 3
run state diff 2 3 --files
step "Verify the live tree against the database, and every object and kept tree (fsck --full)"
run verify
run fsck --full
printf '\nDemo root: %s (whole run %d ms after the build)\n' "$demo" $(( ($(now) - total_start) / 1000000 ))
