#!/usr/bin/env bash
# The VM boot test: a real Debian system (debootstrap, Debian's kernel and dracut) imported into
# Conary as troves, so it lives in states, booted under qemu:
#   1. direct kernel boot of the default entry: state 2, its marker, /usr the live tree, read-only;
#   2. rollback: the default entry boots state 1; state 2's entry boots its archived tree;
#   3. UEFI (OVMF) and systemd-boot from a FAT ESP: a broken state 3 is the default with two
#      tries; it fails both, and systemd-boot falls back to state 2 by itself.
# Console logs and the disk's boot entries are kept in $CONARY_VM_OUT (.build/vm-test).
# Usage: Tests/VM/run.sh [CONARY_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
conary=${1:-$here/.build/debug/conary}
cache=${CONARY_VM_CACHE:-/var/cache/conary-vmtest}
out=${CONARY_VM_OUT:-$here/.build/vm-test}
firmware=/usr/share/OVMF
sdboot=/usr/lib/systemd/boot/efi/systemd-bootx64.efi

skip() {
    printf '\n\033[1;33mSKIPPED: the VM boot test cannot run here: %s\033[0m\n\n' "$*"
    exit 0
}
fail() {
    printf '\n\033[1;31mVM TEST FAILED: %s\033[0m\n' "$*" >&2
    exit 1
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
now() { date +%s%N; }
since() { local ms=$(( ($(now) - $1) / 1000000 )); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

[ "$(id -u)" = 0 ] || skip "it needs root (debootstrap, chroot, mount namespaces)."
for tool in debootstrap qemu-system-x86_64 mkfs.ext4 mkfs.fat mcopy mdir unshare python3 dpkg-deb; do
    command -v "$tool" > /dev/null || skip "$tool is missing (make vm-test installs it with Scripts/install-deps.sh --vm)."
done
[ -f "$firmware/OVMF_CODE_4M.fd" ] || skip "Debian's ovmf firmware is missing ($firmware/OVMF_CODE_4M.fd)."
[ -f "$sdboot" ] || skip "Debian's systemd-boot-efi is missing ($sdboot)."
[ -x "$conary" ] || fail "no conary binary at $conary (swift build --product conary)."

rm -rf --one-file-system "$out"
mkdir -p "$out"
work=$out/work
root=$work/root
mkdir -p "$work"

step "A Debian bookworm system with Debian's kernel and dracut (cached in $cache)"
start=$(now)
"$here/Tests/VM/build-base.sh" "$cache/base"
base=$cache/base/root
echo "   $(ls "$cache/base/debs" | wc -l) packages ($(since "$start") s)"

step "The machine around the states: debootstrap's /etc and /var, an empty /boot with loader/entries"
mkdir -p "$root"
cp -a "$base/etc" "$base/var" "$root/"
for dir in proc sys dev run tmp home root mnt opt srv media boot/loader/entries; do mkdir -p "$root/$dir"; done
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
printf 'timeout 0\neditor no\n' > "$root/boot/loader/loader.conf"
# The initramfs: a small, generic one (dracut's shell init) with Conary's module; drivers for qemu's virtio disks.
mkdir -p "$root/etc/dracut.conf.d"
cat > "$root/etc/dracut.conf.d/90-vmtest.conf" <<'EOF'
hostonly="no"
dracutmodules=" dash base rootfs-block fs-lib conary "
drivers=" virtio_pci virtio_blk ext4 "
compress="zstd"
EOF

step "Troves: the system's packages, Conary's dracut module, and marker packages 1, 2 and a broken 3"
packages=$work/packages
mkdir -p "$packages/conary-boot/usr/lib/dracut/modules.d" "$packages/conary-boot/usr/lib/systemd/system"
cp -r "$here/dracut/90conary" "$packages/conary-boot/usr/lib/dracut/modules.d/"
cp "$here/boot/conary-boot-good.service" "$packages/conary-boot/usr/lib/systemd/system/"
for version in 1 2 3; do
    tree=$packages/marker-$version
    mkdir -p "$tree/DEBIAN" "$tree/usr/share/conary-vmtest" "$tree/usr/lib/conary-vmtest"
    printf 'Package: conary-vmtest-marker\nVersion: %s\nArchitecture: all\nMaintainer: Conary <conary@localhost>\nDescription: Which state booted (Conary VM test)\n' \
        "$version" > "$tree/DEBIAN/control"
    echo "$version" > "$tree/usr/share/conary-vmtest/marker"
    # PID 1 of every test boot: reports the state on /usr and powers off; version 3 is broken
    # (PID 1 exits, the kernel panics, panic=1 reboots: the boot loader counts a failed try).
    if [ "$version" = 3 ]; then
        printf '#!/bin/sh\necho "CONARY-VMTEST broken state $(cat /usr/.conary-state)"\nexit 1\n' > "$tree/usr/lib/conary-vmtest/check"
    else
        cat > "$tree/usr/lib/conary-vmtest/check" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
echo "CONARY-VMTEST marker=$(cat /usr/share/conary-vmtest/marker) state=$(cat /usr/.conary-state) usr=$(grep ' /usr ' /proc/self/mountinfo | cut -d' ' -f4,6)"
echo o > /proc/sysrq-trigger
sleep 60
EOF
    fi
    chmod 0755 "$tree/usr/lib/conary-vmtest/check"
    dpkg-deb --root-owner-group -Zgzip --build "$tree" "$packages/marker-$version.deb" > /dev/null
done

c() { "$conary" --root "$root" "$@"; }
start=$(now)
c import "$cache/base/debs"/*.deb > "$out/import.log"
c commit "$packages/conary-boot" --name conary-boot --version 1 > /dev/null
c import "$packages"/marker-{1,2}.deb > /dev/null
echo "   imported $(ls "$cache/base/debs" | wc -l) packages and 3 troves ($(since "$start") s)"
echo "root=/dev/vda ro console=ttyS0 panic=1 rd.shell=0 rd.emergency=poweroff rd.skipfsck init=/usr/lib/conary-vmtest/check" \
    > "$root/conary/kernel-options"
echo 2 > "$root/conary/boot-tries"

mapfile -t names < <(for deb in "$cache/base/debs"/*.deb; do dpkg-deb -f "$deb" Package; done)
start=$(now)
c install "${names[@]}" conary-boot conary-vmtest-marker=1
echo "   state 1 with its initramfs in $(since "$start") s"
start=$(now)
c update conary-vmtest-marker
echo "   state 2 with its initramfs in $(since "$start") s"
c boot list

# The default entry's kernel, initramfs and options, as a boot loader reads them.
entry_field() { sed -n "s/^$2 //p" "$root/boot/loader/entries/$1"; }
entry_of() { (cd "$root/boot/loader/entries" && ls | grep -E "^conary-$1(\+[0-9-]+)?\.conf$"); }

# The PVH-bootable ELF inside Debian's xz-compressed vmlinuz: qemu -kernel skips ~3 s of decompression under TCG.
vmlinux() {
    python3 - "$1" "$2" <<'EOF'
import lzma, sys
data = open(sys.argv[1], "rb").read()
start = data.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit("no xz stream in " + sys.argv[1])
decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
open(sys.argv[2], "wb").write(decompressor.decompress(data[start:]))
EOF
}

make_disk() {
    local start; start=$(now)
    rm -f "$work/disk.img"
    mkfs.ext4 -q -F -L conary-vm -d "$root" "$work/disk.img" 3G > /dev/null
    echo "   disk image in $(since "$start") s ($(du -m "$work/disk.img" | cut -f1) MB allocated)"
}

# Direct kernel boot of the entry of state $1; $2 names the console log, $3 is the time limit
# in seconds (default 180). Prints the marker line.
boot_direct() {
    local file kernel initrd options start
    file=$(entry_of "$1") || fail "state $1 has no boot entry."
    kernel=$root/boot$(entry_field "$file" linux)
    initrd=$root/boot$(entry_field "$file" initrd)
    options=$(entry_field "$file" options)
    [ -f "$initrd" ] || fail "the entry of state $1 names no initramfs ($file)."
    [ -f "$work/vmlinux" ] || vmlinux "$kernel" "$work/vmlinux"
    start=$(now)
    timeout "${3:-180}" qemu-system-x86_64 -accel "$accel" -m 1024 -smp 1 -nographic -no-reboot -nic none \
        -kernel "$work/vmlinux" -initrd "$initrd" -append "$options" \
        -drive "file=$work/disk.img,if=virtio,format=raw,snapshot=on" < /dev/null > "$out/$2.log" 2>&1 || true
    echo "   $2: $(since "$start") s with $accel, qemu start to power-off" >&2
    grep -a -o 'CONARY-VMTEST.*' "$out/$2.log" | tr -d '\r' | head -1
}

expect() {
    # $1 what was seen, $2 the pattern it must match, $3 what that means.
    if [[ "$1" =~ $2 ]]; then echo "   ok: $3 ($1)"; else fail "$3: expected /$2/, got '${1:-nothing}' (see the console logs in $out)"; fi
}

# KVM first; this host's kvm_pvm runs no stock kernel (../shared/notes/vm-boot-feasibility.txt:
# the guest hangs), so one short boot decides.
choose_accelerator() {
    accel=tcg
    [ -c /dev/kvm ] || { echo "   no /dev/kvm: TCG"; return; }
    accel=kvm
    if [[ "$(boot_direct 2 kvm-probe 20)" == CONARY-VMTEST* ]]; then
        echo "   KVM boots Debian's kernel here: using KVM"
    else
        accel=tcg
        echo "   KVM did not boot Debian's kernel within 20 s (kvm-probe.log): using TCG"
    fi
}

step "Boot 1: the default entry (state 2, live), direct kernel boot"
make_disk
choose_accelerator
expect "$(boot_direct 2 boot-state2)" '^CONARY-VMTEST marker=2 state=2 usr=/usr ro' "state 2 booted with the live /usr read-only"

step "Roll back to state 1: its entry is the default; state 2's entry boots the archived tree"
c rollback
c boot list
make_disk
expect "$(boot_direct 1 boot-state1)" '^CONARY-VMTEST marker=1 state=1 usr=/usr ro' "state 1 booted after the rollback"
expect "$(boot_direct 2 boot-state2-archived)" '^CONARY-VMTEST marker=2 state=2 usr=/conary/states/2/usr ro' "the archived state 2 booted"
grep -a -q 'conary: booting state 2, /usr read-only' "$out/boot-state2-archived.log" || fail "the dracut module did not announce state 2."

step "A broken state 3 (its PID 1 fails) as the default, booted by UEFI firmware and systemd-boot"
# State 3's initramfs runs systemd (dracut-systemd), so the hook is seen under both inits.
sed -i 's/^dracutmodules=.*/dracutmodules=" systemd-initrd dracut-systemd rootfs-block base fs-lib conary "/' \
    "$root/etc/dracut.conf.d/90-vmtest.conf"
c state activate 2
c import "$packages/marker-3.deb" > /dev/null
c update conary-vmtest-marker
c boot list
make_disk
esp=$work/esp.img
rm -f "$esp"
mkfs.fat -F 32 -n ESP -C "$esp" $((128 * 1024)) > /dev/null
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$sdboot" ::/EFI/BOOT/BOOTX64.EFI
mcopy -s -i "$esp" "$root/boot/loader" "$root/boot/conary" ::/
cp "$firmware/OVMF_VARS_4M.fd" "$work/vars.fd"
start=$(now)
timeout 600 qemu-system-x86_64 -accel "$accel" -machine q35 -m 1024 -smp 1 -nographic -nic none \
    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$firmware/OVMF_CODE_4M.fd" \
    -drive "if=pflash,format=raw,unit=1,file=$work/vars.fd" \
    -drive "file=$work/disk.img,if=virtio,format=raw,snapshot=on" \
    -drive "file=$esp,if=virtio,format=raw" < /dev/null > "$out/boot-uefi-fallback.log" 2>&1 || true
echo "   UEFI run: $(since "$start") s with $accel, first power-on to power-off (three boots)"
mdir -b -i "$esp" ::/loader/entries | sed 's|.*/||' | sort > "$out/esp-entries.txt"
sed 's/^/   ESP entry: /' "$out/esp-entries.txt"
tries=$(grep -a -c 'CONARY-VMTEST broken state 3' "$out/boot-uefi-fallback.log" || true)
[ "$tries" = 2 ] || fail "the broken state 3 should have booted twice (its two tries), it booted $tries times."
echo "   ok: the broken state 3 used up its 2 tries"
grep -a -q 'Running in initrd' "$out/boot-uefi-fallback.log" && grep -a -q 'conary: booting state 3 (live), /usr read-only' "$out/boot-uefi-fallback.log" ||
    fail "state 3's systemd initramfs did not run the dracut module."
echo "   ok: the dracut module mounted state 3 from a systemd initramfs"
grep -q '^conary-3+0-2.conf$' "$out/esp-entries.txt" || fail "systemd-boot did not count state 3's tries down to conary-3+0-2.conf."
echo "   ok: systemd-boot renamed state 3's entry to conary-3+0-2.conf"
expect "$(grep -a -o 'CONARY-VMTEST marker.*' "$out/boot-uefi-fallback.log" | tr -d '\r' | head -1)" \
    '^CONARY-VMTEST marker=2 state=2 usr=/conary/states/2/usr ro' "systemd-boot fell back to state 2"

printf '\n\033[1;32mVM TEST PASSED\033[0m (console logs in %s)\n' "$out"
