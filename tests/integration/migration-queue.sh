#!/bin/bash
# The migration queue on the real lab: 10 QEMU guests on hv1 all sent to
# hv2 at once.  With the default limit of 2, never more than 2 run at a
# time, they start in the order they were queued, and all end done with
# the guests running on hv2.
. "$(dirname "$0")/../lib.sh"

LABS="$TESTS_DIR/../labs"
LAB="$T/lab.json"
python3 - "$LABS/migration.json" "$LAB" <<'PY'
import json, sys
lab = json.load(open(sys.argv[1]))
lab["name"] = "vmqt"
lab["vms"] = [v for v in lab["vms"] if v.get("type") != "qemu"]
for i in range(10):
    lab["vms"].append({"name": "q%d" % i, "host": "hv1", "vsid": 5001,
                       "ca": "192.168.10.%d" % (20 + i),
                       "mac": "02:00:00:05:02:%02x" % i,
                       "type": "qemu", "dirty": 0})
json.dump(lab, open(sys.argv[2], "w"), indent=1)
PY
on_exit "'$LABS/lab' down '$LAB' >/dev/null 2>&1"
DB="--state-dir /run/vmroam-lab/vmqt/db --timeout 60"
vmroam() { "$VMROAM" $DB "$@"; }

check "lab up with 10 QEMU guests on hv1" "$LABS/lab" up "$LAB" --boot-timeout 240
[ $N_FAIL = 0 ] || finish

for i in $(seq 0 9); do
    check "queue q$i's migration to hv2" vmroam migrate "q$i" --to hv2
done
vmroam migrations --format json >"$T/queued.json"
check "10 migrations queued, one per guest, each from hv1 to hv2" \
    python3 - "$T/queued.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
c = t["headings"]
rows = sorted((r[c.index("vm")], r[c.index("source")], r[c.index("destination")])
              for r in t["data"])
want = [("q%d" % i, "hv1", "hv2") for i in range(10)]
assert rows == want, rows
PY

all_final() {
    vmroam migrations --format json | python3 -c "
import json, sys
rows = json.load(sys.stdin)['data']
sys.exit(not rows or any(r[5] not in ('done', 'failed', 'cancelled') for r in rows))"
}
for _ in $(seq 600); do all_final && break; sleep 0.5; done
check "all 10 migrations ended" all_final

ovsdb-client -f json dump "unix:/run/vmroam-lab/vmqt/db/db.sock" vmroam \
    Migration vm state timestamps error >"$T/dump.json"
check "each one done, never more than 2 at once, in queue order" python3 - "$T/dump.json" <<'PY'
import json, sys
dump = json.load(open(sys.argv[1]))
table = dump if isinstance(dump, dict) and "data" in dump else dump[0]
cols = table["headings"]
rows = [dict(zip(cols, r)) for r in table["data"]]
def ts(r):
    return dict(r["timestamps"][1])
states = [r["state"] for r in rows]
assert states == ["done"] * 10, [(r["vm"], r["state"], r["error"]) for r in rows]
spans = sorted((ts(r)["queued"], ts(r)["started"], ts(r)["finished"], r["vm"])
               for r in rows)
events = sorted([(s, 1) for _, s, f, _ in spans] + [(f, -1) for _, s, f, _ in spans],
                key=lambda e: (e[0], e[1]))
running = peak = 0
for _, d in events:
    running += d
    peak = max(peak, running)
assert peak <= 2, "peak %d migrations at once" % peak
starts = [s for _, s, _, _ in spans]
assert starts == sorted(starts), "not started in queue order: %s" % spans
print("peak concurrency %d, order kept" % peak)
PY
check_output "two ran at once: the limit is used, not just respected" "$T/out" \
    "peak concurrency 2"
check "all 10 guests run on hv2" python3 -c "
import subprocess, sys
bad = [q for q in ['q%d' % i for i in range(10)]
       if subprocess.run(['$LABS/lab', 'vmhost', '$LAB', q], capture_output=True,
                         text=True).stdout.strip() != 'hv2']
sys.exit(bool(bad))"
check "lab down" "$LABS/lab" down "$LAB"
finish
