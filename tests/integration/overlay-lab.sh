#!/bin/bash
# The overlay on the real lab: 3 hosts on 2 provider subnets, each with its
# own ovsdb-server, ovs-vswitchd (userspace datapath) and vmroamd (on the
# database over SSL, on the management network), in network namespaces
# this test creates and removes; two tenants with the same customer prefix.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/lab-lib.bash"
lab_init default.json vmrt
STATE=/run/vmroam-lab/vmrt       # the lab's hosts and its database
DB="--state-dir $STATE/db"
# A host's PA: the lab leases it from IPAM.
pa_of() { "$VMROAM" $DB ipam leases --format json | python3 -c "import json,sys; t=json.load(sys.stdin); h=t['headings']; print([r[h.index('address')] for r in t['data'] if r[h.index('kind')]=='PA' and r[h.index('state')]=='active' and r[h.index('holder')]=='$1'][0])"; }

check "lab up: every VM port installed" "$LABS/lab" up "$LAB"
[ $N_FAIL = 0 ] || finish
PA_HV1=$(pa_of hv1) PA_HV2=$(pa_of hv2) PA_HV3=$(pa_of hv3)
if [ -n "$PA_HV1" ] && [ -n "$PA_HV2" ] && [ -n "$PA_HV3" ]; then
    pass "each host has a PA leased from IPAM ($PA_HV1 $PA_HV2 $PA_HV3)"
else
    fail "PA leases: hv1 '$PA_HV1' hv2 '$PA_HV2' hv3 '$PA_HV3'"; finish
fi
X hv1 ip -4 addr show dev br-phy >"$T/br-phy"
check_output "vmroamd put hv1's leased PA on br-phy" "$T/br-phy" "inet $PA_HV1/24"
check "ipam check: lookup records and leases agree" "$VMROAM" $DB ipam check

# Each agent replicates the lookup records of its routing domains only:
# hv1 hosts tenant-a's a1 (a1 and a2's records), hv3 both tenants.
agent_status() { ovs-appctl -t "$STATE/$1/vmroamd.ctl" vmroamd/status; }
replicated() { agent_status "$1" | sed -n 's/^lookup records replicated: \([0-9]*\).*/\1/p'; }
if [ "$(replicated hv1)" = 2 ] && [ "$(replicated hv3)" = 4 ]; then
    pass "hv1 replicates tenant-a's 2 lookup records, hv3 all 4"
else
    fail "lookup records replicated: hv1 $(replicated hv1), hv3 $(replicated hv3)"
fi

# The agents reach the database over the management network, with SSL and
# their host certificates, under the agent role.
X mgmt ss -tnH state established "( sport = :6641 )" >"$T/ssl"
if [ "$(grep -c " 10\.254\.0\.1[012]:" "$T/ssl")" = 3 ]; then
    pass "hv1, hv2 and hv3 are connected to the database at 10.254.0.1:6641"
else fail "agents' connections to 10.254.0.1:6641: $(cat "$T/ssl")"; fi
check_status "hosts do not reach each other on the management network" 1 \
    X hv1 ping -c 1 -W 1 10.254.0.11
PKI=$STATE/db/pki
python3 - "$STATE/policy.json" "$T/steal.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["lookup_records"][0].update(pa="10.0.1.3", host="hv2")
json.dump(p, open(sys.argv[2], "w"))
PY
check_status "hv1's certificate cannot move a lookup record" 1 \
    X hv1 "$VMROAM" --db ssl:10.254.0.1:6641 --timeout 5 \
    --private-key "$PKI/hv1-privkey.pem" --certificate "$PKI/hv1-cert.pem" \
    --ca-cert "$PKI/cacert.pem" policy apply "$T/steal.json"
check_output "the database says why" "$T/err" 'client "hv1" role "vmroam-agent"'
check_status "plain TCP on the agents' listener gets no answer" 1 \
    X hv1 "$VMROAM" --db tcp:10.254.0.1:6641 --timeout 3 policy show

# Cross-subnet reachability in each tenant.
check "tenant-a: a1 (hv1, 10.0.1.0/24) pings a2 (hv3, 10.0.2.0/24)" \
    X a1 ping -c 3 -i 0.1 -W 1 192.168.10.2
check "tenant-b: b1 (hv2, 10.0.1.0/24) pings b2 (hv3, 10.0.2.0/24)" \
    X b1 ping -c 3 -i 0.1 -W 1 192.168.10.2

# Isolation: 192.168.10.2 is a2 for tenant-a and b2 for tenant-b.
X a1 ip neigh show 192.168.10.2 >"$T/neigh"
check_output "a1 resolves 192.168.10.2 to a2's MAC, not b2's" "$T/neigh" "$(mac_of a2)"
before=$(rx b2)
X a1 ping -c 20 -i 0.01 -W 1 192.168.10.2 >/dev/null
after=$(rx b2)
if [ "$before" = "$after" ]; then pass "b2 receives nothing while a1 talks to 192.168.10.2"
else fail "b2 received $((after - before)) packets of tenant-a"; fi

# 50 MB over TCP with 1500-byte frames, in each tenant.
head -c 52428800 /dev/urandom >"$T/blob"
want=$(sha256sum <"$T/blob" | cut -d' ' -f1)
for pair in "a1 a2" "b1 b2"; do
    set -- $pair
    X "$2" timeout 60 socat -u TCP-LISTEN:5001,reuseaddr OPEN:"$T/rx-$2",creat,trunc &
    srv=$!
    for _ in $(seq 100); do
        X "$2" ss -ltnH "sport = :5001" | grep -q . && break
        sleep 0.05
    done
    X "$1" timeout 60 socat -u OPEN:"$T/blob" TCP:192.168.10.2:5001
    wait $srv
    got=$(sha256sum <"$T/rx-$2" | cut -d' ' -f1)
    if [ "$got" = "$want" ]; then pass "50 MB TCP $1 -> $2 across subnets arrives intact"
    else fail "50 MB TCP $1 -> $2: $(stat -c %s "$T/rx-$2") bytes, checksum differs"; fi
done
rm -f "$T/blob" "$T"/rx-*
X a1 ip link show eth0 >"$T/link"
check_output "VM MTU stays 1500 over the MTU-9000 underlay" "$T/link" "mtu 1500"

# The switch routes only along what vmroamd gave it, the PA's subnet and
# gateway (overlay/routes.h): its own copy of the kernel's routes, which it
# drops and reloads at every link change of the host, would stop its
# tunnels for those milliseconds.  So a1's 1000 datagrams/s to an echo in
# a2 lose nothing while hv3's links change 50-250 times a second and flows
# come and go on its br-int (that makes the switch revalidate its flows,
# as a switchover does while a VM's tap is given offloads).
X hv3 ovs-appctl ovs/route/show >"$T/routes"
if [ "$(grep -c '^User: ' "$T/routes")" = 2 ] && ! grep -q '^Cached: ' "$T/routes" \
   && grep -q "^User: 0\.0\.0\.0/0 dev br-phy GW 10\.0\.2\.1 SRC $PA_HV3$" "$T/routes"; then
    pass "hv3's switch routes along the 2 routes vmroamd gave it, none of the kernel's"
else
    fail "hv3's switch routes: $(cat "$T/routes")"
fi
X hv3 ovs-vsctl get Interface vmroam-gre options >"$T/gre-options"
if grep -q local_ip "$T/gre-options"; then
    fail "the GRE port has a local_ip, which no route of the switch makes local: $(cat "$T/gre-options")"
else
    pass "the GRE port takes its source from the switch's route"
fi
# The echo holds 4 MB (SO_RCVBUFFORCE), so that a busy machine does not
# make it drop what the switch delivered (its host's UDP counters would
# tell), and the probe starts once it listens.
X a2 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)
s.bind(("0.0.0.0", 7))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)' &
echo_pid=$!
on_exit "kill $echo_pid 2>/dev/null"
for _ in $(seq 100); do
    X a2 ss -lunH "sport = :7" | grep -q . && break
    sleep 0.05
done
ip -n vmrt-hv3 link add churn0 type veth peer name churn1
churn() {  # churn SECONDS: link changes on hv3, flows in and out of br-int
    local end=$((SECONDS + $1)) i=0 br="unix:$STATE/hv3/br-int.mgmt"
    while [ $SECONDS -lt "$end" ]; do
        i=$((i + 1))
        ip -n vmrt-hv3 link set churn0 txqueuelen $((1000 + i % 2))
        case $((i % 10)) in
        0) ovs-ofctl -O OpenFlow15 add-flow $br "table=200,cookie=0x77,actions=drop" ;;
        5) ovs-ofctl -O OpenFlow15 del-flows $br "table=200,cookie=0x77/-1" ;;
        esac
    done
    ovs-ofctl -O OpenFlow15 del-flows $br "table=200,cookie=0x77/-1"
    echo "$i" >"$T/churned"
}
X a1 "$LABS/probe" --rate 1000 --duration 9 --linger 1 -o "$T/churn.probe" 192.168.10.2 \
    2>"$T/churn.err" &
probe=$!
sleep 0.5
churn 8
wait $probe
ip -n vmrt-hv3 link del churn0
summary=$(grep '^# sent' "$T/churn.probe")
udp_errors=$(X a2 awk '/^Udp:/ { if (n++) print "a2 UDP InErrors " $4 ", RcvbufErrors " $6 }' /proc/net/snmp)
if [ "$(cat "$T/churned")" -ge 400 ] && echo "$summary" | grep -q "echoed 9000, lost 0,"; then
    pass "hv3's links changed $(cat "$T/churned") times in 8 s: a1's datagrams to a2 all came back"
else
    fail "hv3's links changed $(cat "$T/churned") times: ${summary:-no probe summary: $(cat "$T/churn.err")}; $udp_errors"
fi

# Port security.
before=$(rx a2)
X a1 ip addr add 192.168.10.77/24 dev eth0
check_status "a1 sending from a CA not its own is dropped" 1 \
    X a1 ping -c 3 -i 0.1 -W 1 -I 192.168.10.77 192.168.10.2
X a1 ip addr del 192.168.10.77/24 dev eth0
X a1 ip link set eth0 address "$(mac_of a2)"
check_status "a1 sending with a2's MAC is dropped" 1 \
    X a1 ping -c 3 -i 0.1 -W 1 192.168.10.2
X a1 ip link set eth0 address "$(mac_of a1)"
after=$(rx a2)
if [ "$before" = "$after" ]; then pass "a2 received none of the spoofed packets"
else fail "a2 received $((after - before)) spoofed packets"; fi
check "a1 works again with its own MAC and CA" X a1 ping -c 2 -i 0.1 -W 1 192.168.10.2

# The GRE port accepts known keys from known PAs only (the switch's own
# pipeline, traced).
trace() {
    X hv3 ovs-appctl ofproto/trace br-int "in_port=vmroam-gre,tun_src=$1,tun_dst=$PA_HV3,tun_id=$2,dl_src=$(mac_of a1),dl_dst=$(mac_of a2),ip,nw_src=192.168.10.1,nw_dst=192.168.10.2" >"$T/trace"
    grep "^Datapath actions:" "$T/trace"
}
case "$(trace $PA_HV1 0x138900)" in *"actions: drop"*|"") fail "known PA and key not delivered" ;; *) pass "GRE from a known PA with a known key is delivered" ;; esac
case "$(trace 10.0.9.9 0x138900)" in *"actions: drop") pass "GRE from an unknown PA is dropped" ;; *) fail "GRE from an unknown PA not dropped" ;; esac
case "$(trace $PA_HV1 0x3e7700)" in *"actions: drop") pass "GRE with an unknown key is dropped" ;; *) fail "GRE with an unknown key not dropped" ;; esac

# ARP is answered on the host: no ARP ever crosses the underlay.
if capture_gre hv1 a1 192.168.10.2 "ICMP echo request" 5; then
    pass "the capture on hv1's uplink saw a1's pings, before and after it forgot its neighbours"
else
    fail "the capture on hv1's uplink missed a1's pings inside GRE"
fi
check_output "the underlay carries a1's traffic in GRE with key VSID<<8" "$T/gre" "key=0x138900"
if grep -q "ARP" "$T/gre"; then fail "ARP seen inside GRE on the underlay"
else pass "no ARP inside GRE on the underlay"; fi

# A lookup record moved to another host's PA: traffic follows.
check "move a2's NIC to hv2 (10.0.1.0/24)" "$LABS/lab" move "$LAB" a2 hv2
"$VMROAM" $DB policy export -o "$T/p.json"
python3 - "$T/p.json" "$PA_HV2" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
for r in p["lookup_records"]:
    if r.get("vm") == "a2":
        r.update(pa=sys.argv[2], host="hv2")
json.dump(p, open(sys.argv[1], "w"))
PY
# hv1 holds a2's record before and after (a remote one on hv3, then on
# hv2): its agent applies the change to that record's flows alone.
translations() { agent_status hv1 | sed -n 's/^translations: //p'; }
before=$(translations)
check "apply the moved lookup record" "$VMROAM" $DB policy apply --wait "$T/p.json"
after=$(translations)
full() { echo "$1" | cut -d' ' -f1; }
changes() { echo "$1" | cut -d' ' -f3; }
if [ -n "$before" ] && [ "$(full "$after")" = "$(full "$before")" ] \
   && [ "$(changes "$after")" -gt "$(changes "$before")" ]; then
    pass "hv1's agent applied the record's change alone ($before -> $after)"
else
    fail "hv1's agent translations: '$before' -> '$after'"
fi
ok=0
for _ in $(seq 50); do
    X a1 ping -c 1 -W 1 192.168.10.2 >/dev/null && { ok=1; break; }
    sleep 0.1
done
if [ $ok = 1 ]; then pass "a1 reaches a2 on its new host"; else fail "a1 cannot reach a2 after the move"; fi
check "the other tenant still works" X b1 ping -c 2 -i 0.1 -W 1 192.168.10.2

# Restarting vmroamd (killed, as in a crash) under ping -i 0.01 loses nothing.
# a2 (now on hv2) has received N more packets than BEFORE (10 s at most).
received() {
    for _ in $(seq 100); do
        [ $(($(rx a2) - $2)) -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
before=$(rx a2)
X a1 ping -q -i 0.001 -c 3000 -W 1 192.168.10.2 >"$T/ping" 2>&1 &
p=$!
check "a2 receives a1's pings before vmroamd is killed" received 200 "$before"
"$LABS/lab" stop "$LAB" hv1 vmroamd --kill >/dev/null
sleep 0.5                       # hv1 goes without its agent for a while
"$LABS/lab" start "$LAB" hv1 vmroamd >/dev/null
check "the pings still run when vmroamd is back" kill -0 "$p"
wait $p
check_output "vmroamd killed and restarted under 1000 pings/s: 0 lost" "$T/ping" " 0% packet loss"

# ovs-vswitchd restarted: vmroamd restores every flow.
flows() { X "$1" ovs-ofctl -O OpenFlow15 dump-flows br-int | grep -c "table="; }
n_before=$(flows hv3)
check "stop ovs-vswitchd on hv3" "$LABS/lab" stop "$LAB" hv3 ovs-vswitchd
# Without a switch, vmroamd waits for one, idle, and says so.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$(cat "$STATE/hv3/vmroamd.pid")/stat"; }
t0=$(cpu_ticks); sleep 2; t1=$(cpu_ticks)
if [ $((t1 - t0)) -lt 40 ]; then pass "hv3's vmroamd idles while no switch runs ($((t1 - t0)) ticks in 2 s)"
else fail "hv3's vmroamd used $((t1 - t0)) CPU ticks in 2 s without a switch"; fi
agent_status hv3 >"$T/status"
check_output "its status says the switch's routes wait for one" "$T/status" \
    "not in place: no ovs-vswitchd runs"
check "start ovs-vswitchd on hv3 again" "$LABS/lab" start "$LAB" hv3 ovs-vswitchd
X hv3 ovs-appctl ovs/route/show >"$T/routes"
check_output "the new switch has vmroamd's routes" "$T/routes" \
    "User: 0.0.0.0/0 dev br-phy GW 10.0.2.1"
ok=0
for _ in $(seq 100); do
    X b1 ping -c 1 -W 1 192.168.10.2 >/dev/null && { ok=1; break; }
    sleep 0.1
done
if [ $ok = 1 ]; then pass "traffic to hv3 flows again after the vswitchd restart"; else fail "no traffic to hv3 after vswitchd restart"; fi
n_after=$(flows hv3)
if [ "$n_before" = "$n_after" ] && [ "$n_after" -gt 10 ]; then pass "all $n_after flows restored on hv3"
else fail "flows on hv3: $n_before before, $n_after after"; fi

# A switch that does not answer on its control socket (stopped here, as a
# switch busy with a large bundle answers late) does not hold vmroamd up:
# its check of the switch's routes waits for the answer without blocking.
vswitchd_pid=$(cat "$STATE/hv3/ovs-vswitchd.pid")
kill -STOP "$vswitchd_pid"
sleep 6                         # past the routes' next check, every 5 s
timeout 2 ovs-appctl -t "$STATE/hv3/vmroamd.ctl" vmroamd/status \
    >"$T/status" 2>&1
answered=$?
kill -CONT "$vswitchd_pid"
if [ $answered = 0 ]; then pass "hv3's vmroamd answers while its switch does not"
else fail "hv3's vmroamd did not answer within 2 s while its switch was stopped"; fi
check_output "and says its check waits for the switch" "$T/status" \
    "(checking: the switch has not answered for"
# routes_in_place HOST: its vmroamd's last check of the switch's routes
# found them in place and no check waits.
routes_in_place() {
    agent_status "$1" >"$T/status"
    grep -q "^switch routes .*; in place$" "$T/status"
}
ok=0
for _ in $(seq 100); do routes_in_place hv3 && { ok=1; break; }; sleep 0.1; done
if [ $ok = 1 ]; then pass "once the switch answers, the check ends: routes in place"
else fail "hv3's switch routes: $(grep '^switch routes' "$T/status")"; fi

check "lab down" "$LABS/lab" down "$LAB"
ip netns list | grep -q "^vmrt-" && fail "namespaces left: $(ip netns list | grep '^vmrt-')" || pass "no lab namespace left"
finish
