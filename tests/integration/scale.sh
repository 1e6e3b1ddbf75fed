#!/bin/bash
# 20 simulated hosts (dummy datapath, real ovs-vswitchd and vmroamd each)
# on one vmroam database: all bind their VMs, and one moved lookup record
# reaches the flows of every host.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/dummy-hosts.sh"
N=${SCALE_HOSTS:-20}

check "$N simulated hosts up, every VM port installed" dummy_hosts_up "$N"
[ $N_FAIL = 0 ] || finish
n1=$(dummy_flows 1)
n20=$(dummy_flows "$N")
if [ "$n1" -gt $((N * 2)) ] && [ "$n1" = "$n20" ]; then pass "hosts hold the same number of flows ($n1)"
else fail "flows: h1 $n1, h$N $n20"; fi

# Move vm2-1 from h2 to h3: every host must send its traffic to h3's PA.
dummy_moved 2 3 "$T/moved.json"
check "apply a moved record and wait for all chassis" \
    "$VMROAM" --state-dir "$DUMMY_DB" policy apply --wait "$T/moved.json"
check_output "all $N chassis report the new generation" "$T/out" "installed on all $N chassis"
moved=$(dummy_following "$N" 2 3)
# h3 now holds vm2-1 "locally" (no port there: no flow), the others tunnel.
if [ $moved = $((N - 1)) ]; then pass "$moved hosts tunnel vm2-1's MAC to h3's PA"
else fail "only $moved of $((N - 1)) hosts follow the moved record"; fi
finish
