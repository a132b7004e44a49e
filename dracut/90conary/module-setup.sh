#!/bin/bash
# dracut module "conary": mounts the state that conary.state=N names on /usr before
# switch-root. Included only when asked for: dracut -a conary, or the drop-in
# dracut/conary.conf (add_dracutmodules+=" conary ").

check() {
    return 255
}

depends() {
    return 0
}

install() {
    inst_multiple mount cat
    # pre-pivot: the real root is mounted at $NEWROOT and nothing has run from it yet.
    inst_hook pre-pivot 50 "$moddir/conary-state.sh"
}
