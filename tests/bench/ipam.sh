#!/bin/bash
# IPAM figures: allocations per second through the database (one
# transaction per address) with one client and with 4 at once; the time to
# load LEASES CA leases into the database and to read them all back
# (vmroam ipam check), and the database server's RSS with them.
set -u
. "$(dirname "$0")/../lib.sh"
ALLOCS=${ALLOCS:-4000}
LEASES=${LEASES:-1000000}
S="--state-dir $T/db --timeout 600"
vmroam() { "$VMROAM" $S "$@"; }
now_ms() { date +%s%3N; }

start_db db
cat >"$T/p.json" <<'J'
{"routing_domains": [
   {"name": "a", "virtual_subnets": [{"vsid": 5001, "prefix": "10.0.0.0/8"}]},
   {"name": "b", "virtual_subnets": [{"vsid": 5002, "prefix": "10.0.0.0/8"}]},
   {"name": "c", "virtual_subnets": [{"vsid": 6001, "prefix": "172.16.0.0/12"}]}]}
J
vmroam policy apply "$T/p.json" >/dev/null || exit 1

# allocated LABEL ASKED MS CLIENT...: what the clients (the files
# $T/CLIENT.out and .err of "ipam allocate --count", one address a line)
# really got out of ASKED in MS ms, the rate of distinct addresses that
# makes, and the first error of each client that failed.
allocated() {
    local label=$1 asked=$2 ms=$3 c n distinct
    shift 3
    n=$(cat "${@/%/.out}" | wc -l)
    distinct=$(cat "${@/%/.out}" | sort -u | wc -l)
    printf '  %s: %d of %d allocations made, %d distinct, in %d ms: %d per second\n' \
        "$label" "$n" "$asked" "$distinct" "$ms" \
        $(( distinct * 1000 / (ms > 0 ? ms : 1) ))
    for c in "$@"; do
        [ -s "$c.err" ] && echo "    failed: $(head -1 "$c.err")"
    done
}

t0=$(now_ms)
vmroam ipam allocate --vsid 5001 --count "$ALLOCS" >"$T/c0.out" 2>"$T/c0.err"
allocated "1 client " "$ALLOCS" $(( $(now_ms) - t0 )) "$T/c0"

t0=$(now_ms)
for i in 1 2 3 4; do
    vmroam ipam allocate --vsid 5002 --count $((ALLOCS / 4)) \
        >"$T/c$i.out" 2>"$T/c$i.err" &
done
wait
allocated "4 clients" $((ALLOCS / 4 * 4)) $(( $(now_ms) - t0 )) \
    "$T/c1" "$T/c2" "$T/c3" "$T/c4"

# LEASES leases in VSID 6001, inserted 100k per transaction, sent as
# JSON-RPC straight to the server (too big for an ovsdb-client argument).
t0=$(now_ms)
python3 - "$LEASES" "$T/db/db.sock" <<'PY' || { echo "  loading leases failed"; exit 1; }
import json, socket, sys, uuid
n, path = int(sys.argv[1]), sys.argv[2]
# Keyed as vmroam keys them (policy/key.h).
ns = uuid.UUID("aedadcd0-6fa6-433c-b456-4d1ca2637b9d")
s = socket.socket(socket.AF_UNIX)
s.connect(path)
dec = json.JSONDecoder()
for b in range(0, n, 100000):
    ops = ["vmroam"]
    for k in range(b + 1, min(n, b + 100000) + 1):
        address = "172.%d.%d.%d" % (16 + (k >> 16), (k >> 8) & 255, k & 255)
        ops.append({"op": "insert", "table": "CA_Lease",
                    "uuid": str(uuid.uuid5(ns, "CA_Lease 6001 " + address)),
                    "row": {"vsid": 6001, "state": "active",
                            "address": address, "vm": "vm%d" % k}})
    s.sendall(json.dumps({"method": "transact", "params": ops, "id": b}).encode())
    buf = ""
    while True:
        buf += s.recv(1 << 20).decode()
        try:
            reply, _ = dec.raw_decode(buf)
        except ValueError:
            continue
        if reply.get("id") == b:
            break
        buf = ""
    errors = [r for r in reply.get("result") or [] if r and "error" in r]
    if reply.get("error") or errors:
        sys.exit("transaction failed: %s" % (reply.get("error") or errors[0]))
PY
ms=$(( $(now_ms) - t0 ))
rss=$(ps -o rss= -p "$(cat "$T/db/ovsdb-server.pid")")
printf '  %d CA leases written in %d ms; ovsdb-server RSS %d MB\n' "$LEASES" "$ms" $((rss / 1024))
# five_allocations WHEN: five allocations next to the leases, one after the
# other, each a command of its own, once the server's CPU time has stood
# still for a second; prints their median and each.
cpu() { awk '{print $14 + $15}' "/proc/$(cat "$T/db/ovsdb-server.pid")/stat"; }
five_allocations() {
    local t0 prev=-1 i
    t0=$(now_ms)
    while [ "$(cpu)" != "$prev" ] && [ $(( $(now_ms) - t0 )) -lt 60000 ]; do
        prev=$(cpu)
        sleep 1
    done
    for i in 1 2 3 4 5; do
        t0=$(now_ms)
        if ! vmroam ipam allocate --vsid 6001 >/dev/null 2>"$T/c5.err"; then
            echo "  one allocation next to them failed: $(head -1 "$T/c5.err")"
            exit 1
        fi
        echo $(( $(now_ms) - t0 ))
    done >"$T/one"
    printf '  one allocation next to them, %s (a whole command): median %d ms of 5 (%s ms), target 50 ms\n' \
        "$1" "$(sort -n "$T/one" | sed -n 3p)" "$(tr '\n' ' ' <"$T/one" | sed 's/ $//')"
}
five_allocations "after the load"
t0=$(now_ms)
/usr/bin/time -f "%M" -o "$T/rss" "$VMROAM" $S ipam check >/dev/null
ms=$(( $(now_ms) - t0 ))
printf '  vmroam ipam check over them: %d ms, peak RSS %d MB\n' "$ms" $(( $(tail -1 "$T/rss") / 1024 ))
five_allocations "after the check read them all"
