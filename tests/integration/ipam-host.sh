#!/bin/bash
# The host side of IPAM on a real network namespace: vmroamd puts its
# leased PA and default route on the underlay device through netlink, takes
# it off when the lease is released, and reports the underlay link going
# down and up in its Chassis row within a second.
. "$(dirname "$0")/../lib.sh"

NS=vmrt-ipam-$$
on_exit "ip netns del $NS 2>/dev/null"
S="--state-dir $T/db"
vmroam() { "$VMROAM" $S "$@"; }
in_ns() { ip netns exec "$NS" "$@"; }

check "database starts" start_db db
cat >"$T/p.json" <<'J'
{"provider_subnets": [{"footprint": "rack-1", "prefix": "10.77.1.0/24", "gateway": "10.77.1.1"}]}
J
check "apply provider subnets" vmroam policy apply "$T/p.json"
check "lease a PA to hv1" vmroam ipam pa allocate --host hv1
pa=$(cat "$T/out")

ip netns add "$NS"
in_ns ip link set lo up
in_ns ip link add uplink0 type veth peer name peer0
in_ns ip link set peer0 up
in_ns ip link set uplink0 up
# vmroamd speaks to no switch here: only its IPAM host side is exercised.
in_ns "$VMROAM_BIN/vmroamd" --chassis hv1 --db "unix:$T/db/db.sock" \
    --ovs-db "unix:$T/no-ovs.sock" --underlay-dev uplink0 --uplink uplink0 \
    --pidfile="$T/vmroamd.pid" --unixctl="$T/vmroamd.ctl" \
    -vconsole:off --log-file="$T/vmroamd.log" --detach
track_pidfile "$T/vmroamd.pid"

wait_until() {  # wait_until SECONDS COMMAND...: true once COMMAND succeeds
    local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s%N)" -lt $deadline ] || return 1
        sleep 0.05
    done
}
has_pa() { in_ns ip -4 addr show dev uplink0 | grep -q "inet $pa/24"; }
has_route() { in_ns ip route show default | grep -q "via 10.77.1.1 dev uplink0"; }
# The underlay column (5th) of hv1's row.
chassis_link() { vmroam host list | awk '$1 == "hv1" {print $5}' | grep -qx "$1"; }

check "vmroamd puts the leased PA $pa/24 on the underlay device" wait_until 3 has_pa
check "and the default route via the subnet gateway" wait_until 3 has_route
check "its Chassis row reports the PA" wait_until 3 sh -c "'$VMROAM' $S host list | grep -q '$pa'"
check "and the underlay link up" wait_until 3 chassis_link up

in_ns ip link set peer0 down
check "carrier lost: the Chassis row says down within a second" wait_until 1 chassis_link down
in_ns ip link set peer0 up
check "carrier back: up again within a second" wait_until 1 chassis_link up

in_ns ip addr del "$pa/24" dev uplink0
check "an address removed by hand is put back" wait_until 3 has_pa
check "with its default route" wait_until 3 has_route

check "vmroamd/host shows what netlink sees" \
    ovs-appctl -t "$T/vmroamd.ctl" vmroamd/host
check_output "the underlay and its PA" "$T/out" "underlay: uplink0 (PA $pa/24)"

check "release the PA lease" vmroam ipam release "$pa"
check "vmroamd takes the address off the device" wait_until 3 sh -c "! ip netns exec $NS ip -4 addr show dev uplink0 | grep -q 'inet $pa/'"
finish
