#!/bin/bash
# IPv6 customer addresses and the distributed router, live, on
# labs/routed.json: 2 hosts on 2 provider subnets, one tenant with two IPv4
# and two IPv6 virtual subnets, and a customer route of each family whose
# next hop is a VM (r1, r6).  The lab and its namespaces are this test's own.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/lab-lib.bash"
NAME=vmrte
lab_init routed.json $NAME
# The packets a flow of HOST's br-int has matched (flows whose match has
# every word of MATCH, comma-separated, as dump-flows prints it).
n_packets() {
    X "$1" ovs-ofctl -O OpenFlow15 dump-flows br-int "$2" \
        | sed -n 's/.*n_packets=\([0-9]*\),.*/\1/p' | awk '{ s += $1 } END { print s + 0 }'
}
# ping_check DESC PATTERN NODE PING-ARGS...: the ping succeeds and its output
# has PATTERN (e.g. the TTL of the replies).
ping_check() {
    desc=$1 pattern=$2; shift 2
    node=$1; shift
    if X "$node" ping "$@" >"$T/ping" 2>&1 && grep -q -- "$pattern" "$T/ping"; then
        pass "$desc"
    else
        fail "$desc"; sed 's/^/    | /' "$T/ping" | head -8
    fi
}

check "lab up: IPv4 and IPv6 VMs, their ports installed, DAD done" "$LABS/lab" up "$LAB"
[ $N_FAIL = 0 ] || finish

# --- IPv6 across provider subnets, neighbour discovery answered locally.
ping_check "IPv6: c6 (hv1, rack-1) pings c7 (hv2, rack-2) in fd00:30::/64" \
    "0% packet loss" c6 -c 3 -i 0.1 -W 1 fd00:30::11
if capture_gre hv1 c6 fd00:30::11 "ICMP6, echo request" 3; then
    pass "the capture on hv1's uplink saw c6's pings, before and after it forgot its neighbours"
else
    fail "the capture on hv1's uplink missed c6's pings inside GRE"
fi
if grep -q "neighbor solicitation\|neighbor advertisement" "$T/gre"; then
    fail "IPv6 neighbour discovery inside GRE:"; grep -m3 "neighbor" "$T/gre"
else
    pass "no IPv6 neighbour discovery inside GRE on the underlay"
fi
X c6 ip -6 neigh show fd00:30::11 >"$T/neigh"
check_output "the switch answered c6's solicitation with c7's MAC" "$T/neigh" \
    "lladdr $(mac_of c7)"

# --- IPv6 port security.
before=$(rx c7)
X c6 ip addr add fd00:31::10/128 dev eth0 nodad       # r6's address
check_status "IPv6: c6 sending from r6's address is dropped" 1 \
    X c6 ping -c 3 -i 0.1 -W 1 -I fd00:31::10 fd00:30::11
X c6 ip addr del fd00:31::10/128 dev eth0
after=$(rx c7)
if [ "$before" = "$after" ]; then pass "c7 received none of the spoofed IPv6 packets"
else fail "c7 received $((after - before)) spoofed IPv6 packets"; fi

# ICMPv6 sent raw from c6 to c7's MAC: an echo request (the control: the
# sender works and the switch delivers it), then a router advertisement
# and a redirect from c6's link-local address, then a router advertisement
# from its CA; none of those three may reach c7.
cat >"$T/icmp6.py" <<'PY'
import socket, struct, sys
def addr(a): return socket.inet_pton(socket.AF_INET6, a)
def mac(m): return bytes.fromhex(m.replace(":", ""))
dst_mac, src_mac, src, dst, icmp_type = sys.argv[1:6]
if icmp_type == "128":
    body = struct.pack("!HH", 0x7e57, 1) + b"vmroam" * 4
elif icmp_type == "134":        # hop limit 64, lifetime 1800 s: a default router
    body = struct.pack("!BBHII", 64, 0, 1800, 0, 0)
else:                           # redirect: target and destination addresses
    body = struct.pack("!I", 0) + addr(src) + addr(dst)
msg = struct.pack("!BBH", int(icmp_type), 0, 0) + body
pseudo = addr(src) + addr(dst) + struct.pack("!I3xB", len(msg), 58)
data = pseudo + msg
s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
while s >> 16: s = (s & 0xffff) + (s >> 16)
msg = msg[:2] + struct.pack("!H", ~s & 0xffff) + msg[4:]
ip6 = struct.pack("!IHBB", 6 << 28, len(msg), 58, 255) + addr(src) + addr(dst)
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind(("eth0", 0))
sock.send(mac(dst_mac) + mac(src_mac) + b"\x86\xdd" + ip6 + msg)
PY
LLA_C6=fe80::ff:fe51:310
LLA_C7=fe80::ff:fe51:311
send6() { X c6 python3 "$T/icmp6.py" "$(mac_of c7)" "$(mac_of c6)" "$@"; }
X c7 timeout 30 tcpdump -nn -l -i eth0 \
    "icmp6 and (ip6[40] == 128 or ip6[40] == 134 or ip6[40] == 137)" >"$T/c7" 2>/dev/null &
cap=$!
markers() { grep -c "echo request" "$T/c7"; }
for _ in $(seq 100); do
    send6 fd00:30::10 fd00:30::11 128
    sleep 0.05
    [ "$(markers)" -gt 0 ] && break
done
n0=$(markers)
if [ "$n0" -gt 0 ]; then pass "a raw ICMPv6 echo request from c6 reaches c7 (seen by a capture in c7)"
else fail "the raw echo request from c6 never reached c7"; fi
dropped() {
    echo $(($(n_packets hv1 "table=2,icmp6,icmp_type=134")
            + $(n_packets hv1 "table=2,icmp6,icmp_type=137")))
}
drops0=$(dropped)
send6 $LLA_C6 $LLA_C7 134
send6 $LLA_C6 $LLA_C7 137
send6 fd00:30::10 fd00:30::11 134
send6 fd00:30::10 fd00:30::11 128     # a marker after them
for _ in $(seq 100); do [ "$(markers)" -gt "$n0" ] && break; sleep 0.05; done
kill $cap 2>/dev/null; wait $cap 2>/dev/null
if [ $(($(dropped) - drops0)) = 3 ]; then
    pass "hv1's port security dropped c6's 2 router advertisements and its redirect"
else
    fail "hv1 dropped $(($(dropped) - drops0)) of c6's 3 router advertisements and redirects"
fi
if [ "$(markers)" -gt "$n0" ] && ! grep -q "router advertisement\|redirect" "$T/c7"; then
    pass "c7 received the marker after them but no router advertisement or redirect"
else
    fail "c7's capture:"; sed 's/^/    | /' "$T/c7" | tail -8
fi
X c7 ip -6 route show default >"$T/routes"
if grep -q "fe80::" "$T/routes"; then fail "c7 learnt a default router from c6"; cat "$T/routes"
else pass "c7 has no default route via c6"; fi

# --- The distributed router: across virtual subnets, TTL decremented.
ping_check "IPv4: c1 (5101, hv1) reaches c2 (5102, hv2), TTL 64 - 1" "ttl=63" \
    c1 -c 3 -i 0.1 -W 1 192.168.31.1
ping_check "IPv6: c6 (5103, hv1) reaches r6 (5104, hv2), hop limit 64 - 1" "ttl=63" \
    c6 -c 3 -i 0.1 -W 1 fd00:31::10

# --- The router answers pings to its addresses.
ping_check "IPv4: c1 pings its gateway 192.168.30.254 (answered by the switch)" \
    "ttl=255" c1 -c 3 -i 0.1 -W 1 192.168.30.254
ping_check "IPv4: c1 pings the router's address in the other subnet, 192.168.31.254" \
    "ttl=255" c1 -c 2 -i 0.1 -W 1 192.168.31.254
ping_check "IPv6: c6 pings its gateway fd00:30::1" "ttl=255" c6 -c 3 -i 0.1 -W 1 fd00:30::1
ping_check "IPv6: c7 (hv2) pings its gateway fd00:30::1" "ttl=255" c7 -c 2 -i 0.1 -W 1 fd00:30::1

# --- Customer routes: via r1 (IPv4) and r6 (IPv6), which own addresses in
# the routed prefixes; replies come from those prefixes.
X r1 ip addr add 10.30.0.1/32 dev lo
X r1 ip addr add 10.31.0.1/32 dev lo
X r6 ip addr add fd00:99::1/128 dev lo
ping_check "IPv4 customer route 10.30.0.0/16 via r1: c1 pings 10.30.0.1" "ttl=63" \
    c1 -c 3 -i 0.1 -W 1 10.30.0.1
check_status "no route to 10.31.0.0/16: c1's ping to 10.31.0.1 is dropped" 1 \
    X c1 ping -c 2 -i 0.1 -W 1 10.31.0.1
ping_check "IPv6 customer route fd00:99::/64 via r6: c6 pings fd00:99::1" "ttl=63" \
    c6 -c 3 -i 0.1 -W 1 fd00:99::1
# Only the next hop may send from the routed prefix.
X c2 ip addr add 10.30.0.9/32 dev lo
check_status "c2 (not the next hop) sending from 10.30.0.9 is dropped" 1 \
    X c2 ping -c 2 -i 0.1 -W 1 -I 10.30.0.9 192.168.30.1
X c2 ip addr del 10.30.0.9/32 dev lo

# --- Duplicate address detection: c7 takes its address again (as a guest
# does at boot); the switch drops the solicitation and c7 keeps it.
dad0=$(n_packets hv2 "table=3,icmp6,ipv6_src=::,icmp_type=135")
X c7 ip addr del fd00:30::11/64 dev eth0
X c7 ip addr add fd00:30::11/64 dev eth0
X c7 ip -6 route replace default via fd00:30::1
state=tentative
for _ in $(seq 100); do
    X c7 ip -6 -o addr show dev eth0 to fd00:30::11/128 >"$T/addr"
    grep -q tentative "$T/addr" || { state=$(grep -o dadfailed "$T/addr" || echo done); break; }
    sleep 0.05
done
dad=$(n_packets hv2 "table=3,icmp6,ipv6_src=::,icmp_type=135")
if [ "$state" = done ] && [ "$dad" -gt "$dad0" ]; then
    pass "c7's DAD solicitation reached hv2's switch, was not answered, c7 keeps fd00:30::11"
else
    fail "DAD: address $state, solicitations dropped by hv2 $dad0 -> $dad"
fi
ping_check "c6 reaches c7 again" "0% packet loss" c6 -c 2 -i 0.1 -W 1 fd00:30::11

check "lab down" "$LABS/lab" down "$LAB"
ip netns list | grep -q "^$NAME-" && fail "namespaces left: $(ip netns list | grep "^$NAME-")" || pass "no lab namespace left"
finish
