#!/bin/sh
# Sourced by dracut in the pre-pivot hook (shell init and systemd alike), so it never exits.
# conary.state=N: state N's tree becomes /usr, read-only: the live tree <root>/usr when N is
# the live state (its usr/.conary-state says N), otherwise <root>/conary/states/N/usr.
# Without conary.state the live tree is used. A malformed or missing state stops the boot
# with a message on the console, through dracut's emergency path.
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh

conary_fail() {
    # Under systemd, die() only starts the emergency shell; rd.emergency=poweroff|reboot
    # must still end the boot (an unattended machine or test would wait forever).
    conary_action=$(getarg rd.emergency=)
    if [ -n "${DRACUT_SYSTEMD:-}" ] && { [ "$conary_action" = poweroff ] || [ "$conary_action" = reboot ]; }; then
        echo "<27>conary: $* ($conary_action)" > /dev/kmsg
        systemctl --no-block --force "$conary_action"
    else
        die "conary: $*"
    fi
}

conary_mount() {
    # $1: the tree to show as /usr; $2: what to call it on the console.
    if mount --bind "$1" "$NEWROOT/usr" && mount -o remount,bind,ro "$NEWROOT/usr"; then
        echo "<29>conary: booting $2, /usr read-only" > /dev/kmsg
    else
        conary_fail "could not mount $2 on /usr"
    fi
}

conary_state=$(getarg conary.state=)
conary_live=$(cat "$NEWROOT/usr/.conary-state" 2>/dev/null)
case "$conary_state" in
    "")
        if [ -n "$conary_live" ]; then conary_mount "$NEWROOT/usr" "the live state $conary_live"; fi
        ;;
    *[!0-9]* | 0*)
        conary_fail "conary.state=$conary_state is not a state number"
        ;;
    "$conary_live")
        conary_mount "$NEWROOT/usr" "state $conary_state (live)"
        ;;
    *)
        conary_tree="$NEWROOT/conary/states/$conary_state/usr"
        if [ "$(cat "$conary_tree/.conary-state" 2>/dev/null)" = "$conary_state" ]; then
            conary_mount "$conary_tree" "state $conary_state"
        else
            conary_fail "state $conary_state has no tree in /conary/states (pruned, or never built)"
        fi
        ;;
esac
unset conary_state conary_live conary_tree conary_action
