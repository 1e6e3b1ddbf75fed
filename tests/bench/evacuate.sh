#!/bin/bash
# Footprint evacuation figures on labs/footprints.json: its 4 QEMU guests
# evacuated from footprint old to new as one plan (per-host limit L, the
# hosts' max_migrations), against the same 4 migrations done one by one
# (back from new to old, each waited for); the plan's total time, the sum
# of the one-by-one migrations, their ratio, the peak number of migrations
# at once, and the longest single guest's downtime.
set -u
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/integration/lab-lib.bash"
LIMIT=${LIMIT:-2}

now_ms() { date +%s%3N; }
lab_init footprints.json vmbev
RUN=/run/vmroam-lab/vmbev
DB="--state-dir $RUN/db --timeout 600"
vmroam() { "$VMROAM" $DB "$@"; }
GUESTS="g1 g2 g3 g4"

if ! "$LABS/lab" up "$LAB" --boot-timeout 240 >"$T/lab.out" 2>&1; then
    echo "  lab did not come up:"; tail -5 "$T/lab.out"; exit 1
fi
for h in old1 old2 new1 new2; do
    vmroam host set "$h" --max-migrations "$LIMIT" >/dev/null
done

# figures: peak migrations at once and the longest downtime, of the
# migrations queued since START (ms since the epoch).
figures() {
    ovsdb-client -f json dump "unix:$RUN/db/db.sock" vmroam Migration \
        vm state stats timestamps | python3 -c "
import json, sys
t = json.load(sys.stdin)
t = t if isinstance(t, dict) and 'data' in t else t[0]
rows = [dict(zip(t['headings'], r)) for r in t['data']]
spans, down = [], []
for r in rows:
    ts, st = dict(r['timestamps'][1]), dict(r['stats'][1])
    if ts.get('queued', 0) >= $1 and 'started' in ts and 'finished' in ts:
        spans.append((ts['started'], ts['finished']))
        down.append(st.get('downtime_ms', 0))
n = peak = 0
for _, d in sorted([(s, 1) for s, f in spans] + [(f, -1) for s, f in spans]):
    n += d
    peak = max(peak, n)
print(peak, max(down) if down else 0, len(spans))"
}

start=$(now_ms)
if ! vmroam footprint evacuate old --to new --wait >"$T/evac.out" 2>&1; then
    echo "  the evacuation did not finish:"; tail -8 "$T/evac.out"; exit 1
fi
plan_ms=$(( $(now_ms) - start ))
read -r peak down n < <(figures "$start")

# The same guests back one by one, each to the host it came from, which
# the evacuation left in maintenance.
vmroam host set old1 --maintenance off >/dev/null
vmroam host set old2 --maintenance off >/dev/null
seq_ms=0
for g in $GUESTS; do
    from=$(python3 -c "import json; print([v['host'] for v in json.load(open('$LAB'))['vms'] if v['name']=='$g'][0])")
    t0=$(now_ms)
    vmroam migrate "$g" --to "$from" --wait >"$T/one.out" 2>&1 ||
        { echo "  $g back to $from failed:"; tail -3 "$T/one.out"; }
    seq_ms=$(( seq_ms + $(now_ms) - t0 ))
done

printf '  evacuation of %d guests, limit %d per host: %.1f s as one plan; %.1f s one by one\n' \
    "$n" "$LIMIT" "$(echo "$plan_ms / 1000" | bc -l)" "$(echo "$seq_ms / 1000" | bc -l)"
printf '  plan / one by one, total time: %.2f\n' "$(echo "$plan_ms / $seq_ms" | bc -l)"
printf '  peak migrations at once: %d; longest downtime of a guest: %d ms\n' "$peak" "$down"
"$LABS/lab" down "$LAB" >/dev/null 2>&1
