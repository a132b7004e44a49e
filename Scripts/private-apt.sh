#!/usr/bin/env bash
# Gives apt a private state in STATE_DIR that knows only the flat repository REPO_DIR (with
# a Packages index) and no installed package, runs apt-get update on it, and prints the
# apt-get options that select that state, one per line, for `apt-get -s install`.
# The tests and conary-bench compare Conary's resolver with apt through it.
# Usage: Scripts/private-apt.sh STATE_DIR REPO_DIR
set -euo pipefail
state=$1 repo=$2
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
echo "deb [trusted=yes] file:$repo ./" > "$state/sources.list"
: > "$state/status"
options=(
    -o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache"
    -o APT::Install-Recommends=false -o Debug::NoLocking=1
)
apt-get "${options[@]}" update > /dev/null
printf '%s\n' "${options[@]}"
