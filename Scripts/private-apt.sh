#!/usr/bin/env bash
# Gives apt a private state in STATE_DIR that knows only the flat repositories REPO_DIR...
# (each with a Packages index, in the order given) and no installed package, runs apt-get
# update on it, and prints the apt-get options that select that state, one per line, for
# `apt-get -s install` (add -o APT::Install-Recommends=true or false).
# The tests and conary-bench compare Conary's resolver with apt through it.
# Usage: Scripts/private-apt.sh STATE_DIR REPO_DIR...
set -euo pipefail
state=$1
shift
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
for repo in "$@"; do echo "deb [trusted=yes] file:$repo ./"; done > "$state/sources.list"
: > "$state/status"
options=(
    -o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache"
    -o Debug::NoLocking=1
)
apt-get "${options[@]}" update > /dev/null
printf '%s\n' "${options[@]}"
