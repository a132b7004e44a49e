#!/usr/bin/env bash
# Downloads real Debian packages into a cache folder (once) and prints their paths.
# Usage: Scripts/fetch-debs.sh CACHE_DIR PACKAGE...
set -euo pipefail
cache=$1; shift
mkdir -p "$cache"
missing=()
for package in "$@"; do
    compgen -G "$cache/${package}_*.deb" >/dev/null || missing+=("$package")
done
if ((${#missing[@]})); then
    # A fresh machine has no package lists yet; apt-get download needs them.
    if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -qq
    fi
    (cd "$cache" && apt-get download -qq "${missing[@]}" 2>&1 | grep -v 'unsandboxed' >&2 || true)
fi
for package in "$@"; do
    deb=$(compgen -G "$cache/${package}_*.deb" | head -n 1) || { echo "fetch-debs: could not download $package" >&2; exit 1; }
    echo "$deb"
done
