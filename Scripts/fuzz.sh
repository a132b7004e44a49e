#!/usr/bin/env bash
# Builds conary-fuzz with libFuzzer and runs each parser target for SECONDS (default 60),
# seeded from real packages. A crash leaves its input in fuzz-work/ and fails the run.
# Usage: Scripts/fuzz.sh [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
work=$here/fuzz-work
cd "$here"
swift build --product conary-fuzz --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -DCONARY_FUZZ
fuzzer=.build-fuzz/debug/conary-fuzz
rm -rf "$work"
mkdir -p "$work"/{rpm-header,deb-control,pkginfo,packages}

# Seeds: the signature and main headers of a real RPM, real control files, a real .PKGINFO and .MTREE.
rpm=$(Scripts/build-rpm-fixture.sh "$work/packages" xz | tail -n 1)
python3 - "$rpm" "$work/rpm-header" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
start = 96
for name in ("signature", "main"):
    count, size = int.from_bytes(data[start + 8:start + 12], "big"), int.from_bytes(data[start + 12:start + 16], "big")
    end = start + 16 + count * 16 + size
    open(f"{sys.argv[2]}/{name}", "wb").write(data[start:end])
    start = end + (8 - (end - 96) % 8) % 8 if name == "signature" else end
PY
for deb in $(Scripts/fetch-debs.sh "$here/fixtures-cache/debs" libc6 hello busybox-static); do
    dpkg-deb --info "$deb" control > "$work/deb-control/$(basename "$deb").control"
    dpkg-deb --info "$deb" md5sums > "$work/deb-control/$(basename "$deb").md5sums" 2>/dev/null || true
done
arch=$(Scripts/build-arch-fixture.sh "$work/packages" .pkg.tar.zst | tail -n 1)
bsdtar -xOf "$arch" .PKGINFO > "$work/pkginfo/PKGINFO"
bsdtar -xOf "$arch" .MTREE | gzip -dc > "$work/pkginfo/MTREE"

for target in rpm-header deb-control pkginfo; do
    echo "== fuzzing $target for $seconds s"
    (cd "$work" && FUZZ_TARGET=$target "$here/$fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$work/crash-$target-" "$work/$target" > "$work/$target.log" 2>&1) || {
        grep -E 'Fatal error|at /' "$work/$target.log" | head -n 12 >&2
        echo "fuzz: $target crashed; the input is in $work/crash-$target-*" >&2
        exit 1
    }
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units)' "$work/$target.log"
done
echo "fuzz: all targets ran $seconds s without a crash"
