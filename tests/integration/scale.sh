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

# A record migrating between two other hosts is a remote record like any
# other: h1 follows its marks and its move, as the migration executor
# writes them, without a full translation.
h1_full() { ovs-appctl -t "$T/h1/vmroamd.ctl" vmroamd/status | sed -n 's/^translations: \([0-9]*\) full.*/\1/p'; }
h1_changes() { ovs-appctl -t "$T/h1/vmroamd.ctl" vmroamd/status | sed -n 's/^translations: .* \([0-9]*\) of changes$/\1/p'; }
set_vm41() {
    ovsdb-client transact "unix:$DUMMY_DB/db.sock" \
        '["vmroam", {"op": "update", "table": "Lookup_Record",
                     "where": [["vm", "==", "vm4-1"]], "row": '"$1"'}]' >/dev/null
}
full=$(h1_full) changes=$(h1_changes)
set_vm41 '{"moving": ["map", [["source", "h4"], ["destination", "h5"]]]}' &&
set_vm41 '{"pa": "172.16.0.5", "chassis": "h5"}' &&
set_vm41 '{"moving": ["map", []]}'
for _ in $(seq 50); do
    [ "$(dummy_following 1 4 5)" = 1 ] && break
    sleep 0.1
done
if [ "$(dummy_following 1 4 5)" = 1 ]; then pass "h1 tunnels vm4-1's MAC to h5's PA once it moved"
else fail "h1 does not follow vm4-1 to h5"; fi
sleep 0.5
if [ "$(h1_full)" = "$full" ] && [ "$(h1_changes)" -gt "$changes" ]; then
    pass "h1 applied the migration's marks and move as changes, with no full translation"
else
    fail "h1: $(h1_full) full translations ($full before), $(h1_changes) of changes ($changes before)"
fi

# A VM that migrated away was the last of its routing domain on its host:
# the domain's flows go with its records' move, but while the migration's
# redirects last (until 5 s after it is done) the host still accepts the
# domain's GRE key, or what others still tunnel there would be dropped
# before it meets the redirect.  vm1-2 leaves h1 first, as a plain
# change; then vm1-1's records move, its migration row already there.
h1_flows() { ovs-ofctl -O OpenFlow15 dump-flows "unix:$T/h1/br-int.mgmt" "$@"; }
h1_accepts_key() { h1_flows table=1 | grep -q "tun_id=0x138900/0xffffff00"; }
h1_redirects() { h1_flows table=5 | grep "priority=110" | grep -q "dl_dst=02:00:00:00:00:01"; }
# wait_for SECONDS CONDITION...: until CONDITION holds.
wait_for() {
    local n=$(($1 * 10)); shift
    for _ in $(seq $n); do "$@" && return 0; sleep 0.1; done
    return 1
}
db_transact() {
    ovsdb-client transact "unix:$DUMMY_DB/db.sock" "[\"vmroam\", $1]" >/dev/null
}
move_to_h2() {
    db_transact '{"op": "update", "table": "Lookup_Record",
                  "where": [["vm", "==", "'"$1"'"]],
                  "row": {"pa": "172.16.0.2", "chassis": "h2"}}'
}
move_to_h2 vm1-2
now=$(date +%s%3N)
db_transact '{"op": "insert", "table": "Migration",
              "row": {"vm": "vm1-1", "source": "h1", "destination": "h2",
                      "state": "done",
                      "timestamps": ["map", [["records-moved", '"$now"'],
                                             ["finished", '"$now"']]]}}'
check "h1 accepts tenant t's GRE key while vm1-1 is there" h1_accepts_key
move_to_h2 vm1-1
check "h1 redirects to h2 what is tunnelled to it for vm1-1, once it left" \
    wait_for 3 h1_redirects
check "h1, left with no VM of tenant t, still accepts its key meanwhile" \
    h1_accepts_key
check "no longer once the redirects end, 5 s after the migration" \
    wait_for 10 eval '! h1_accepts_key && ! h1_redirects'
dummy_hosts_down

# A full sync larger than what the agent queues for its switch (1 MiB)
# goes out in pieces, as the switch takes them, in one bundle: with the
# switch stopped, the agent's loop goes on and tells how far it got; a
# switch restarted halfway gets the whole set.
agent_status() { ovs-appctl -t "$T/h1/vmroamd.ctl" vmroamd/status; }
# wait_flows N: until host 1's switch holds N flows and its agent is not
# resyncing, for up to 30 s.
wait_flows() {
    for _ in $(seq 300); do
        [ "$(dummy_flows 1)" = "$1" ] && ! agent_status | grep -q "on its way" \
            && return 0
        sleep 0.1
    done
    return 1
}
dummy_db_up
dummy_policy 3000 "$T/big.json"
check "apply 6000 records" "$VMROAM" --state-dir "$DUMMY_DB" policy apply "$T/big.json"
dummy_switch_up 1
DUMMY_AGENT_OPTS=-vjsonrpc:file:dbg dummy_agent_up 1
desired=
for _ in $(seq 300); do
    desired=$(agent_status | sed -n 's/^flows: [0-9]* installed, \([0-9]*\) desired$/\1/p')
    [ "${desired:-0}" -gt 20000 ] && break
    sleep 0.1
done
if wait_flows "$desired"; then pass "the switch holds the agent's $desired flows"
else fail "the switch holds $(dummy_flows 1) flows, the agent wants ${desired:-none}"; fi
# An agent asks the server for what it reads, and not for the tables only
# the command line reads, some as large as the lookup records.
grep -m1 'method="monitor_cond_since", params=\["vmroam"' "$T/h1/vmroamd.log" \
    >"$T/monitor" || true
if grep -q '"Lookup_Record"' "$T/monitor" \
   && ! grep -Eq '"(CA_Lease|CA_Pool|Footprint|Plan|Plan_Item|RBAC_Role|Connection)"' "$T/monitor"; then
    pass "the agent monitors the lookup records, not the CA leases, pools, footprints, plans or roles"
else
    fail "the agent monitors: $(grep -Eo '"[A-Z][A-Za-z_]*":\[\{' "$T/monitor" | tr -d ':[{' | paste -sd' ')"
fi

# A change to the switch's database that no translation reads (the
# agent's own marks on its ports, here another key, or a port of no VM)
# costs no full translation; a VM's port that comes or goes does.
full_translations() { agent_status | sed -n 's/^translations: \([0-9]*\) full.*/\1/p'; }
full=$(full_translations)
ovs-vsctl --db="unix:$T/h1/db.sock" set Interface vm1-1 external_ids:note=irrelevant \
    -- add-port br-int other -- set Interface other type=dummy
sleep 1
if [ "$(full_translations)" = "$full" ]; then pass "an unread key and a port of no VM: no full translation ($full in all)"
else fail "an unread key and a port of no VM: $(full_translations) full translations, $full before"; fi
ovs-vsctl --db="unix:$T/h1/db.sock" add-port br-int vm9-1 \
    -- set Interface vm9-1 type=dummy external_ids:vm-id=vm9-1
sleep 1
if [ "$(full_translations)" -gt "$full" ]; then pass "a VM's new port: a full translation"
else fail "a VM's new port: still $full full translations"; fi
ovs-vsctl --db="unix:$T/h1/db.sock" del-port br-int vm9-1 -- del-port br-int other

# A full translation made while a write to the database is on its way
# (the database stopped: the agent's heartbeat waits) records the VMs it
# binds once the write is done, without translating everything again.
vm_ports() {
    ovsdb-client -f csv --no-headings dump "unix:$DUMMY_DB/db.sock" vmroam VM \
        name ports | grep "^vm1-2,"
}
# The new interface has its OpenFlow port before it names the VM, so that
# binding it is one change of the switch's database.
ovs-vsctl --db="unix:$T/h1/db.sock" --timeout=10 \
    add-port br-int vm1-2b -- set Interface vm1-2b type=dummy
db_pid=$(cat "$DUMMY_DB/ovsdb-server.pid")
kill -STOP "$db_pid"
sleep 3
full=$(full_translations)
ovs-vsctl --db="unix:$T/h1/db.sock" del-port br-int vm1-2 \
    -- set Interface vm1-2b external_ids:vm-id=vm1-2
sleep 1
kill -CONT "$db_pid"
for _ in $(seq 50); do vm_ports | grep -q vm1-2b && break; sleep 0.1; done
sleep 1
if vm_ports | grep -q vm1-2b && [ "$(full_translations)" = $((full + 1)) ]; then
    pass "a VM bound with the database stopped: recorded once it runs again, one full translation"
else
    fail "a VM bound with the database stopped: $(full_translations) full translations ($full before), VM row: $(vm_ports)"
fi
ovs-vsctl --db="unix:$T/h1/db.sock" del-port br-int vm1-2b \
    -- add-port br-int vm1-2 -- set Interface vm1-2 type=dummy \
       external_ids:vm-id=vm1-2
# stalled DESCRIPTION: the agent answers while its switch is stopped, and
# says it has sent part of a bundle.
stalled() {
    if timeout 5 ovs-appctl -t "$T/h1/vmroamd.ctl" vmroamd/status >"$T/status" \
       && sed -n 's/^bundle on its way: \([0-9]*\) of \([0-9]*\) flow changes sent$/\1 \2/p' \
              "$T/status" >"$T/sent" \
       && read -r sent total <"$T/sent" && [ "$sent" -lt "$total" ]; then
        pass "$1: the agent answers, $sent of $total flow changes sent"
    else
        fail "$1: the agent's status"
        sed 's/^/    | /' "$T/status"
    fi
}
vswitchd=$(cat "$T/h1/ovs-vswitchd.pid")
kill -STOP "$vswitchd"
ovs-appctl -t "$T/h1/vmroamd.ctl" vmroamd/recompute
sleep 1
stalled "a resync, its switch stopped"
kill -KILL "$vswitchd"
while kill -0 "$vswitchd" 2>/dev/null; do sleep 0.1; done
check "ovs-vswitchd restarted" dummy_vswitchd_up 1
if wait_flows "$desired"; then pass "the restarted switch holds all $desired flows again"
else fail "the restarted switch holds $(dummy_flows 1) of $desired flows"; fi

# A change of every record's PA goes out in pieces as well, and lands
# whole.
sed -e 's|"prefix": "172.16.0.0/16"|"prefix": "172.16.0.0/15"|' \
    -e 's|"pa": "172.16.|"pa": "172.17.|g' "$T/big.json" >"$T/new-pas.json"
vswitchd=$(cat "$T/h1/ovs-vswitchd.pid")
kill -STOP "$vswitchd"
check "every record at a new PA" "$VMROAM" --state-dir "$DUMMY_DB" policy apply "$T/new-pas.json"
sleep 1
stalled "a change of every PA, its switch stopped"
kill -CONT "$vswitchd"
# The number of flows does not change with the PAs: wait for the old ones
# to go as well.
old_pas() { ovs-ofctl -O OpenFlow15 dump-flows "unix:$T/h1/br-int.mgmt" | grep -c '172\.16\.'; }
for _ in $(seq 300); do
    [ "$(old_pas)" = 0 ] && break
    sleep 0.1
done
if wait_flows "$desired" && [ "$(old_pas)" = 0 ]; then
    pass "the switch holds the $desired flows, none to or from an old PA"
else
    fail "after the change of every PA: $(dummy_flows 1) flows, $(old_pas) with an old PA"
fi
finish
