#!/bin/bash
# vmroam migrate, migrations and host set against a real ovsdb-server whose
# Chassis and VM rows are written here as agents would: bad requests, the
# cross-version rule, --best's choice, limits, cancel.
. "$(dirname "$0")/../lib.sh"

S="--state-dir $T/db"
vmroam() { "$VMROAM" $S "$@"; }
check "database starts" start_db db
DB="unix:$T/db/db.sock"

chassis() {  # chassis NAME QEMU_VERSION STATE
    printf '{"op": "insert", "table": "Chassis", "row": {"name": "%s", "state": "%s", "pas": "10.0.1.%d", "max_migrations": 2, "max_storage_migrations": 1, "versions": ["map", [["libvirt", "9.0.0"], ["qemu", "%s"], ["vmroam", "0.1"]]]}}' \
        "$1" "$3" "${#1}" "$2"
}
# heard NAME SECS: the agent of NAME last wrote its heartbeat SECS ago
# (negative: in the future, so that the host stays up for the whole test).
heard() {
    printf '{"op": "insert", "table": "Chassis_Private", "row": {"name": "%s", "heartbeat": %d}}' \
        "$1" "$(( $(date +%s%3N) - $2 * 1000 ))"
}
ovsdb-client transact "$DB" "[\"vmroam\",
  $(chassis hv1 7.2.0 up), $(chassis hv2 7.1.0 up), $(chassis hv3 7.2.0 up),
  $(chassis hv4 8.0.0 up), $(chassis hv5 8.0.0 down), $(chassis hv6 8.0.0 up),
  $(heard hv1 -3600), $(heard hv2 -3600), $(heard hv3 -3600), $(heard hv4 -3600),
  $(heard hv5 60), $(heard hv6 40),
  {\"op\": \"insert\", \"table\": \"VM\", \"row\": {\"name\": \"web-1\", \"chassis\": \"hv1\"}},
  {\"op\": \"insert\", \"table\": \"VM\", \"row\": {\"name\": \"web-2\", \"chassis\": \"hv4\"}},
  {\"op\": \"insert\", \"table\": \"VM\", \"row\": {\"name\": \"web-3\", \"chassis\": \"hv3\"}},
  {\"op\": \"insert\", \"table\": \"VM\", \"row\": {\"name\": \"web-4\", \"chassis\": \"hv2\"}}]" >/dev/null

check_status "migrate needs --to or --best: exit 2" 2 vmroam migrate web-1
check_status "an unknown VM: exit 2" 2 vmroam migrate nope --to hv3
check_output "says so" "$T/err" "no VM named nope"
check_status "an unknown host: exit 2" 2 vmroam migrate web-1 --to hv9
check_status "to the host it runs on: exit 2" 2 vmroam migrate web-1 --to hv1
check_status "to a host that is down: exit 1" 1 vmroam migrate web-1 --to hv5
check_output "says so" "$T/err" "host hv5 is down"
check_status "to a host whose agent is silent: exit 1" 1 vmroam migrate web-1 --to hv6
check_output "says since when" "$T/err" \
    "host hv6 is down: its agent has been silent for 40 s (since"
check "host list" vmroam host list
check_output "shows it down" "$T/out" "hv6  down (agent silent)"
check_output "and when it was last heard from" "$T/out" "40 s ago ("
check_status "bad --storage: exit 2" 2 vmroam migrate web-1 --to hv3 --storage sometimes
check_status "--max-downtime 0: exit 2" 2 vmroam migrate web-1 --to hv3 --max-downtime 0
check_output "names the option and the range" "$T/err" \
    "vmroam migrate: --max-downtime: 0 is not a number from 1 to 600000"
check_status "--bandwidth fast: exit 2" 2 vmroam migrate web-1 --to hv3 --bandwidth fast
check_output "names the option" "$T/err" "vmroam migrate: --bandwidth: fast is not a number"
check_status "to an older QEMU: refused up front, exit 1" 1 vmroam migrate web-1 --to hv2
check_output "with the reason" "$T/err" \
    "hv2 runs qemu 7.1.0, older than 7.2.0 on hv1: a VM never moves to an older host"
check_status "an option migrate does not take: exit 2" 2 \
    vmroam migrate web-1 --to hv3 --vsid 5001
check_output "names the command and the option" "$T/err" \
    "vmroam migrate: it takes no --vsid (its options: to best storage"
check_status "--dry-run on a command that cannot honour it: exit 2" 2 \
    vmroam host set hv3 --max-migrations 3 --dry-run
check_output "refused, not ignored" "$T/err" "vmroam host set: it takes no --dry-run"
check "migrate --dry-run" vmroam migrate web-1 --to hv3 --dry-run
check_output "says what it would do" "$T/out" \
    "would queue: web-1 from hv1 to hv3 (storage auto); nothing was changed (dry run)"
check "migrations" vmroam migrations --format json
check_output "and queued nothing" "$T/out" '"data":[]'
check "to the same version: queued" vmroam migrate web-1 --to hv3 --max-downtime 500 --bandwidth 64
check_output "the queue confirms it" "$T/out" "queued: web-1 from hv1 to hv3 (storage auto)"
options_of() {  # options_of VM: the options of VM's Migration row, as JSON
    ovsdb-client query "$DB" "[\"vmroam\", {\"op\": \"select\", \"table\": \"Migration\", \"where\": [[\"vm\", \"==\", \"$1\"]], \"columns\": [\"options\"]}]"
}
options_of web-1 >"$T/options"
check_output "the row holds the downtime target" "$T/options" '["max-downtime-ms","500"]'
check_output "and the bandwidth cap" "$T/options" '["bandwidth","64"]'
check_status "a VM already migrating: exit 1" 1 vmroam migrate web-1 --to hv4
check "to a newer QEMU: queued" vmroam migrate web-3 --to hv4 --storage copy


# --best: hv2 is older than hv4's 8.0.0; hv1 and hv3 too; hv5 is down.
check_status "no host can take web-2 (all others older or down): exit 1" 1 \
    vmroam migrate web-2 --best
# web-4 on hv2 (7.1.0) may go anywhere newer.  hv3 is busy with two
# migrations; hv1 and hv4 with one each, and have one VM each: the name
# breaks the tie.
check "--best picks a host and says why" vmroam migrate web-4 --best
check_output "the choice" "$T/out" "best host for web-4: hv1, of:"
check_output "hv1's reason" "$T/out" "hv1: 1 free migration slot, 1 VM"
check_output "hv3 counted busy" "$T/out" "hv3: 0 free migration slots, 1 VM"
check_output "hv6 never chosen: its agent is silent" "$T/out" \
    "hv6: no (host hv6 is down: its agent has been silent for"
check "host set limits" vmroam host set hv3 --max-migrations 4 --max-storage-migrations 2
check "host list shows them" vmroam host list
check_output "hv3 at 4 (storage 2)" "$T/out" "4 (storage 2)"
check_status "host set without limits: exit 2" 2 vmroam host set hv3
check_status "host set on an unknown host: exit 2" 2 vmroam host set hv9 --max-migrations 1

check "migrations lists them" vmroam migrations
check_output "web-1's is queued" "$T/out" "web-1 hv1"
check "migrations as JSON" vmroam migrations --format json
id=$(vmroam migrations --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([r[0] for r in d["data"] if r[1]=="web-1"][0])')
check "cancel web-1's migration by id" vmroam migrate --cancel "$id"
check_output "acknowledged" "$T/out" "cancel requested for migration $id of web-1"
check_status "cancel an unknown id: exit 2" 2 vmroam migrate --cancel ffffffff
# Four requests for one VM at once, for each of 8 VMs: one is queued, the
# others refused, never two Migration rows for one VM.
races() {
    local i j ok rows bad=0
    for i in $(seq 8); do
        ovsdb-client transact "$DB" "[\"vmroam\", {\"op\": \"insert\", \"table\": \"VM\", \"row\": {\"name\": \"race-$i\", \"chassis\": \"hv1\"}}]" >/dev/null
        for j in 1 2 3 4; do
            vmroam migrate "race-$i" --to hv3 >"$T/race-$i-$j" 2>&1 &
        done
        wait
        ok=$(grep -l "queued: race-$i" "$T"/race-$i-* | wc -l)
        rows=$(ovsdb-client query "$DB" "[\"vmroam\", {\"op\": \"select\", \"table\": \"Migration\", \"where\": [[\"vm\", \"==\", \"race-$i\"]], \"columns\": [\"vm\"]}]" | grep -o '"vm"' | wc -l)
        echo "race-$i: $ok queued, $rows rows"
        [ "$ok" = 1 ] && [ "$rows" = 1 ] || bad=1
        [ "$(grep -l "race-$i is already being migrated" "$T"/race-$i-* | wc -l)" = 3 ] || bad=1
    done
    return $bad
}
check "concurrent requests for one VM: one queued, the rest refused" races
finish
