#!/usr/bin/env bash
# The VM boot test: a real Debian system (debootstrap, Debian's kernel and dracut) imported into
# Conary as troves, so it lives in states, booted under qemu:
#   1. direct kernel boot of the default entry: state 2, its marker, /usr the live tree, read-only;
#   2. fs-verity: in the same system, the host's conary imports packages onto ext4 with and
#      without the verity feature; objects are sealed on the first, root cannot write through
#      a live file there, and the time sealing took in the kernel is printed;
#   3. rollback: the default entry boots state 1; state 2's entry boots its archived tree;
#   4. UEFI (OVMF) and systemd-boot from a FAT ESP: a broken state 3 is the default with two
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
# PID 1 of the fs-verity boot: the machine's, outside the states.
install -D -m 0755 "$here/Tests/VM/verity-check.sh" "$root/opt/conary-vmtest/verity-check"
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
# in seconds (default 180); $4, if given, replaces the entry's init; more arguments are more
# qemu options (disks). Prints the first marker line.
boot_direct() {
    local file kernel initrd options start
    file=$(entry_of "$1") || fail "state $1 has no boot entry."
    kernel=$root/boot$(entry_field "$file" linux)
    initrd=$root/boot$(entry_field "$file" initrd)
    options=$(entry_field "$file" options)
    [ -z "${4:-}" ] || options=$(sed "s|init=[^ ]*|init=$4|" <<< "$options")
    [ -f "$initrd" ] || fail "the entry of state $1 names no initramfs ($file)."
    [ -f "$work/vmlinux" ] || vmlinux "$kernel" "$work/vmlinux"
    start=$(now)
    timeout "${3:-180}" qemu-system-x86_64 -accel "$accel" -m 1024 -smp 1 -nographic -no-reboot -nic none \
        -kernel "$work/vmlinux" -initrd "$initrd" -append "$options" \
        -drive "file=$work/disk.img,if=virtio,format=raw,snapshot=on" "${@:5}" < /dev/null > "$out/$2.log" 2>&1 || true
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

step "Boot 2: fs-verity seals the objects of a store on ext4 -O verity (Debian's kernel has it)"
# vdb: this conary with its libraries and loader (the guest's glibc does not matter), coreutils
# and its dependencies, and room for a root on ext4 without verity; vdc: empty ext4 -O verity.
payload=$work/payload
mkdir -p "$payload/conary/bin" "$payload/conary/lib" "$payload/debs"
cp "$conary" "$payload/conary/bin/conary"
for library in $(ldd "$conary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }'); do
    cp -L "$library" "$payload/conary/lib/"
done
[ -f "$payload/conary/lib/ld-linux-x86-64.so.2" ] || fail "ldd named no ld-linux-x86-64.so.2 for $conary."
for name in coreutils libacl1 libattr1 libc6 libgcc-s1 gcc-12-base libgmp10 libselinux1 libpcre2-8-0 libssl3; do
    cp "$cache/base/debs/${name}_"*.deb "$payload/debs/"
done
# 4096-byte blocks on both: Linux before 6.3 (Debian 12 has 6.1) mounts ext4 -O verity only
# when its block is the page size, and mkfs.ext4 picks 1024 for a filesystem this small.
mkfs.ext4 -q -F -b 4096 -L plain -d "$payload" "$work/plain.img" 1G > /dev/null
mkfs.ext4 -q -F -b 4096 -L sealed -O verity "$work/sealed.img" 512M > /dev/null
boot_direct 2 boot-verity 400 /opt/conary-vmtest/verity-check \
    -drive "file=$work/plain.img,if=virtio,format=raw" -drive "file=$work/sealed.img,if=virtio,format=raw" > /dev/null
verity() { grep -a -o "CONARY-VMTEST-VERITY $1.*" "$out/boot-verity.log" | tr -d '\r' | sed -n 1p || true; }
failed=$(verity failed:)
[ -z "$failed" ] || fail "the fs-verity boot ${failed#CONARY-VMTEST-VERITY } (boot-verity.log)."
[ -n "$(verity done)" ] || fail "the fs-verity boot did not finish (boot-verity.log)."
expect "$(verity kernel=)" 'ext4-verity=yes' "Debian's kernel has fs-verity for ext4"
expect "$(verity 'sealed ')" '^CONARY-VMTEST-VERITY sealed objects=([1-9][0-9]*) sealed=([1-9][0-9]*) mtime-not-0=0 verify=ok fsck=ok cannot-seal=0 live-write=Operation not permitted object-write=Operation not permitted object-grew=0$' \
    "on ext4 -O verity objects are sealed with mtime 0, verify and fsck --full (verity digests) pass, and root cannot write through a live file or to an object"
objects=${BASH_REMATCH[1]}
[ "${BASH_REMATCH[2]}" = "$objects" ] || fail "only ${BASH_REMATCH[2]} of $objects objects are sealed."
expect "$(verity 'plain ')" '^CONARY-VMTEST-VERITY plain objects=[1-9][0-9]* sealed=0 mtime-not-0=0 verify=ok fsck=ok cannot-seal=1 live-write=allowed object-write=allowed object-grew=2$' \
    "without the verity feature nothing is sealed (fsck says so, once), and a write through the live file changes the object"
expect "$(verity 'repair ')" '^CONARY-VMTEST-VERITY repair objects=([1-9][0-9]*) unsealed=([1-9][0-9]*) sealed-by-repair=([1-9][0-9]*) sealed-after=([1-9][0-9]*) mtime-not-0=0 fsck-full=ok$' \
    "a store copied unsealed onto the verity filesystem: fsck counts its unsealed objects and fsck --repair seals them all"
[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[2]}" = "${BASH_REMATCH[3]}" ] && [ "${BASH_REMATCH[3]}" = "${BASH_REMATCH[4]}" ] ||
    fail "fsck --repair sealed ${BASH_REMATCH[3]} of ${BASH_REMATCH[2]} unsealed objects (${BASH_REMATCH[4]} of ${BASH_REMATCH[1]} sealed after)."
# The digests recorded at import against the fs-verity digest of each object's content,
# computed here (SHA-256 Merkle tree over 4096-byte blocks, no salt): the kernel sealed the
# content Conary imported, and the database holds what the kernel measured.
debugfs -R "rdump /root/conary $work" "$work/sealed.img" > /dev/null 2>&1 || fail "debugfs could not read the sealed store back."
python3 - "$work/conary" <<'EOF' || fail "the recorded verity digests do not match the objects (above)."
import hashlib, sqlite3, struct, sys
store = sys.argv[1]

def verity_digest(data, block=4096):
    root = bytes(32)  # an empty file's
    level = [data[i:i + block] for i in range(0, len(data), block)]
    while level:
        hashes = b"".join(hashlib.sha256(chunk.ljust(block, b"\0")).digest() for chunk in level)
        if len(hashes) == 32:
            root = hashes
            break
        level = [hashes[i:i + block] for i in range(0, len(hashes), block)]
    descriptor = struct.pack("<BBBBIQ", 1, 1, 12, 0, 0, len(data)) + root.ljust(64, b"\0") + bytes(32 + 144)
    return hashlib.sha256(descriptor).hexdigest()

rows = sqlite3.connect(store + "/conary.db").execute("SELECT id, verityDigest FROM objects").fetchall()
bad = [i for i, recorded in rows if recorded != verity_digest(open(f"{store}/objects/{i[:2]}/{i[2:]}", "rb").read())]
for i in bad[:5]:
    print(f"   object {i}: its recorded verity digest is not its content's")
print(f"   {'ok' if rows and not bad else 'FAILED'}: {len(rows) - len(bad)} of {len(rows)} objects have their content's verity digest recorded")
sys.exit(1 if bad or not rows else 0)
EOF
# The guest timed each FS_IOC_ENABLE_VERITY of the sealed import with the kernel's tracer.
import=$(verity import)
echo "   ${import#CONARY-VMTEST-VERITY }"
[[ "$import" =~ objects=([0-9]+)\ .*\ plain=([0-9]+)ms\ sealed=([0-9]+)ms\ sealing=([0-9]+)ms\ seals=([0-9]+)$ ]] ||
    fail "the fs-verity boot reported no import times ($import)."
imported=${BASH_REMATCH[1]} plain=${BASH_REMATCH[2]} sealed=${BASH_REMATCH[3]} sealing=${BASH_REMATCH[4]} seals=${BASH_REMATCH[5]}
[ "$seals" = "$imported" ] || fail "the sealed import enabled fs-verity $seals times for $imported objects."
echo "   ok: the sealed import sealed each of its $imported objects once"
echo "   the import cost of sealing under $accel: $sealing ms in the kernel, $(( sealing * 100 / (sealed - sealing) ))% on top of" \
    "the rest of that import ($(( sealed - sealing )) ms); the import without sealing took $plain ms"

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
