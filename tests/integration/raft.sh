#!/bin/bash
# The vmroam schema as a 3-member Raft cluster, SSL end to end, run as
# README's recipe runs it: each member a host of its own (a network
# namespace at 10.0.0.N on one bridge), Raft between them over
# ssl:10.0.0.N:6645 (a capture sees TLS and no Raft message in clear),
# a unix socket on each for administrators, and one Connection row,
# pssl:6641 with the agent role, that every member serves.  The
# administrator applies through a member that does not lead; an agent's
# certificate registers its host and reads through ssl:A,ssl:B,ssl:C but
# may not apply a policy.  After the leader is killed, both still work.
. "$(dirname "$0")/../lib.sh"

DATA="$TESTS_DIR/data"
NS=vmraft-$$
LAN=$NS-lan  # the bridge, and the hypervisor whose agent connects
on_exit "for n in 1 2 3 lan; do ip netns del $NS-\$n 2>/dev/null; done"
vmroam() { "$VMROAM" --state-dir "$T" "$@"; }
# member N CMD...: CMD on member N, as root there, whose state is in $T/hN.
member() { local n=$1; shift; ip netns exec "$NS-$n" "$VMROAM" --state-dir "$T/h$n" "$@"; }
PKI="$T/pki"
AGENT=(--db ssl:10.0.0.1:6641,ssl:10.0.0.2:6641,ssl:10.0.0.3:6641
       --private-key "$PKI/hv1-privkey.pem" --certificate "$PKI/hv1-cert.pem"
       --ca-cert "$PKI/cacert.pem")
agent() { ip netns exec "$LAN" "$VMROAM" "${AGENT[@]}" --timeout 20 "$@"; }
wait_for() {  # wait_for COMMAND...: true once COMMAND succeeds (20 s)
    local deadline=$(( $(date +%s) + 20 ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt $deadline ] || return 1
        sleep 0.1
    done
}

network() {
    ip netns add "$LAN" && ip -n "$LAN" link set lo up &&
        ip -n "$LAN" link add br0 type bridge &&
        ip -n "$LAN" addr add 10.0.0.10/24 dev br0 &&
        ip -n "$LAN" link set br0 up || return 1
    for n in 1 2 3; do
        ip netns add "$NS-$n" && ip -n "$NS-$n" link set lo up &&
            ip -n "$NS-$n" link add eth0 type veth peer name m$n netns "$LAN" &&
            ip -n "$NS-$n" addr add "10.0.0.$n/24" dev eth0 &&
            ip -n "$NS-$n" link set eth0 up &&
            ip -n "$LAN" link set "m$n" master br0 up || return 1
    done
}
check "three member hosts and a hypervisor on one network" network

pki() {
    vmroam pki init && vmroam pki host db1 && vmroam pki host db2 &&
        vmroam pki host db3 && vmroam pki host hv1
}
check "a PKI: a CA, a certificate for each member and for hypervisor hv1" pki

# Every Raft connection goes over the bridge: capture them all.
ip netns exec "$LAN" tcpdump -U -i br0 -w "$T/raft.pcap" tcp port 6645 \
    2>"$T/tcpdump.err" &
capture=$!
PIDS="$PIDS $capture"
check "a capture of Raft's port on the bridge" \
    wait_for grep -q "listening on br0" "$T/tcpdump.err"

vmroam db schema >"$T/vmroam.ovsschema"
mkdir -p "$T/h1" "$T/h2" "$T/h3"
check "create-cluster on member 1 with ssl:" ovsdb-tool create-cluster \
    "$T/h1/vmroam.db" "$T/vmroam.ovsschema" ssl:10.0.0.1:6645
for n in 2 3; do
    check "join-cluster member $n with ssl:" ovsdb-tool join-cluster \
        "$T/h$n/vmroam.db" vmroam "ssl:10.0.0.$n:6645" ssl:10.0.0.1:6645
done
for n in 1 2 3; do
    check "member $n starts: unix socket, db: remote, SSL files" \
        ip netns exec "$NS-$n" ovsdb-server "$T/h$n/vmroam.db" \
        --remote="punix:$T/h$n/db.sock" \
        --remote=db:vmroam,Vmroam_Global,connections \
        --private-key="$PKI/db$n-privkey.pem" \
        --certificate="$PKI/db$n-cert.pem" --ca-cert="$PKI/cacert.pem" \
        --pidfile="$T/h$n/ovsdb-server.pid" \
        --unixctl="$T/h$n/ovsdb-server.ctl" \
        --log-file="$T/h$n/ovsdb-server.log" --detach --no-chdir
    track_pidfile "$T/h$n/ovsdb-server.pid"
done

status() { ovs-appctl -t "$T/h$1/ovsdb-server.ctl" cluster/status vmroam; }
# The member that leads now, other than member $1 (if given).
leader() {
    local n
    for _ in $(seq 100); do
        for n in 1 2 3; do
            [ "$n" != "${1:-}" ] && status $n 2>/dev/null |
                grep -q "^Role: leader" && { echo $n; return 0; }
        done
        sleep 0.1
    done
    return 1
}
L=$(leader)
if [ -n "$L" ]; then pass "the cluster has a leader (member $L)"; else fail "no leader"; fi
F=$(( L % 3 + 1 ))  # a member that does not lead

# Each member's Raft address is ssl:, and it is connected both ways to
# the other two ("->ID" out, "<-ID" in).
connected() {
    local out
    out=$(status $1) || return 1
    echo "$out" | grep -qx "Address: ssl:10.0.0.$1:6645" &&
        [ "$(echo "$out" | grep -c "at ssl:10.0.0.[123]:6645")" = 3 ] &&
        [ "$(echo "$out" | sed -n 's/^Connections://p' | tr ' ' '\n' |
             grep -c '^[<-]')" = 4 ]
}
for n in 1 2 3; do
    check "member $n: Raft over ssl:, connected to both others" wait_for connected $n
done
check "cluster/status names ssl: members" status $F
check_output "such as member 1" "$T/out" "at ssl:10.0.0.1:6645)"

check "db listen 6641 through member $F's unix socket (not the leader)" \
    member $F db listen 6641
check_output "one listener for agents, with their role" "$T/out" \
    "agents: pssl:6641 (role vmroam-agent)"
listens() { [ -n "$(ip netns exec "$NS-$1" ss -Htln sport = :6641)" ]; }
for n in 1 2 3; do
    check "member $n serves agents on its own pssl:6641" wait_for listens $n
done

check "the administrator applies through member $F's unix socket" \
    member $F --timeout 20 policy apply "$DATA/two-tenants.json"
check_output "the apply bumped the generation" "$T/out" "generation 1"

check "vmroamd on hv1 starts with its certificate and ssl:A,ssl:B,ssl:C" \
    ip netns exec "$LAN" "$VMROAM_BIN/vmroamd" --chassis hv1 "${AGENT[@]}" \
    --ovs-db "unix:$T/no-ovs.sock" --pa 10.0.1.11 --detach --no-chdir \
    --pidfile="$T/vmroamd.pid" --log-file="$T/vmroamd.log" \
    --unixctl="$T/vmroamd.ctl"
track_pidfile "$T/vmroamd.pid"
registered() { agent host list | grep -q "^hv1 .* up "; }
check "its Chassis row arrives, through the agent role" wait_for registered
check "the agent's certificate reads the policy" agent policy show
check_output "at the generation applied" "$T/out" "generation 1"
check_status "the agent's certificate may not apply a policy" 1 \
    agent policy apply "$DATA/one-tenant.json"
check_output "says who was refused what" "$T/err" "the database refused the change"
check_output "and who may" "$T/err" "policy, IPAM, migrations and host settings come from an"

kill "$(cat "$T/h$L/ovsdb-server.pid")"
killed=$(date +%s)
S=$(leader "$L")
if [ -n "$S" ]; then pass "a new leader (member $S) after member $L was killed"; else fail "no new leader"; fi
A=$(( 6 - L - S ))  # the surviving member that does not lead
check "the administrator applies through member $A's unix socket" \
    member $A --timeout 20 policy apply "$DATA/one-tenant.json"
check_output "the change committed" "$T/out" "generation 2"
check "the agent's certificate still reads, from the surviving members" \
    agent policy export -o "$T/export.json"
"$VMROAM" policy format "$DATA/one-tenant.json" -o "$T/canonical.json"
check "it reads the new policy" cmp "$T/export.json" "$T/canonical.json"
# hv1's agent was heard from after the kill: it reached a member that
# survived (any member serves an agent).
heard_since_kill() {
    local ago
    ago=$(agent host list | sed -n 's/^hv1 .* \([0-9]*\) s ago .*/\1/p')
    [ -n "$ago" ] && [ $(( $(date +%s) - ago )) -gt $(( killed + 1 )) ]
}
check "vmroamd on hv1 reaches a surviving member: a heartbeat since the kill" \
    wait_for heard_since_kill
check_status "and still may not apply a policy" 1 \
    agent policy apply "$DATA/two-tenants.json"
check_output "the role refuses it" "$T/err" "the database refused the change"

# Raft's messages went encrypted: TLS records, and none of the method
# names Raft sends in clear over tcp: (its heartbeats are append_request).
stop_pids $capture
# tls_records TYPE: how many packets begin with a TLS record of TYPE.
tls_records() {
    tcpdump -r "$T/raft.pcap" "tcp[((tcp[12] & 0xf0) >> 2)] = $1" 2>/dev/null | wc -l
}
hello=$(tls_records 0x16)
data=$(tls_records 0x17)
if [ "$hello" -gt 0 ] && [ "$data" -gt 0 ]; then
    pass "the capture has TLS handshakes ($hello packets) and encrypted records ($data)"
else
    fail "TLS on 6645: $hello handshake packets, $data with encrypted records"
fi
clear=$(tcpdump -r "$T/raft.pcap" -A 2>/dev/null | grep -c "append_request\|vote_request")
if [ "$clear" = 0 ]; then pass "and no Raft message in clear"; else fail "$clear Raft messages in clear"; fi
finish
