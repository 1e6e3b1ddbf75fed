#!/bin/bash
# Who may write what in the vmroam database, against the real ovsdb-server
# that "vmroam db start --ssl-listen" starts: the administrator on its unix
# socket, and agents hv1, hv2, hv3 with their host certificates on its SSL
# listener (role vmroam-agent, policy/access.c).  A matrix of (client,
# table, operation) -> allowed or refused, each asserted and printed at the
# end; a refused write must name the client and the table and leave the
# whole database as it was.  Then the connections the listener refuses
# outright: a certificate from another CA, an expired one, none at all,
# plaintext TCP.  Each gets nothing, and changes nothing.
. "$(dirname "$0")/../lib.sh"

DATA="$TESTS_DIR/data"
PKI="$T/pki"
ADMIN="unix:$T/db.sock"
vmroam() { "$VMROAM" --state-dir "$T" --timeout 10 "$@"; }

pki() {
    vmroam pki init && for h in hv1 hv2 hv3; do vmroam pki host $h; done
}
check "a PKI: a CA, and certificates for hv1, hv2, hv3" pki
# --ssl-listen takes no port 0, so ask the kernel for a free port and give
# that; the wait below fails the test if someone took it meanwhile.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SSL="ssl:127.0.0.1:$PORT"
check "database starts with an SSL listener for agents" \
    vmroam db start --ssl-listen "127.0.0.1:$PORT"
[ -f "$T/ovsdb-server.pid" ] && track_pidfile "$T/ovsdb-server.pid"
check_output "on the port asked, with the agents' role" "$T/out" \
    "agents: pssl:$PORT:127.0.0.1 with their host certificates (role vmroam-agent)"
echo "# agents' listener at $SSL"

# as CLIENT OP...: one transaction of JSON operations, by the administrator
# ("admin", on the unix socket) or by host CLIENT with its certificate on
# the SSL listener.  ovsdb-client prints the reply and exits 0 even when
# the database refused an operation: the reply says so.
as() {
    local client=$1 ops
    shift
    ops=$(IFS=,; echo "$*")
    if [ "$client" = admin ]; then
        timeout 10 ovsdb-client transact "$ADMIN" "[\"vmroam\", $ops]"
    else
        timeout 10 ovsdb-client transact "$SSL" \
            --private-key="$PKI/$client-privkey.pem" \
            --certificate="$PKI/$client-cert.pem" --ca-cert="$PKI/cacert.pem" \
            "[\"vmroam\", $ops]"
    fi
}
# agent CLIENT ARGS...: the vmroam command line as host CLIENT, over SSL.
agent() {
    local client=$1
    shift
    "$VMROAM" --db "$SSL" --timeout 10 --private-key "$PKI/$client-privkey.pem" \
        --certificate "$PKI/$client-cert.pem" --ca-cert "$PKI/cacert.pem" "$@"
}

listening() {
    for _ in $(seq 50); do
        as hv1 '{"op": "comment", "comment": "hello"}' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
check "an agent's certificate reaches the listener" listening

insert() { printf '{"op": "insert", "table": "%s", "row": %s}' "$1" "$2"; }
update() { printf '{"op": "update", "table": "%s", "where": [%s], "row": %s}' "$1" "$2" "$3"; }
delete() { printf '{"op": "delete", "table": "%s", "where": [%s]}' "$1" "$2"; }
mutate() { printf '{"op": "mutate", "table": "%s", "where": [%s], "mutations": [%s]}' "$1" "$2" "$3"; }
is() { printf '["%s", "==", "%s"]' "$1" "$2"; }
VERSIONS='["map", [["libvirt", "9.0.0"], ["qemu", "7.2.0"], ["vmroam", "0.1"]]]'
# A heartbeat an hour ahead: the host stays up however slow the test is.
BEAT=$(( $(date +%s%3N) + 3600 * 1000 ))

# The whole database as the administrator reads it, one row a line: two
# snapshots are equal exactly when nothing changed (ovsdb-server lists the
# rows of a table it did not change in the same order).  Of Connection, the
# columns ovsdb-server itself rewrites as clients come and go are left out,
# and so is its _version, which those rewrites change.
QUERY=$(python3 - "$T/vmroam.ovsschema" <<'PY'
import json, sys
ops = []
for name, table in sorted(json.load(open(sys.argv[1]))["tables"].items()):
    op = {"op": "select", "table": name, "where": []}
    if name == "Connection":
        op["columns"] = ["_uuid"] + [
            c for c in table["columns"] if c not in ("status", "is_connected")]
    ops.append(op)
print(json.dumps(["vmroam"] + ops))
PY
)
snapshot() {
    timeout 10 ovsdb-client query "$ADMIN" "$QUERY" | sed 's/{"_uuid"/\n&/g'
}
# True if a snapshot now is the one in $T/before (never if either failed).
unchanged() {
    snapshot >"$T/after" && [ -s "$T/before" ] && cmp -s "$T/before" "$T/after"
}

# The verdict of ovsdb-client's reply: refused (a permission error),
# allowed (every operation done, and every update or mutate matched a row:
# one that matched none would prove nothing), or what else happened.
verdict() {
    python3 -c '
import json, sys
text = sys.stdin.read()
try:
    reply = json.loads(text)
except ValueError:
    print("no answer: " + " ".join(text.split())[:100])
    sys.exit()
errors = [r for r in reply if r and "error" in r]
if errors:
    e = errors[0]
    print("refused" if e["error"] == "permission error"
          else "error: %s %s" % (e["error"], e.get("details", "")))
elif any(r and r.get("count") == 0 for r in reply):
    print("no row matched")
else:
    print("allowed")'
}

# judge CLIENT TABLE OPERATION EXPECTED GOT OUTPUT: asserts GOT is
# EXPECTED and records the row.  An allowed write must change the
# database; a refused one must change nothing, and say which client was
# refused what table (OUTPUT holds what the client got; TABLE with a space
# in it names no single table, so any will do).
judge() {
    local client=$1 table=$2 operation=$3 want=$4 got=$5 output=$6 why=""
    local name=$client
    [ "$client" = admin ] && name="admin (unix socket)"
    echo "$name|$table|$operation|$want|$got" >>"$T/matrix"
    if [ "$got" != "$want" ]; then
        why="$got"
    elif [ "$want" = allowed ] && unchanged; then
        why="allowed, yet nothing changed"
    elif [ "$want" = refused ]; then
        local t="$table"
        case "$table" in *" "*) t="" ;; esac
        # The JSON reply escapes the quotes the command line prints.
        tr -d '\\' <"$output" >"$T/said"
        grep -qF "RBAC rules for client \"$client\" role \"vmroam-agent\"" "$T/said" &&
            grep -qE "table \"${t:-[A-Za-z_]+}\"" "$T/said" ||
            why="refused without naming client $client and table ${t:-(any)}"
        if ! unchanged; then
            why="refused, yet the database changed (or could not be read)"
            diff "$T/before" "$T/after" | head -6 >>"$output"
        fi
    fi
    if [ -z "$why" ]; then
        pass "$name, $table: $operation: $want"
    else
        fail "$name, $table: $operation: expected $want, got $why"
        sed 's/^/    | /' "$output" | head -20
    fi
}

# row CLIENT TABLE OPERATION EXPECTED OP...: CLIENT's transaction OP...
row() {
    local client=$1 table=$2 operation=$3 want=$4
    shift 4
    snapshot >"$T/before"
    as "$client" "$@" >"$T/reply" 2>&1
    judge "$client" "$table" "$operation" "$want" "$(verdict <"$T/reply")" "$T/reply"
}

# cli CLIENT TABLE OPERATION EXPECTED ARGS...: the vmroam command line, as
# the administrator or as agent CLIENT.  Allowed: exit 0; refused: exit 1
# with the database's refusal and who may make the change.
cli() {
    local client=$1 table=$2 operation=$3 want=$4 status got
    shift 4
    snapshot >"$T/before"
    if [ "$client" = admin ]; then
        vmroam "$@" >"$T/cli" 2>&1
    else
        agent "$client" "$@" >"$T/cli" 2>&1
    fi
    status=$?
    if [ $status = 0 ]; then
        got=allowed
    elif [ $status = 1 ] && grep -q "the database refused the change" "$T/cli" &&
         grep -q "come from an administrator" "$T/cli"; then
        got=refused
    else
        got="exit $status"
    fi
    judge "$client" "$table" "$operation" "$want" "$got" "$T/cli"
}

# --- A host registers, as vmroamd does: its own rows only.
row hv1 Chassis "insert its own row" allowed \
    "$(insert Chassis '{"name": "hv1", "state": "down"}')"
row hv1 Chassis "update its own state, PA, versions, libvirt-uri" allowed \
    "$(update Chassis "$(is name hv1)" "{\"state\": \"up\", \"pas\": \"10.0.1.11\",
       \"versions\": $VERSIONS,
       \"external_ids\": [\"map\", [[\"libvirt-uri\", \"qemu+tls://10.0.1.11/system\"]]]}")"
row hv1 Chassis "insert a row named hv2" refused \
    "$(insert Chassis '{"name": "hv2", "state": "up"}')"
row hv1 Chassis_Private "insert its own row" allowed \
    "$(insert Chassis_Private "{\"name\": \"hv1\", \"heartbeat\": $BEAT}")"
row hv1 Chassis_Private "update its own heartbeat" allowed \
    "$(update Chassis_Private "$(is name hv1)" "{\"heartbeat\": $((BEAT + 1))}")"

# by CLIENT OP...: CLIENT's transaction is allowed (for the set-up).
by() { as "$@" >"$T/reply" && [ "$(verdict <"$T/reply")" = allowed ]; }
register() {  # register HOST N: HOST's Chassis and Chassis_Private rows
    by "$1" "$(insert Chassis "{\"name\": \"$1\", \"state\": \"up\",
                 \"pas\": \"10.0.1.$2\", \"versions\": $VERSIONS}")" \
        "$(insert Chassis_Private "{\"name\": \"$1\", \"heartbeat\": $BEAT}")"
}
check "hv2 registers itself" register hv2 12
check "hv3 registers itself" register hv3 13

# Another host's row holds what a migration's source trusts its
# destination by (address, libvirt URI, channel): never another host's.
row hv1 Chassis "update hv2's libvirt-uri" refused \
    "$(update Chassis "$(is name hv2)" '{"external_ids": ["map", [["libvirt-uri", "qemu+tls://10.0.1.11/system"]]]}')"
row hv1 Chassis "delete hv2's row" refused "$(delete Chassis "$(is name hv2)")"
row hv1 Chassis "rename its own row hv4" refused \
    "$(update Chassis "$(is name hv1)" '{"name": "hv4"}')"
row hv1 Chassis "update its own max_migrations" refused \
    "$(update Chassis "$(is name hv1)" '{"max_migrations": 8}')"
cli hv1 Chassis "vmroam host set hv1 --max-migrations 8" refused \
    host set hv1 --max-migrations 8
# What its host weighs is the agent's to say; whether placement may use
# the host is not.
row hv1 Chassis "update its own capacity" allowed \
    "$(update Chassis "$(is name hv1)" '{"capacity": ["map", [["memory_kb", 16777216], ["cpus", 8]]]}')"
row hv1 Chassis "take itself out of placement (maintenance)" refused \
    "$(update Chassis "$(is name hv1)" '{"maintenance": true}')"
cli admin Chassis "vmroam host set hv1 --max-migrations 3" allowed \
    host set hv1 --max-migrations 3
# A heartbeat says whether a host is up: another host's would keep a dead
# host chosen as a destination, or stop a live one from being chosen.
row hv1 Chassis_Private "update hv2's heartbeat" refused \
    "$(update Chassis_Private "$(is name hv2)" '{"heartbeat": 0}')"

# --- VMs: an agent writes the rows of those it runs.
row hv1 VM "insert web-1 on itself" allowed \
    "$(insert VM '{"name": "web-1", "chassis": "hv1", "state": "running"}')"
row hv1 VM "update web-1's size" allowed \
    "$(update VM "$(is name web-1)" '{"memory_kb": 1048576, "vcpus": 2, "disk_kb": 10485760}')"
cli hv1 VM "vmroam vm set web-1 --priority high" refused \
    vm set web-1 --priority high
row hv1 VM "insert web-9 on hv2" refused \
    "$(insert VM '{"name": "web-9", "chassis": "hv2"}')"
check "hv2 inserts db-1 on itself" by hv2 \
    "$(insert VM '{"name": "db-1", "chassis": "hv2"}')"
row hv1 VM "claim hv2's db-1" refused \
    "$(update VM "$(is name db-1)" '{"chassis": "hv1"}')"

# --- Policy and IPAM: the administrator's.
cli hv1 "policy tables" "vmroam policy apply one-tenant.json" refused \
    policy apply "$DATA/one-tenant.json"
cli admin "policy tables" "vmroam policy apply one-tenant.json" allowed \
    policy apply "$DATA/one-tenant.json"
# web-1's record is on hv1, and web-1 is not migrating: moving it would
# capture its traffic.
RECORD=$(is vm web-1)
row hv1 Lookup_Record "move web-1's record (not migrating)" refused \
    "$(update Lookup_Record "$RECORD" '{"pa": "10.0.1.13", "chassis": "hv3"}')"
row hv1 Lookup_Record "mark web-1's record as moving to itself" refused \
    "$(update Lookup_Record "$RECORD" '{"moving": ["map", [["source", "hv1"], ["destination", "hv1"]]]}')"
row hv1 Lookup_Record "insert a record for a new VM" refused \
    "$(insert Lookup_Record '{"vsid": 5001, "ca": "192.168.10.9", "mac": "02:00:c0:a8:0a:09", "pa": "10.0.1.11", "chassis": "hv1", "vm": "web-9"}')"
row hv1 Routing_Domain "insert one" refused \
    "$(insert Routing_Domain '{"name": "tenant-x"}')"
row hv1 Virtual_Subnet "delete tenant-a's" refused \
    "$(delete Virtual_Subnet '["vsid", "==", 5001]')"
row hv1 PA_Lease "insert one for itself" refused \
    "$(insert PA_Lease '{"address": "10.0.1.50", "provider_subnet": "10.0.1.0/24", "chassis": "hv1", "state": "active"}')"
row hv1 Plan "plan a drain of hv2" refused \
    "$(insert Plan '{"kind": "drain", "target": "hv2"}')"
cli hv1 "Chassis, Plan" "vmroam host drain hv2" refused host drain hv2
# The role's own tables: no agent grants itself more, or opens a listener.
row hv1 RBAC_Permission "add max_migrations to its Chassis rights" refused \
    "$(mutate RBAC_Permission "$(is table Chassis)" '["update", "insert", ["set", ["max_migrations"]]]')"
row hv1 Connection "make the listener plain ptcp" refused \
    "$(update Connection '["role", "==", "vmroam-agent"]' "{\"target\": \"ptcp:$PORT:127.0.0.1\"}")"
row hv1 Vmroam_Global "drop the database's listeners" refused \
    "$(update Vmroam_Global '' '{"connections": ["set", []]}')"
# Any agent may bump the generation: a record move bumps it in the same
# transaction (SCHEMA.md, "The generation"), and RBAC cannot tell that
# bump from another.  The worst an agent does with it is make the others
# recompute their flows for nothing.
row hv3 Vmroam_Global "bump the generation" allowed \
    "$(mutate Vmroam_Global '' '["generation", "+=", 1]')"

# --- A migration: only the administrator queues it; then its two hosts
# write its progress and move the VM's records, and no other host does.
cli hv1 "Migration, VM, Lookup_Record" "vmroam migrate web-1 --to hv3" refused \
    migrate web-1 --to hv3
cli admin "Migration, VM, Lookup_Record" "vmroam migrate web-1 --to hv2" allowed \
    migrate web-1 --to hv2
MIGRATION=$(is vm web-1)
row hv1 Migration "update its state and progress (source)" allowed \
    "$(update Migration "$MIGRATION" '{"state": "memory", "progress": 40}')"
row hv2 Migration "say destination-ready (destination)" allowed \
    "$(update Migration "$MIGRATION" '{"external_ids": ["map", [["destination-ready", "yes"]]]}')"
row hv1 Migration "change its destination to hv3" refused \
    "$(update Migration "$MIGRATION" '{"destination": "hv3"}')"
row hv1 Migration "change its options" refused \
    "$(update Migration "$MIGRATION" '{"options": ["map", [["bandwidth", "1"]]]}')"
row hv1 Migration "insert one" refused \
    "$(insert Migration '{"vm": "db-1", "source": "hv2", "destination": "hv1", "state": "queued"}')"
row hv3 Migration "update the state of hv1 -> hv2's" refused \
    "$(update Migration "$MIGRATION" '{"state": "failed"}')"
row hv3 Lookup_Record "move web-1's record to itself (not its migration)" refused \
    "$(update Lookup_Record "$RECORD" '{"pa": "10.0.1.13", "chassis": "hv3"}')"
row hv3 VM "claim web-1 (not its migration)" refused \
    "$(update VM "$(is name web-1)" '{"chassis": "hv3"}')"
# The switchover as the destination's executor writes it: the records, the
# VM and the generation in one transaction.
row hv2 "Lookup_Record, VM, Vmroam_Global" "move web-1's record and VM to itself, bump the generation (destination)" allowed \
    "$(update Lookup_Record "$RECORD" '{"pa": "10.0.1.12", "chassis": "hv2"}')" \
    "$(update VM "$(is name web-1)" '{"chassis": "hv2"}')" \
    "$(mutate Vmroam_Global '' '["generation", "+=", 1]')"
row hv1 Lookup_Record "move web-1's record back (source)" allowed \
    "$(update Lookup_Record "$RECORD" '{"pa": "10.0.1.11", "chassis": "hv1"}')"
row hv1 "Lookup_Record, VM" "clear the moving marks (source, migration over)" allowed \
    "$(update Lookup_Record "$RECORD" '{"moving": ["map", []]}')" \
    "$(update VM "$(is name web-1)" '{"moving": ["map", []], "chassis": "hv1"}')"
row hv2 Lookup_Record "move web-1's record once the marks are gone" refused \
    "$(update Lookup_Record "$RECORD" '{"pa": "10.0.1.12", "chassis": "hv2"}')"
row hv2 VM "claim web-1 once the marks are gone" refused \
    "$(update VM "$(is name web-1)" '{"chassis": "hv2"}')"

echo "# RBAC matrix:"
{
    echo "client|table|operation|expected|got"
    cat "$T/matrix"
} | column -t -s '|' -o ' | '

# --- Connections the listener refuses: each tries to write what hv1's
# certificate could (hv1's libvirt URI), and gets no answer at all.
EVIL=$(update Chassis "$(is name hv1)" '{"external_ids": ["map", [["libvirt-uri", "qemu+tls://10.6.6.6/system"]]]}')
: >"$T/connections"
# refused_connection DESCRIPTION COMMAND...: COMMAND fails and the
# database is unchanged.
refused_connection() {
    local desc=$1 status got
    shift
    snapshot >"$T/before"
    "$@" >"$T/reply" 2>&1
    status=$?
    if [ $status = 0 ]; then
        got="answered (exit 0)"
    elif ! unchanged; then
        got="exit $status, yet the database changed (or could not be read)"
    else
        got="refused (exit $status)"
    fi
    echo "$desc|refused|$got" >>"$T/connections"
    case "$got" in
    refused*) pass "$desc: refused, nothing changed" ;;
    *) fail "$desc: $got"; sed 's/^/    | /' "$T/reply" | head -10 ;;
    esac
}
# ssl_as KEY CERT: ovsdb-client with that key and certificate tries EVIL.
ssl_as() {
    timeout 10 ovsdb-client transact "$SSL" --private-key="$1" \
        --certificate="$2" --ca-cert="$PKI/cacert.pem" "[\"vmroam\", $EVIL]"
}

# A certificate for hv1 from a CA the database does not trust.
other_ca() {
    "$VMROAM" --state-dir "$T/other" pki init &&
        "$VMROAM" --state-dir "$T/other" pki host hv1
}
check "another CA, and a certificate for hv1 from it" other_ca
refused_connection "hv1's name, certificate from another CA" \
    ssl_as "$T/other/pki/hv1-privkey.pem" "$T/other/pki/hv1-cert.pem"

# hv1's own key, with a certificate of the right CA that has expired.
expired() { expired_cert "$PKI" "$PKI/hv1-privkey.pem" hv1 "$T/expired"; }
check "a certificate for hv1 of the right CA that expired in 2020" expired
refused_connection "hv1's key, expired certificate of the right CA" \
    ssl_as "$PKI/hv1-privkey.pem" "$T/expired/hv1-cert.pem"

# No certificate.  ovsdb-client does not even try without a key; the
# server's side is seen with a bare TLS client (openssl s_client) that
# writes the JSON-RPC request itself.  The same probe with hv1's
# certificate gets an answer to a harmless request, so the probe works.
no_key() {
    timeout 10 ovsdb-client transact "$SSL" --ca-cert="$PKI/cacert.pem" \
        "[\"vmroam\", $EVIL]"
}
probe() {  # probe HOST|"" OP: OP over TLS, with HOST's certificate or none
    local cert=()
    [ -n "$1" ] && cert=(-cert "$PKI/$1-cert.pem" -key "$PKI/$1-privkey.pem")
    { printf '{"id": 1, "method": "transact", "params": ["vmroam", %s]}' "$2"
      sleep 1; } |
        timeout 5 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$PORT" \
            -CAfile "$PKI/cacert.pem" "${cert[@]}" 2>&1
}
answered() { probe "$@" | grep -q '"id":1'; }
refused_connection "no --private-key: ovsdb-client" no_key
refused_connection "no certificate: a bare TLS client" answered "" "$EVIL"
check "the bare TLS client with hv1's certificate gets an answer" \
    answered hv1 '{"op": "comment", "comment": "probe"}'

refused_connection "plaintext TCP on the SSL port" \
    timeout 5 ovsdb-client transact "tcp:127.0.0.1:$PORT" "[\"vmroam\", $EVIL]"
refused_connection "plaintext TCP on the SSL port: list-dbs" \
    timeout 5 ovsdb-client list-dbs "tcp:127.0.0.1:$PORT"

echo "# connections:"
{
    echo "client|expected|got"
    cat "$T/connections"
} | column -t -s '|' -o ' | '
finish
