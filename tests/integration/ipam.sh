#!/bin/bash
# IPAM against a real ovsdb-server: allocation, static addresses,
# reservations, release and reuse, exhaustion, provider subnets and
# footprints, the policy/IPAM consistency check, and 4 concurrent
# allocators that never hand out an address twice.
. "$(dirname "$0")/../lib.sh"

S="--state-dir $T/db"
vmroam() { "$VMROAM" $S "$@"; }
check "database starts" start_db db

# A /20 virtual subnet: 4093 usable addresses besides its gateway; the
# concurrency test below takes 4 x 1000 of them, then exhausts the rest.
cat >"$T/p.json" <<'J'
{"routing_domains": [{"name": "t", "virtual_subnets": [
   {"vsid": 5001, "prefix": "192.168.0.0/20", "gateway": "192.168.15.254"},
   {"vsid": 5002, "prefix": "192.168.20.0/29", "gateway": "192.168.20.6"},
   {"vsid": 5003, "prefix": "fd00:10::/64"}]}],
 "provider_subnets": [{"footprint": "rack-1", "prefix": "10.0.1.0/24", "gateway": "10.0.1.1"}],
 "lookup_records": [{"vsid": 5002, "ca": "192.168.20.1", "mac": "02:00:00:00:00:01",
                     "pa": "10.0.1.11", "host": "hv1", "vm": "web-1"}]}
J
check "apply a policy" vmroam policy apply "$T/p.json"

check "allocate the next free CA" vmroam ipam allocate --vsid 5002 --vm web-2
check_output "the record's CA is skipped: .2 comes first" "$T/out" "192.168.20.2"
check "allocate an IPv6 CA" vmroam ipam allocate --vsid 5003 --vm v6
check_output "IPv6 pool starts after the subnet-router anycast address" "$T/out" "fd00:10::1"
check "allocate a static CA" vmroam ipam allocate --vsid 5002 --address 192.168.20.4 --vm web-4
check_status "a static CA already leased: exit 1" 1 \
    vmroam ipam allocate --vsid 5002 --address 192.168.20.4
check_output "says it is in use" "$T/err" "192.168.20.4 is already in use in VSID 5002"
check_status "a static CA outside the prefix: exit 2" 2 \
    vmroam ipam allocate --vsid 5002 --address 192.168.21.4
check_output "says it is outside" "$T/err" "192.168.21.4 is outside VSID 5002 (192.168.20.0/29)"
check_status "the gateway cannot be leased: exit 2" 2 \
    vmroam ipam allocate --vsid 5002 --address 192.168.20.6
check_status "an unknown VSID: exit 2" 2 vmroam ipam allocate --vsid 7777
check_output "says so" "$T/err" "VSID 7777 is not declared in the policy"
check_status "a MAC that is not one: exit 2" 2 \
    vmroam ipam allocate --vsid 5002 --vm web-5 --mac 02:00:zz:00:00:01
check_output "says so" "$T/err" \
    "02:00:zz:00:00:01 is not a MAC address (expected xx:xx:xx:xx:xx:xx)"
check_status "a multicast MAC: exit 2" 2 \
    vmroam ipam allocate --vsid 5002 --vm web-5 --mac 03:00:00:00:00:01
check_output "says so" "$T/err" \
    "03:00:00:00:00:01 is a multicast MAC; a VM's MAC must be unicast"
check "reserve a CA for a migration" \
    vmroam ipam allocate --vsid 5002 --owner migration-1 --ttl 600
check_output "the reservation takes .3" "$T/out" "192.168.20.3"
check "take the last one" vmroam ipam allocate --vsid 5002
check_status "the pool is exhausted: exit 1" 1 vmroam ipam allocate --vsid 5002
check_output "exhaustion is explained" "$T/err" \
    "VSID 5002 (192.168.20.0/29) is exhausted: every address of 192.168.20.1-192.168.20.6 is leased or reserved (5 in use)"
check "release a lease" vmroam ipam release --vsid 5002 192.168.20.4
check_status "releasing it again: exit 2" 2 vmroam ipam release --vsid 5002 192.168.20.4
check_output "says it is not leased" "$T/err" "192.168.20.4 is not leased in VSID 5002"
check "a released address is handed out again" vmroam ipam allocate --vsid 5002
check_output "it is .4" "$T/out" "192.168.20.4"
# A pool narrowed to a range, with a reservation inside it.
check "set VSID 5003's pool" vmroam ipam pool set --vsid 5003 --range fd00:10::100-fd00:10::1ff --reserve fd00:10::100
check "allocate from the pool's range" vmroam ipam allocate --vsid 5003
check_output "first free: after the reserved one" "$T/out" "fd00:10::101"
check_status "a range outside the subnet: exit 2" 2 \
    vmroam ipam pool set --vsid 5003 --range fd00:11::1-fd00:11::9
check_output "names it" "$T/err" "fd00:11::1-fd00:11::9 is outside VSID 5003 (fd00:10::/64)"
check "leases as JSON" vmroam ipam leases --format json
check_output "JSON lists the reservation owner" "$T/out" "migration-1"

# Provider side.
check_status "an overlapping provider subnet: exit 2" 2 \
    vmroam ipam subnet add 10.0.1.128/25 --footprint rack-9
check_output "names the overlap" "$T/err" "10.0.1.128/25 overlaps provider subnet 10.0.1.0/24 (footprint rack-1)"
check "add a footprint" vmroam ipam footprint add rack-2 --description "new racks"
check "add a provider subnet with reserved range" \
    vmroam ipam subnet add 10.0.2.0/24 --footprint rack-2 --gateway 10.0.2.1 --reserve 10.0.2.2-10.0.2.9
check "PA for a host in rack-2" vmroam ipam pa allocate --host hv5 --footprint rack-2
check_output "skips gateway and reserved range" "$T/out" "10.0.2.10"
check "PA for hv1 at its record's address" vmroam ipam pa allocate --host hv1 --address 10.0.1.12
check "footprint show" vmroam ipam footprint show rack-2
check_output "lists the host and its PA" "$T/out" "hv5"
check_status "deleting a subnet with leases: exit 1" 1 vmroam ipam subnet del 10.0.2.0/24
check_status "check finds the inconsistencies: exit 1" 1 vmroam ipam check
check_output "a record whose CA has no lease" "$T/out" \
    "lookup record VSID 5002 192.168.20.1 (vm web-1): the CA has no lease"
check_output "a lease whose VM has no record" "$T/out" \
    "CA lease VSID 5002 192.168.20.2 of vm web-2: no lookup record places that VM at that address"

# Four allocators at once, 1000 each, one transaction per address: 4000
# distinct addresses, none lost.
for i in 1 2 3 4; do
    vmroam --timeout 120 ipam allocate --vsid 5001 --count 1000 >"$T/alloc-$i" 2>"$T/alloc-$i.err" &
done
wait
total=$(cat "$T"/alloc-[1-4] | wc -l)
distinct=$(cat "$T"/alloc-[1-4] | sort -u | wc -l)
leased=$(vmroam ipam leases --format json | grep -o '"VSID 5001"' | wc -l)
if [ "$total" = 4000 ] && [ "$distinct" = 4000 ] && [ "$leased" = 4000 ]; then
    pass "4 concurrent allocators: 4000 addresses, all distinct, all leased"
else
    fail "4 concurrent allocators: $total handed out, $distinct distinct, $leased leased"
    cat "$T"/alloc-*.err | head -5
fi
check "the remaining 93 addresses" vmroam ipam allocate --vsid 5001 --count 93
check_status "then the pool is exhausted" 1 vmroam ipam allocate --vsid 5001
check_output "with the exhaustion error" "$T/err" "VSID 5001 (192.168.0.0/20) is exhausted"

# A lease is found by its key: its UUID is a function of its address.
key() {  # key TABLE VSID ADDRESS: the UUID vmroam gives that row
    python3 -c 'import sys, uuid
print(uuid.uuid5(uuid.UUID("aedadcd0-6fa6-433c-b456-4d1ca2637b9d"), " ".join(sys.argv[1:])))' "$@"
}
by_key() {  # by_key SOCKET TABLE VSID ADDRESS: prints the row so keyed
    ovsdb-client transact "unix:$1" "[\"vmroam\", {\"op\": \"select\",
        \"table\": \"$2\", \"columns\": [\"vsid\"],
        \"where\": [[\"_uuid\", \"==\", [\"uuid\", \"$(key "$2" "$3" "$4")\"]]]}]"
}
check "the lease of 192.168.20.4 is keyed" by_key "$T/db/db.sock" CA_Lease 5002 192.168.20.4
check_output "found by its key" "$T/out" '"vsid":5002'
check "the record of 192.168.20.1 is keyed" by_key "$T/db/db.sock" Lookup_Record 5002 192.168.20.1
check_output "found by its key" "$T/out" '"vsid":5002'

# A database written before rows were keyed (schema 1.5.0): starting it
# keys its lookup records and leases, so that allocation sees them.
mkdir -p "$T/old"
sed 's/"version": "1.6.0"/"version": "1.5.0"/' "$T/db/vmroam.ovsschema" >"$T/old.ovsschema"
ovsdb-tool create "$T/old/vmroam.db" "$T/old.ovsschema"
ovsdb-tool transact "$T/old/vmroam.db" '["vmroam",
  {"op": "insert", "table": "Vmroam_Global", "row": {"generation": 1}},
  {"op": "insert", "table": "Routing_Domain", "row": {"name": "t"}},
  {"op": "insert", "table": "Virtual_Subnet",
   "row": {"vsid": 5009, "routing_domain": "t", "prefix": "10.9.0.0/29"}},
  {"op": "insert", "table": "Lookup_Record",
   "row": {"vsid": 5009, "ca": "10.9.0.1", "mac": "02:00:00:00:09:01",
           "pa": "10.0.1.11", "chassis": "hv1", "vm": "old-1"}},
  {"op": "insert", "table": "CA_Lease",
   "row": {"vsid": 5009, "address": "10.9.0.2", "state": "active"}}]' >/dev/null
check "start the older database" "$VMROAM" --state-dir "$T/old" db start
track_pidfile "$T/old/ovsdb-server.pid"
check_output "its rows are keyed" "$T/out" "keyed 2 lookup records and CA leases by their addresses"
check "its record is found by its key" by_key "$T/old/db.sock" Lookup_Record 5009 10.9.0.1
check_output "keyed" "$T/out" '"vsid":5009'
check "allocate next to the older rows" "$VMROAM" --state-dir "$T/old" ipam allocate --vsid 5009
check_output "both count as taken: .3" "$T/out" "10.9.0.3"
check "stop it" "$VMROAM" --state-dir "$T/old" db stop
check "start it again" "$VMROAM" --state-dir "$T/old" db start
track_pidfile "$T/old/ovsdb-server.pid"
check_output "nothing more to key" "$T/out" "vmroam database running"
if grep -q keyed "$T/out"; then fail "keyed only once"; else pass "keyed only once"; fi
finish
