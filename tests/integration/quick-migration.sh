#!/bin/bash
# Quick migration (vmroam migrate --mode quick) of a real QEMU guest
# across subnets, as a cluster does it: the VM's state saved beside its
# shared disk, restored on the destination, its lookup record moved.  A
# guest whose disk the destination does not see is refused before it
# stops; a destination that cannot restore it gives it back to its source,
# which restores it: running once, checkers clean.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab-lib.bash"

lab_init migration.json vmqk
STATE=/run/vmroam-lab/vmqk
DB="--state-dir $STATE/db --timeout 120"
vmroam() { "$VMROAM" $DB "$@"; }
# A guest restored from its saved state takes a while to beat again.
beats_on() { heart_goes_on "$1" "$2" 20; }

check "lab up: QEMU guests a1 (hv1, shared disk) and a3 (hv2, local disk)" \
    "$LABS/lab" up "$LAB"
[ $N_FAIL = 0 ] || finish

check_status "--mode quick with --storage copy: refused" 2 \
    vmroam migrate a1 --to hv3 --mode quick --storage copy
check_status "--mode fast: refused" 2 vmroam migrate a1 --to hv3 --mode fast

# a3's disk is on hv2 only: nothing is saved, a3 never stops.
hb0=$(hb a3)
check_status "quick-migrate a3 (local disk) to hv3: fails" 1 \
    vmroam migrate a3 --to hv3 --mode quick --wait
check_output "says why, before stopping it" "$T/out" "does not see its disks: migrate it live"
check "a3 still runs on hv2" test "$(vmhost a3)" = hv2
check "a3's heartbeat goes on" beats_on a3 "$hb0"
check "a3's checkers clean" checkers_ok a3

# hv3 has a domain named a1 already: it cannot restore a1, so hv1 does.
cat >"$T/squatter.xml" <<'EOF'
<domain type='qemu'>
  <name>a1</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64'>hvm</type></os>
</domain>
EOF
check "hv3 has another domain named a1" virsh_on hv3 define "$T/squatter.xml"
hb0=$(hb a1)
check_status "quick-migrate a1 to hv3: fails" 1 \
    vmroam migrate a1 --to hv3 --mode quick --wait
check_output "the destination could not restore it" "$T/out" "restoring it on the destination"
check "a1 runs on hv1 again" test "$(vmhost a1)" = hv1
check "a1's heartbeat goes on" beats_on a1 "$hb0"
check "a1's checkers clean" checkers_ok a1
check "a1 reachable from a2 (hv3)" reachable a2 "$(ca_of a1)"
check "hv3's squatter goes" virsh_on hv3 undefine a1

hb0=$(hb a1)
check "quick-migrate a1 to hv3 (10.0.2.0/24)" \
    vmroam migrate a1 --to hv3 --mode quick --wait
check_output "the summary gives its downtime" "$T/out" "downtime"
check "a1 runs on hv3" test "$(vmhost a1)" = hv3
check "a1's heartbeat goes on" beats_on a1 "$hb0"
check "a1's checkers clean" checkers_ok a1
check "a1 reachable from a4 (hv1)" reachable a4 "$(ca_of a1)"
check "the save file is gone" bash -c "! ls -a '$STATE/images' | grep -q vmroam-save"
check "lab down" "$LABS/lab" down "$LAB"
finish
