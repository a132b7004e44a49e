#!/usr/bin/env bash
# Makes a flat repository in DEST_DIR/list-N for each Debian main amd64 package list of this
# machine's apt (/var/lib/apt/lists: bookworm, -updates, -security), each holding a copy of
# the list as Packages[.lz4|.xz|.gz], and prints the folders in name order, one per line;
# prints nothing when there are no lists. ArchiveResolutionTests and conary-bench resolve
# over them with Conary and with apt (Scripts/private-apt.sh).
# Usage: Scripts/archive-repositories.sh DEST_DIR
set -euo pipefail
dest=$1 lists=/var/lib/apt/lists index=0
shopt -s nullglob
for list in "$lists"/*_main_binary-amd64_Packages*; do
    case $list in
        *.lz4) suffix=.lz4 ;; *.xz) suffix=.xz ;; *.gz) suffix=.gz ;; *Packages) suffix= ;; *) continue ;;
    esac
    mkdir -p "$dest/list-$index"
    cp "$list" "$dest/list-$index/Packages$suffix"
    echo "$dest/list-$index"
    index=$((index + 1))
done
