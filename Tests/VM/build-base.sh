#!/usr/bin/env bash
# Builds (once) the Debian system the VM test imports into Conary: a debootstrap minbase with
# systemd, udev, Debian's kernel and dracut, plus every installed package's .deb, so the test
# can turn the system into Conary troves. Cached in $1 (default /var/cache/conary-vmtest/base):
# the tree is rebuilt only when this script changes.
# Usage: Tests/VM/build-base.sh [CACHE_DIR]
set -euo pipefail
cache=${1:-/var/cache/conary-vmtest/base}
mirror=${CONARY_VM_MIRROR:-http://deb.debian.org/debian}
stamp=$(sha256sum "$0" | cut -c1-16)
if [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "build-base: using the cached system in $cache"
    exit 0
fi

root=$cache/root
# A run that was killed may have left proc, sys and dev mounted in the tree: rm must never reach them.
for fs in proc sys dev; do umount -l "$root/$fs" 2>/dev/null || true; done
rm -rf --one-file-system "$cache"
mkdir -p "$cache"
mounted=()
cleanup() { for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "build-base: debootstrap bookworm into $root"
# dracut conflicts with initramfs-tools, which debootstrap would pick for the kernel, so the
# kernel and dracut come afterwards through apt.
debootstrap --variant=minbase --include=systemd-sysv,udev bookworm "$root" "$mirror" > "$cache/debootstrap.log"
for fs in proc sys dev; do
    mount --bind "/$fs" "$root/$fs"
    mounted=("$root/$fs" "${mounted[@]}")
done
# INITRD=No: the kernel's postinst would otherwise build a host-style initramfs; Conary builds one per state.
chroot "$root" env DEBIAN_FRONTEND=noninteractive INITRD=No \
    apt-get install -y -qq --no-install-recommends linux-image-amd64 dracut zstd > "$cache/apt.log"
# The .debs of everything installed, at the versions installed: what Conary imports.
mkdir -p "$root/tmp/debs"
chroot "$root" sh -c 'cd /tmp/debs && dpkg-query -W -f "\${db:Status-Status} \${Package}=\${Version}\n" |
    awk "\$1 == \"installed\" { print \$2 }" | xargs apt-get download -qq' >> "$cache/apt.log" 2>&1
mv "$root/tmp/debs" "$cache/debs"
chroot "$root" apt-get clean
cleanup
mounted=()
echo "$stamp" > "$cache/stamp"
echo "build-base: $(ls "$cache/debs" | wc -l) packages in $cache/debs"
