#!/bin/sh
# PID 1 of the VM test's fs-verity boot (Tests/VM/run.sh). The host's conary, bundled with its
# libraries and loader on the disk vdb, imports the same .debs into a root on vdb (ext4
# without the verity feature) and into one on vdc (ext4 -O verity), installs coreutils in
# both, and reports on the console, as CONARY-VMTEST-VERITY lines: how long the imports took,
# how many objects are sealed, what fsck says, what a write by root through a live /usr file
# does, and how fsck --repair seals a store copied onto the verity filesystem unsealed.
PATH=/usr/sbin:/usr/bin
say() { echo "CONARY-VMTEST-VERITY $*"; }
finish() {
    cd /
    umount /mnt/plain /mnt/sealed
    echo o > /proc/sysrq-trigger
    sleep 60
}
fail() { say "failed: $*"; finish; }
now() { date +%s%N; }
ms() { echo $(( ($(now) - $1) / 1000000 )); }
# The message of a failed open for appending, or "allowed".
append() { error=$( { printf x >> "$1"; } 2>&1 ) && echo allowed || echo "${error##*: }"; }

mount -t proc proc /proc
mount -t tmpfs -o mode=0755 mnt /mnt  # the root is read-only
mkdir /mnt/plain /mnt/sealed
mount /dev/vdb /mnt/plain && mount /dev/vdc /mnt/sealed || fail "mounting the test disks"
say "kernel=$(uname -r) ext4-verity=$([ -e /sys/fs/ext4/features/verity ] && echo yes || echo no)"
bundle=/mnt/plain/conary
conary() { "$bundle/lib/ld-linux-x86-64.so.2" --library-path "$bundle/lib" "$bundle/bin/conary" "$@"; }
# Both imports read the packages and the program from the page cache.
cat /mnt/plain/debs/*.deb "$bundle"/bin/* "$bundle"/lib/* > /dev/null
conary --version > /dev/null || fail "the bundled conary does not run"

# The kernel's function-graph tracer times every FS_IOC_ENABLE_VERITY of the sealed import:
# the cost of sealing as a share of that same import, which a busy host slows down alike.
# (Whole imports onto the two filesystems differ by about as much as a busy host moves them.)
tracing=/sys/kernel/tracing
[ -d "$tracing/options" ] || mount -t tracefs tracefs "$tracing" || fail "mounting tracefs"
# Only that function is patched (set_ftrace_filter), so the rest of the kernel runs as fast as ever.
echo fsverity_ioctl_enable > "$tracing/set_ftrace_filter" &&
    echo function_graph > "$tracing/current_tracer" || fail "tracing fsverity_ioctl_enable"
for fs in plain sealed; do
    mkdir "/mnt/$fs/root"
    start=$(now)
    conary --root "/mnt/$fs/root" import /mnt/plain/debs/*.deb > /dev/null || fail "importing onto $fs"
    eval "import_$fs=$(ms "$start")"
done
# mawk: Debian's awk, whose /usr/bin/awk link only maintainer scripts make.
sealing=$(grep 'fsverity_ioctl_enable();' "$tracing/trace" |
    mawk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "us") { sum += $i; count++ } } END { printf "sealing=%dms seals=%d", sum / 1000, count }')
echo nop > "$tracing/current_tracer"
# A store that moves onto a filesystem that can seal (copied, unsealed) is sealed by fsck --repair.
cp -a /mnt/plain/root /mnt/sealed/copied || fail "copying the plain root"
say "import packages=$(ls /mnt/plain/debs | wc -l) objects=$(find /mnt/sealed/root/conary/objects -type f | wc -l) bytes=$(du -sb /mnt/plain/root/conary/objects | cut -f1) plain=${import_plain}ms sealed=${import_sealed}ms $sealing"

for fs in plain sealed; do
    root=/mnt/$fs/root
    conary --root "$root" install coreutils > /dev/null || fail "installing onto $fs"
    objects=$(find "$root/conary/objects" -type f | wc -l)
    # lsattr's flags (the first field) show V on a sealed file.
    sealed=$(find "$root/conary/objects" -type f -exec lsattr {} + | cut -d' ' -f1 | grep -c V)
    # Objects keep mtime 0, which sealing on ext4 stamps anew.
    stamped=$(find "$root/conary/objects" -type f -exec stat -c %Y {} + | grep -vc '^0$')
    live=$root/usr/bin/ls
    object=$(find "$root/conary/objects" -type f -inum "$(stat -c %i "$live")")
    [ -n "$object" ] || fail "$live is no hardlink of an object"
    size=$(stat -c %s "$object")
    verify=$(conary --root "$root" verify > /dev/null 2>&1 && echo ok || echo failed)
    report=$(conary --root "$root" fsck --full 2>&1) && fsck=ok || fsck=failed
    # fsck says once when objects cannot be sealed.
    unsealable=$(echo "$report" | grep -c 'cannot seal')
    # Last, as on the plain filesystem it changes the object and the state that shares it.
    write=$(append "$live") object_write=$(append "$object")
    say "$fs objects=$objects sealed=$sealed mtime-not-0=$stamped verify=$verify fsck=$fsck cannot-seal=$unsealable live-write=$write object-write=$object_write object-grew=$(( $(stat -c %s "$object") - size ))"
done
copied=/mnt/sealed/copied
unsealed=$(conary --root "$copied" fsck 2>&1 | sed -n 's/^\([0-9]*\) objects are not sealed.*/\1/p')
repaired=$(conary --root "$copied" fsck --repair 2>&1 | sed -n 's/^Sealed \([0-9]*\) objects.*/\1/p')
objects=$(find "$copied/conary/objects" -type f | wc -l)
sealed=$(find "$copied/conary/objects" -type f -exec lsattr {} + | cut -d' ' -f1 | grep -c V)
stamped=$(find "$copied/conary/objects" -type f -exec stat -c %Y {} + | grep -vc '^0$')
full=$(conary --root "$copied" fsck --full > /dev/null 2>&1 && echo ok || echo failed)
say "repair objects=$objects unsealed=${unsealed:-0} sealed-by-repair=${repaired:-0} sealed-after=$sealed mtime-not-0=$stamped fsck-full=$full"
say done
finish
