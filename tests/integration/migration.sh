#!/bin/bash
# Live migration of real QEMU guests (libvirt, TCG) between lab hosts on
# different provider subnets: with shared storage and with storage copy;
# the guest's own memory and disk checkers stay clean, its heartbeat goes
# on and its CA stays reachable from a VM on a third host; cancel and a
# killed destination libvirtd roll back with the VM still on its source.
. "$(dirname "$0")/../lib.sh"

LABS="$TESTS_DIR/../labs"
LAB="$T/lab.json"
sed 's/"name": "vmmig"/"name": "vmmt"/' "$LABS/migration.json" >"$LAB"
on_exit "'$LABS/lab' down '$LAB' >/dev/null 2>&1"
DB="--state-dir /run/vmroam-lab/vmmt/db --timeout 120"
vmroam() { "$VMROAM" $DB "$@"; }
X() { "$LABS/lab" exec "$LAB" "$@"; }
ca_of() { python3 -c "import json; print([v['ca'] for v in json.load(open('$LAB'))['vms'] if v['name']=='$1'][0].split('/')[0])"; }
vmhost() { "$LABS/lab" vmhost "$LAB" "$1"; }
# The guest's last heartbeat number, from its serial console.
hb() { "$LABS/lab" console "$LAB" "$1" 2>/dev/null | grep -o 'hb=[0-9]*' | tail -1 | cut -d= -f2; }
checkers_ok() {
    local last
    last=$("$LABS/lab" console "$LAB" "$1" 2>/dev/null | grep 'hb=' | tail -1)
    case "$last" in *"memcheck ok"*"diskcheck ok"*) return 0 ;; esac
    echo "last status line of $1: $last"
    return 1
}
reachable() {  # reachable FROM CA: one ping gets through within 10 s
    for _ in $(seq 100); do
        X "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
state_of() { vmroam migrations --format json | python3 -c "
import json, sys
rows = [r for r in json.load(sys.stdin)['data'] if r[1] == '$1']
print(rows[-1][5] if rows else '')"; }
id_of() { vmroam migrations --format json | python3 -c "
import json, sys
rows = [r for r in json.load(sys.stdin)['data'] if r[1] == '$1']
print(rows[-1][0] if rows else '')"; }
wait_state() {  # wait_state VM STATE SECONDS
    for _ in $(seq $(( $3 * 10 ))); do
        [ "$(state_of "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
# The heartbeat must move on after a migration: the guest runs.
heart_goes_on() {
    local before=$2 after
    for _ in $(seq 50); do
        after=$(hb "$1")
        [ -n "$after" ] && [ "$after" -gt "$before" ] && return 0
        sleep 0.2
    done
    echo "heartbeat of $1 stuck at ${after:-nothing} (was $before)"
    return 1
}

check "lab up: 3 hosts with libvirtd, QEMU guests a1 (hv1) and a3 (hv2)" \
    "$LABS/lab" up "$LAB"
[ $N_FAIL = 0 ] || finish
A1=$(ca_of a1)
A3=$(ca_of a3)

check "hosts report their libvirt and QEMU versions" vmroam host list
check_output "qemu version in the Chassis row" "$T/out" "qemu="
check "a2 (netns, hv3) reaches a1 (QEMU, hv1)" reachable a2 "$A1"

# a2 (netns) runs on hv3: the third host for both migrations below.
pa_of() { vmroam host list --format json | python3 -c "import json,sys; print([r[2] for r in json.load(sys.stdin)['data'] if r[0]=='$1'][0])"; }
record_on() {  # record_on VM HOST: VM's lookup record points at HOST's PA
    vmroam policy export -o "$T/policy.json"
    python3 -c "import json,sys; r=[r for r in json.load(open('$T/policy.json'))['lookup_records'] if r.get('vm')=='$1'][0]; sys.exit(r['pa']!='$(pa_of "$2")' or r['host']!='$2')"
}
runs_on() { [ "$("$LABS/lab" vmhost "$LAB" "$1" 2>/dev/null)" = "$2" ]; }

# Shared-nothing: a3's disk is copied, hv2 (10.0.1.0/24) -> hv1.
hb0=$(hb a3)
check "migrate a3 to hv1 copying its disk, and wait" \
    vmroam migrate a3 --to hv1 --storage copy --wait
check_output "the migration is done" "$T/out" "migration of a3 from hv2 to hv1: done"
check_output "with a summary" "$T/out" "downtime"
check "a3 runs on hv1, exactly once" runs_on a3 hv1
check "its heartbeat goes on" heart_goes_on a3 "$hb0"
check "its memory and disk checkers report no corruption" checkers_ok a3
check "its CA is reachable from a2 on a third host" reachable a2 "$A3"
check "its lookup record moved to hv1's PA" record_on a3 hv1

# Shared storage: a1, hv1 -> hv2.
hb0=$(hb a1)
check "migrate a1 to hv2 (shared storage), and wait" vmroam migrate a1 --to hv2 --wait
check_output "done" "$T/out" "migration of a1 from hv1 to hv2: done"
check "a1 runs on hv2, exactly once" runs_on a1 hv2
check "a1's heartbeat goes on" heart_goes_on a1 "$hb0"
check "a1's checkers clean" checkers_ok a1
check "a1 reachable from a2" reachable a2 "$A1"
check "a1's lookup record moved to hv2's PA" record_on a1 hv2

# Cancel during the memory copy: a1 stays on hv2, untouched.
hb0=$(hb a1)
vmroam migrate a1 --to hv3 --bandwidth 4 >/dev/null 2>&1 &
check "a1's next migration reaches the memory phase" wait_state a1 memory 60
check "cancel it" vmroam migrate --cancel "$(id_of a1)"
check "it ends cancelled" wait_state a1 cancelled 60
wait
vmroam migrations >"$T/list"
check_output "the row names the cause" "$T/list" "cancelled by the operator"
check "a1 still runs on hv2, exactly once" runs_on a1 hv2
check "a1's heartbeat goes on" heart_goes_on a1 "$hb0"
check "a1's checkers clean" checkers_ok a1
check "a1 reachable" reachable a2 "$A1"
check "a1's lookup record still on hv2" record_on a1 hv2

# The destination's libvirtd killed during the memory copy: rollback.
hb0=$(hb a1)
vmroam migrate a1 --to hv3 --bandwidth 4 >/dev/null 2>&1 &
check "a1's next migration reaches the memory phase" wait_state a1 memory 60
check "kill hv3's libvirtd" "$LABS/lab" stop "$LAB" hv3 libvirtd --kill
check "the migration fails" wait_state a1 failed 60
wait
vmroam migrations >"$T/list"
check_output "the row says why" "$T/list" "migration failed"
check "a1 still runs on hv2, exactly once" runs_on a1 hv2
check "a1's heartbeat goes on" heart_goes_on a1 "$hb0"
check "a1's checkers clean" checkers_ok a1
check "a1 reachable" reachable a2 "$A1"
check "a1's lookup record still on hv2" record_on a1 hv2

check "lab down" "$LABS/lab" down "$LAB"
ip netns list | grep -q "^vmmt-" && fail "namespaces left" || pass "no lab namespace left"
finish
