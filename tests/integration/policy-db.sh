#!/bin/bash
# Policy apply, re-apply, change, export round-trip, rejected files and two
# concurrent appliers, against a real ovsdb-server started here.
. "$(dirname "$0")/../lib.sh"

DATA="$TESTS_DIR/data"
S="--state-dir $T/db"
vmroam() { "$VMROAM" $S "$@"; }

check "embedded database starts" start_db db
check "status answers" vmroam db status
check_output "status shows generation 0" "$T/out" "generation: 0"

check "apply a valid policy" vmroam policy apply "$DATA/two-tenants.json"
check_output "apply reports added records" "$T/out" \
    "Lookup_Record    2 added, 0 changed, 0 removed"
check_output "apply bumps the generation" "$T/out" "generation 1"
if grep -q "would make" "$T/out"; then fail "a real apply speaks of a dry run"
else pass "a real apply does not speak of a dry run"; fi

check "re-apply" vmroam policy apply "$DATA/two-tenants.json"
check_output "re-apply is a no-op" "$T/out" "no changes"
vmroam db status >"$T/status"
check_output "re-apply keeps the generation" "$T/status" "generation: 1"

# A change: move web-1 to another host, drop the route, add a record.
sed -e 's/"pa": "10.0.1.11", "host": "hv1"/"pa": "10.0.2.12", "host": "hv2"/' \
    -e 's/"metric": 10}]/"metric": 10}], "x": 1/' \
    "$DATA/two-tenants.json" >"$T/bad-field.json"
check_status "unknown top-level field is rejected" 2 \
    vmroam policy apply "$T/bad-field.json"
check_output "error names the field" "$T/err" \
    "bad-field.json: top level: unknown field \"x\""

python3 - "$DATA/two-tenants.json" "$T/changed.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["lookup_records"][0].update(pa="10.0.2.12", host="hv2")
p["lookup_records"].append({"vsid": 5001, "ca": "192.168.10.2",
                            "mac": "02:00:c0:a8:0a:02", "pa": "10.0.1.12",
                            "host": "hv1", "vm": "web-2"})
p["customer_routes"] = []
json.dump(p, open(sys.argv[2], "w"))
PY
check "dry run of a change" vmroam policy apply --dry-run "$T/changed.json"
check_output "dry run lists the changed record" "$T/out" \
    "~ vsid 5001 192.168.10.1 02:00:c0:a8:0a:01 -> 10.0.2.12 on hv2 vm web-1"
vmroam db status >"$T/status"
check_output "dry run changes nothing" "$T/status" "generation: 1"

check "apply the change" vmroam policy apply "$T/changed.json"
check_output "change counted per table" "$T/out" \
    "Lookup_Record    1 added, 1 changed, 0 removed"
check_output "removal counted" "$T/out" \
    "Customer_Route   0 added, 0 changed, 1 removed"
check_output "generation 2" "$T/out" "generation 2"

check "diff against the original" vmroam policy diff "$DATA/two-tenants.json"
check_output "diff shows the route to add back" "$T/out" \
    "+ tenant-a 0.0.0.0/0 via 192.168.10.254 metric 10"

# Export round-trip: export, apply the export (no-op), export again (same).
check "export" vmroam policy export -o "$T/export1.json"
check "apply the export" vmroam policy apply "$T/export1.json"
check_output "applying the export is a no-op" "$T/out" "no changes"
vmroam policy export -o "$T/export2.json"
check "export is stable" cmp "$T/export1.json" "$T/export2.json"
vmroam policy format "$T/changed.json" -o "$T/canonical.json"
check "export equals the canonical form of the applied file" \
    cmp "$T/export1.json" "$T/canonical.json"

# A rejected file changes nothing.
sed 's/"192.168.10.1", "mac"/"192.168.11.5", "mac"/' "$T/changed.json" \
    >"$T/outside.json"
check_status "CA outside its subnet: exit 2" 2 \
    vmroam policy apply "$T/outside.json"
check_output "error names file, path and problem" "$T/err" \
    "outside.json: lookup_records[0].ca: 192.168.11.5 is outside virtual subnet 5001 (192.168.10.0/24)"
vmroam policy export -o "$T/export3.json"
check "rejected apply changed nothing" cmp "$T/export1.json" "$T/export3.json"

printf '{"routing_domains": [\n  {"name": "a",}\n]}\n' >"$T/syntax.json"
check_status "syntax error: exit 2" 2 vmroam policy validate "$T/syntax.json"
check_output "syntax error has line and column" "$T/err" "syntax.json: line 2, column"

check_status "missing file: exit 2" 2 vmroam policy validate "$T/nope.json"
check_status "usage error: exit 2" 2 vmroam policy apply
check_status "unreachable database: exit 1" 1 \
    "$VMROAM" --db unix:"$T/none.sock" --timeout 1 policy show

# Two concurrent appliers: the result is one file or the other, never a mix.
python3 - "$T" <<'PY'
import json, sys
d = sys.argv[1]
for name, rack, pa in (("a", "rack-1", "10.0.1"), ("b", "rack-2", "10.0.2")):
    records = [{"vsid": 5001, "ca": "192.168.%d.%d" % (i // 250, i % 250 + 1),
                "mac": "02:00:00:00:%02x:%02x" % (i // 256, i % 256),
                "pa": "%s.%d" % (pa, i % 200 + 2), "host": "hv-%s%d" % (name, i % 200 + 2)}
               for i in range(3000)]
    p = {"routing_domains": [{"name": "t", "virtual_subnets": [
             {"vsid": 5001, "prefix": "192.168.0.0/16"}]}],
         "provider_subnets": [{"footprint": rack, "prefix": pa + ".0/24"}],
         "lookup_records": records}
    json.dump(p, open("%s/conc-%s.json" % (d, name), "w"))
PY
vmroam policy format "$T/conc-a.json" -o "$T/conc-a.canon"
vmroam policy format "$T/conc-b.json" -o "$T/conc-b.canon"
mixed=0
for round in 1 2 3 4 5; do
    vmroam policy apply "$T/conc-a.json" >/dev/null 2>"$T/err-a" &
    a=$!
    vmroam policy apply "$T/conc-b.json" >/dev/null 2>"$T/err-b" &
    b=$!
    wait $a || { mixed=1; cat "$T/err-a"; }
    wait $b || { mixed=1; cat "$T/err-b"; }
    vmroam policy export -o "$T/conc.out"
    cmp -s "$T/conc.out" "$T/conc-a.canon" || cmp -s "$T/conc.out" "$T/conc-b.canon" \
        || { mixed=1; echo "round $round: a mix of both files"; }
done
if [ $mixed = 0 ]; then pass "concurrent appliers: both succeed, result is one whole file (5 rounds)"; else fail "concurrent appliers"; fi

# One record at a time: checked as a file would be, only it written.
vmroam policy apply "$TESTS_DIR/data/two-tenants.json" >/dev/null
gen() { vmroam policy show | sed -n 's/^generation //p'; }
g0=$(gen)
check "set-record moves web-1 to hv3" vmroam policy set-record --vsid 5001 \
    --ca 192.168.10.1 --mac 02:00:c0:a8:0a:01 --pa 10.0.2.11 --host hv3 --vm web-1
check_output "it says what changed" "$T/out" "0 added, 1 changed, 0 removed"
check "the generation went up by one" test "$(gen)" = $((g0 + 1))
check "set-record adds web-2" vmroam policy set-record --vsid 5001 \
    --ca 192.168.10.2 --mac 02:00:c0:a8:0a:02 --pa 10.0.2.11 --host hv3 --vm web-2
vmroam policy export -o "$T/one.json"
check "the database holds both, and the other tenant's record as it was" python3 - "$T/one.json" <<'PY'
import json, sys
r = {(x["vsid"], x["ca"]): (x["pa"], x["host"]) for x in json.load(open(sys.argv[1]))["lookup_records"]}
assert r[(5001, "192.168.10.1")] == ("10.0.2.11", "hv3"), r
assert r[(5001, "192.168.10.2")] == ("10.0.2.11", "hv3"), r
assert r[(6001, "192.168.10.1")] == ("10.0.2.11", "hv3"), r
assert len(r) == 3, r
PY
check_status "set-record outside the subnet, on a PA another host holds: refused" 2 \
    vmroam policy set-record --vsid 5001 --ca 192.168.11.9 --mac 02:00:00:00:00:09 \
    --pa 10.0.2.11 --host hv9
check_output "names the CA's problem" "$T/err" "192.168.11.9 is outside virtual subnet 5001"
check_output "and the PA's, with the record that holds it" "$T/err" \
    "10.0.2.11 belongs to host hv3 (the record of"
check_status "set-record with a bad MAC: refused" 2 vmroam policy set-record \
    --vsid 5001 --ca 192.168.10.9 --mac zz --pa 10.0.2.11 --host hv3
check_output "names the field" "$T/err" "mac: zz is not a MAC address"
check_status "set-record with web-1's MAC: refused" 2 vmroam policy set-record \
    --vsid 5001 --ca 192.168.10.9 --mac 02:00:c0:a8:0a:01 --pa 10.0.2.11 --host hv3
check_output "names the record that has it" "$T/err" \
    "02:00:c0:a8:0a:01 is already used in VSID 5001 by the record of 192.168.10.1"
vmroam policy export -o "$T/two.json"
check "nothing changed" cmp "$T/one.json" "$T/two.json"
check "del-record removes web-2" vmroam policy del-record --vsid 5001 --ca 192.168.10.2
check_status "del-record of a record that is not there: refused" 2 \
    vmroam policy del-record --vsid 5001 --ca 192.168.10.2
check_output "says so" "$T/err" "no lookup record for 192.168.10.2 in VSID 5001"

check "db stop" vmroam db stop
finish
