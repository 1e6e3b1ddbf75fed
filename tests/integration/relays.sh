#!/bin/bash
# README's scale-out recipe: 20 simulated hosts (dummy datapath, real
# ovs-vswitchd and vmroamd each) reach the vmroam database only through 2
# relays ("vmroam relay start"), each agent given both with its host
# certificate.  All bind their VMs and follow a moved record, and
# "policy apply --wait" sees every host's generation, which the agents
# write through the relays.  A relay holds an agent to the agent role as
# the database does; when one relay stops, its agents go to the other.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/dummy-hosts.sh"
N=${RELAY_HOSTS:-20}
DUMMY_RELAYS=2
read -r R1 R2 <<<"$(dummy_relay_ports | paste -sd' ')"

check "$N simulated hosts up through relays on $R1 and $R2, every VM port installed" \
    dummy_hosts_up "$N"
[ $N_FAIL = 0 ] || finish

# Agents a listener serves: its established TCP connections.
served() { ss -Htn state established "( sport = :$1 )" | wc -l; }
on1=$(served "$R1") on2=$(served "$R2") direct=$(served "$DUMMY_PORT")
echo "# agents on relay $R1: $on1, on relay $R2: $on2, on the database: $direct"
if [ $((on1 + on2)) = "$N" ] && [ "$on1" -gt 0 ] && [ "$on2" -gt 0 ]; then
    pass "the $N agents spread over both relays ($on1 + $on2)"
else fail "agents on the relays: $on1 + $on2, expected $N over both"; fi
if [ "$direct" = 0 ]; then pass "no agent on the database's own listener"
else fail "$direct agents on the database's own listener"; fi

dummy_moved 2 3 "$T/moved.json"
check "apply a moved record and wait for all chassis" \
    "$VMROAM" --state-dir "$DUMMY_DB" policy apply --wait "$T/moved.json"
check_output "all $N chassis report the new generation, through the relays" \
    "$T/out" "installed on all $N chassis"
moved=$(dummy_following "$N" 2 3)
if [ "$moved" = $((N - 1)) ]; then pass "$moved hosts tunnel vm2-1's MAC to h3's PA"
else fail "only $moved of $((N - 1)) hosts follow the moved record"; fi

# --- The agent role, enforced by a relay: the database sees the relay's
# writes, not the agent's, so the relay's own check is all there is.
PKI="$DUMMY_DB/pki"
# via PORT CLIENT OP...: one transaction as host CLIENT, through PORT.
via() {
    local port=$1 client=$2 ops
    shift 2
    ops=$(IFS=,; echo "$*")
    timeout 10 ovsdb-client transact "ssl:127.0.0.1:$port" \
        --private-key="$PKI/$client-privkey.pem" \
        --certificate="$PKI/$client-cert.pem" --ca-cert="$PKI/cacert.pem" \
        "[\"vmroam\", $ops]"
}
admin() { ovsdb-client query "unix:$DUMMY_DB/db.sock" "[\"vmroam\", $1]"; }
# refused DESCRIPTION TABLE PORT CLIENT OP...: the relay refuses, naming
# the client and the table.
refused() {
    local desc=$1 table=$2 client=$4
    via "${@:3}" >"$T/reply" 2>&1
    tr -d '\\' <"$T/reply" >"$T/said"
    if grep -qF "RBAC rules for client \"$client\" role \"vmroam-agent\"" "$T/said" &&
       grep -qF "table \"$table\"" "$T/said"; then
        pass "$desc: refused, naming $client and $table"
    else
        fail "$desc: not refused as expected"
        sed 's/^/    | /' "$T/reply" | head -5
    fi
}
H2_CHASSIS='{"op": "select", "table": "Chassis", "where": [["name", "==", "h2"]], "columns": ["pas", "state"]}'
admin "$H2_CHASSIS" >"$T/h2-before"
refused "h1 through relay $R1 takes h2's PA" Chassis "$R1" h1 \
    '{"op": "update", "table": "Chassis", "where": [["name", "==", "h2"]], "row": {"pas": "172.16.6.6"}}'
refused "h1 through relay $R2 adds a routing domain" Routing_Domain "$R2" h1 \
    '{"op": "insert", "table": "Routing_Domain", "row": {"name": "evil"}}'
refused "h1 through relay $R1 moves vm2-1's record (not migrating)" Lookup_Record "$R1" h1 \
    '{"op": "update", "table": "Lookup_Record", "where": [["vm", "==", "vm2-1"]], "row": {"pa": "172.16.0.1", "chassis": "h1"}}'
admin "$H2_CHASSIS" >"$T/h2-after"
check "h2's row is as it was" cmp "$T/h2-before" "$T/h2-after"
check_status "the vmroam command as h1 through relay $R2 may not apply a policy" 1 \
    "$VMROAM" --db "ssl:127.0.0.1:$R2" --private-key "$PKI/h1-privkey.pem" \
    --certificate "$PKI/h1-cert.pem" --ca-cert "$PKI/cacert.pem" \
    policy apply "$T/dummy-policy.json"
check_output "the relay refused the change" "$T/err" "the database refused the change"
own_heartbeat() {
    via "$R1" h1 "{\"op\": \"update\", \"table\": \"Chassis_Private\", \"where\": [[\"name\", \"==\", \"h1\"]], \"row\": {\"heartbeat\": $(date +%s%3N)}}" \
        | grep -q '^\[{"count":1}\]$'
}
check "h1 through relay $R1 writes its own heartbeat" own_heartbeat

# --- One relay stops: its agents move to the other and keep following.
stop_pids "$(cat "$DUMMY_DB/relay-$R1.pid")"
on_survivor() { [ "$(served "$R2")" = "$N" ]; }
wait_all() {
    for _ in $(seq 300); do on_survivor && return 0; sleep 0.1; done
    return 1
}
check "after relay $R1 stops, all $N agents are on relay $R2" wait_all
check "apply vm2-1's record back on h2 and wait for all chassis" \
    "$VMROAM" --state-dir "$DUMMY_DB" --timeout 60 policy apply --wait "$T/dummy-policy.json"
check_output "all $N chassis report it" "$T/out" "installed on all $N chassis"
moved=$(dummy_following "$N" 2 2)
if [ "$moved" = $((N - 1)) ]; then pass "$moved hosts tunnel vm2-1's MAC to h2's PA again"
else fail "only $moved of $((N - 1)) hosts follow the record back"; fi
finish
