#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need, if any is missing;
# with --vm, what the VM boot test needs (Tests/VM/run.sh), without qemu's long list of
# recommended packages.
set -euo pipefail
if [ "${1:-}" = --vm ]; then
    packages=(debootstrap qemu-system-x86 ovmf systemd-boot-efi mtools dosfstools e2fsprogs util-linux python3)
    options=(--no-install-recommends)
else
    packages=(libsqlite3-dev libarchive-dev libsodium-dev libsolv-dev pkg-config apt-utils dpkg coreutils python3 makepkg fakeroot libarchive-tools rpm pacman-package-manager man-db)
    options=()
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
    [ "$(id -u)" = 0 ] || { echo "install-deps: run as root to install ${missing[*]}" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${options[@]}" "${missing[@]}"
fi
