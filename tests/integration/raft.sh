#!/bin/bash
# The vmroam schema as a 3-member Raft cluster (ovsdb-tool create-cluster /
# join-cluster, three ovsdb-server processes on loopback): applies work
# through the cluster, and still work after its leader is killed.
. "$(dirname "$0")/../lib.sh"

DATA="$TESTS_DIR/data"
"$VMROAM" db schema >"$T/vmroam.ovsschema"
base=$((20000 + $$ % 20000))
raft() { echo "tcp:127.0.0.1:$((base + $1))"; }
client() { echo "tcp:127.0.0.1:$((base + 10 + $1))"; }

check "create-cluster" ovsdb-tool create-cluster "$T/s1.db" \
    "$T/vmroam.ovsschema" "$(raft 1)"
for i in 2 3; do
    check "join-cluster member $i" ovsdb-tool join-cluster "$T/s$i.db" \
        vmroam "$(raft $i)" "$(raft 1)"
done
for i in 1 2 3; do
    ovsdb-server "$T/s$i.db" --remote="ptcp:$((base + 10 + i)):127.0.0.1" \
        --pidfile="$T/s$i.pid" --unixctl="$T/s$i.ctl" \
        --log-file="$T/s$i.log" --detach --no-chdir 2>/dev/null
    track_pidfile "$T/s$i.pid"
done
DB="$(client 1),$(client 2),$(client 3)"

check "apply through the cluster" \
    "$VMROAM" --db "$DB" --timeout 20 policy apply "$DATA/two-tenants.json"
check_output "cluster apply bumped the generation" "$T/out" "generation 1"

leader=""
for _ in $(seq 50); do
    for i in 1 2 3; do
        ovs-appctl -t "$T/s$i.ctl" cluster/status vmroam 2>/dev/null \
            | grep -q "^Role: leader" && leader=$i
    done
    [ -n "$leader" ] && break
    sleep 0.1
done
if [ -n "$leader" ]; then pass "cluster has a leader (member $leader)"; else fail "no leader"; fi

kill "$(cat "$T/s$leader.pid")"
check "apply a change after the leader died" \
    "$VMROAM" --db "$DB" --timeout 20 policy apply "$DATA/one-tenant.json"
check_output "the change committed" "$T/out" "generation 2"
check "export from the surviving members" \
    "$VMROAM" --db "$DB" policy export -o "$T/export.json"
"$VMROAM" policy format "$DATA/one-tenant.json" -o "$T/canonical.json"
check "surviving members hold the new policy" cmp "$T/export.json" "$T/canonical.json"
finish
