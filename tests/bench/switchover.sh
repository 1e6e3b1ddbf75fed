#!/bin/bash
# Switchover figures: what a live migration across provider subnets costs a
# VM's traffic.  a1 (QEMU TCG guest, 256 MiB, shared storage) moves back and
# forth between hv1 (rack-1) and hv3 (rack-2) MIGRATIONS times with the
# default switchover (its lookup records move the moment it resumes on the
# destination), then as many times with the naive baseline "--switchover
# completion" (they move once libvirt reports the migration complete), in
# the same run.  All the while a2, on the third host hv2, sends 1000 UDP
# datagrams a second to a1's echo (labs/probe), writes a 32-byte record
# 100 times a second on a TCP connection to its TCP echo, and pings it with
# "ping -D -i 0.01" (an interval that ping takes as a minimum: 65-75 a
# second here).
#
# Per migration: datagrams and pings lost, datagrams duplicated and
# reordered, the longest time without a reply and the longest round trip
# (a held datagram's), the TCP stream's longest stall and retransmitted
# segments, the guest's own pause (libvirt's downtime: no network can beat
# it), the datagrams lost beyond that pause, and the time from the records'
# move to the last host having the new generation's flows installed; then
# mean, p50 and max per mode, and how many migrations the guest did not
# survive (tests/bench/switchover-report.py computes them).
#
# Environment: MIGRATIONS per mode (20), SETTLE seconds after each
# migration (6), SWITCHOVER_LAB lab name (vmsw), SWITCHOVER_JSON a file to
# write every figure to (tests/integration/switchover.sh runs this script
# with a small count and checks that file), SWITCHOVER_KEEP a directory to
# copy the raw data to (probe and ping output, the tables read, the two
# hosts' vmroamd logs),
# MAX_DOWNTIME the pause the migrations aim at, in ms (300, vmroam's
# default, so that the pause is the one users get; empty for the lab's
# 3000, which keeps QEMU 7.2 under TCG to 3 passes: see revive() below).
set -u
. "$(dirname "$0")/../lib.sh"
LABS="$TESTS_DIR/../labs"
MIGRATIONS=${MIGRATIONS:-20}
MAX_DOWNTIME=${MAX_DOWNTIME-300}
# Longer than the 5 s for which a source keeps tunnelling late packets to
# the VM's new PA, so that every migration starts from a settled network.
SETTLE=${SETTLE:-6}
NAME=${SWITCHOVER_LAB:-vmsw}
RATE=1000
TCP_RATE=100
LAB="$T/lab.json"

# migration.json without a3 (a second TCG guest only takes CPU from the
# measurement) and with a2 on hv2: hv1 and hv2 share rack-1, so a1 crosses
# subnets between hv1 and hv3, and the probe sits on the third host.
python3 - "$LABS/migration.json" "$LAB" "$NAME" <<'PY' || exit 1
import json, sys
lab = json.load(open(sys.argv[1]))
lab["name"] = sys.argv[3]
lab["vms"] = [v for v in lab["vms"] if v["name"] != "a3"]
for v in lab["vms"]:
    if v["name"] == "a2":
        v["host"] = "hv2"
rack = {h["name"]: h["footprint"] for h in lab["hosts"]}
if rack["hv1"] == rack["hv3"]:
    sys.exit("hv1 and hv3 share %s: the migrations would not cross subnets" % rack["hv1"])
json.dump(lab, open(sys.argv[2], "w"))
PY
on_exit "'$LABS/lab' down '$LAB' >/dev/null 2>&1"
"$LABS/lab" up "$LAB" --boot-timeout 240 >"$T/up.out" 2>&1 \
    || { echo "lab did not come up"; tail -5 "$T/up.out"; exit 1; }
STATE=/run/vmroam-lab/$NAME
DB="--state-dir $STATE/db --timeout 120"
vmroam() { "$VMROAM" $DB "$@"; }
now_ms() { date +%s%3N; }
uri() { echo "qemu+unix:///system?socket=$STATE/$1/libvirt/sock/libvirt-sock"; }
select_all() {  # select_all TABLE: the whole table, as ovsdb-client prints it
    ovsdb-client -f json transact "unix:$STATE/db/db.sock" \
        "[\"vmroam\", {\"op\": \"select\", \"table\": \"$1\", \"where\": []}]"
}
# drops FILE: what was dropped so far in each host's namespace and in a2's,
# as JSON: by the kernel, at the packet sockets there (ovs-vswitchd reads
# eth0 and the veths through such sockets) and at each interface, rx and
# tx (the VMs' taps and veths among them); and by each host's
# ovs-vswitchd, as its coverage counters of drops say (its OpenFlow
# pipeline's drops and misses, its datapath's).  The report tells per
# migration where datagrams were lost.
drops() {
    python3 - "$NAME" "$STATE" hv1 hv2 hv3 a2 >"$1" <<'PY'
import json, os, re, subprocess, sys
out = {}
for h in sys.argv[3:]:
    ns = "%s-%s" % (sys.argv[1], h)
    ss = subprocess.run(["ip", "netns", "exec", ns, "ss", "-0", "-m", "-n"],
                        capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-n", ns, "-s", "-j", "link"],
                           capture_output=True, text=True).stdout
    ctl = os.path.join(sys.argv[2], h, "ovs-vswitchd.ctl")
    coverage = (subprocess.run(["ovs-appctl", "-t", ctl, "coverage/show"],
                               capture_output=True, text=True).stdout
                if os.path.exists(ctl) else "")
    out[h] = dict(
        packet_sockets=sum(int(d) for d in re.findall(r",d(\d+)\)", ss)),
        ifaces={l["ifname"]: l["stats64"]["rx"]["dropped"] + l["stats64"]["tx"]["dropped"]
                for l in json.loads(links or "[]") if "stats64" in l},
        ovs={m.group(1): int(m.group(2)) for m in re.finditer(
            r"^(\S*drop\S*)\s.*total: (\d+)$", coverage, re.M)})
json.dump(out, sys.stdout)
PY
}
status_line() { "$LABS/lab" console "$LAB" a1 -n 5 2>/dev/null | grep 'hb=' | tail -1; }
hb_of() { echo "$1" | grep -o 'hb=[0-9]*' | cut -d= -f2; }
A1=$(python3 -c "import json; print([v['ca'] for v in json.load(open('$LAB'))['vms'] if v['name'] == 'a1'][0])")
pa() { vmroam host list --format json | python3 -c "import json,sys; print([r[2] for r in json.load(sys.stdin)['data'] if r[0]=='$1'][0])"; }

for _ in $(seq 100); do
    "$LABS/lab" exec "$LAB" a2 ping -c 1 -W 1 "$A1" >/dev/null 2>&1 && break
    sleep 0.1
done
# The agent under test: the binary the lab's agents run, so that runs can
# be told apart while vmroamd changes.
agent_sum=$(sha256sum <"/proc/$(cat "$STATE/hv1/vmroamd.pid")/exe")
echo "a1 ($A1) between hv1 ($(pa hv1)) and hv3 ($(pa hv3)), probe in a2 on hv2;" \
     "$MIGRATIONS migrations per mode, max downtime" \
     "${MAX_DOWNTIME:-3000} ms; vmroamd ${agent_sum:0:12}"

# labs/lab exec ends in exec of the command, so $! is the probe (and ping)
# itself: SIGTERM makes the probe write its results, SIGINT ping its totals.
"$LABS/lab" exec "$LAB" a2 "$LABS/probe" --rate "$RATE" --tcp-rate "$TCP_RATE" \
    -o "$T/probe.out" "$A1" \
    2>"$T/probe.err" &
PROBE=$!
"$LABS/lab" exec "$LAB" a2 ping -D -i 0.01 "$A1" >"$T/ping.out" 2>&1 &
PING=$!
on_exit "kill -TERM $PROBE 2>/dev/null; kill -INT $PING 2>/dev/null; wait $PROBE $PING 2>/dev/null"
sleep 3                         # the baseline, before any migration

# A guest that stopped after a migration (its heartbeat, read twice 2 s
# apart at the end of the settle time, did not move on) is booted again
# where it is, so that the series goes on; the report leaves that migration
# out of the summary and shows the end of its console (a kernel panic after
# a migration of 4 or more passes is QEMU 7.2's TCG dirty-tracking bug,
# labs/guest/README.md).
revive() {  # revive STALE_STATUS_LINE
    local h line hb stale
    stale=$(hb_of "$1")
    h=$("$LABS/lab" vmhost "$LAB" a1 2>/dev/null) || return 1
    virsh -q -c "$(uri "$h")" destroy a1 >/dev/null 2>&1
    virsh -q -c "$(uri "$h")" start a1 >/dev/null 2>&1 || return 1
    for _ in $(seq 120); do
        line=$(status_line)
        hb=$(hb_of "$line")
        if [ -n "$hb" ] && { [ -z "$stale" ] || [ "$hb" -lt "$stale" ]; } \
            && "$LABS/lab" exec "$LAB" a2 ping -c 1 -W 1 "$A1" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

# One line per migration in $T/runs (see switchover-report.py); the Chassis
# table read after it in $T/chassis-N.json (a host stamps only its latest
# generation, so it is read before the next migration moves on); the end of
# the guest's console in $T/console-N.txt.
n=0
: >"$T/runs"
migrate_series() {  # migrate_series MODE [OPTION...]: MIGRATIONS migrations of a1
    local mode=$1 src dst t0 t1 rc id line0 line1 line2 where copies state h hb0 hb1 hb2
    shift
    for _ in $(seq "$MIGRATIONS"); do
        n=$((n + 1))
        src=$("$LABS/lab" vmhost "$LAB" a1 2>/dev/null)
        if [ "$src" = hv1 ]; then dst=hv3; else dst=hv1; fi
        line0=$(status_line)
        drops "$T/drops-$n.json"
        t0=$(now_ms)
        vmroam migrate a1 --to "$dst" ${MAX_DOWNTIME:+--max-downtime "$MAX_DOWNTIME"} "$@" \
            --wait >"$T/migrate-$n.out" 2>&1
        rc=$?
        t1=$(now_ms)
        id=$(sed -n 's/^migration \([0-9a-f]*\) queued.*/\1/p' "$T/migrate-$n.out")
        sleep $((SETTLE > 2 ? SETTLE - 2 : 0))
        line1=$(status_line)
        sleep 2
        line2=$(status_line)
        where=$("$LABS/lab" vmhost "$LAB" a1 2>/dev/null)
        copies=0
        for h in hv1 hv2 hv3; do
            virsh -q -c "$(uri $h)" list --name 2>/dev/null | grep -qx a1 && copies=$((copies + 1))
        done
        state=$(virsh -q -c "$(uri "${where:-$dst}")" domstate a1 2>/dev/null | head -1)
        "$LABS/lab" console "$LAB" a1 -n 20 >"$T/console-$n.txt" 2>&1
        select_all Chassis >"$T/chassis-$n.json"
        select_all Chassis_Private >"$T/private-$n.json"
        hb0=$(hb_of "$line0")
        hb1=$(hb_of "$line1")
        hb2=$(hb_of "$line2")
        printf '%s\t' "$n" "$mode" "$src" "$dst" "$t0" "$t1" "$rc" "$id" "$where" \
            "$copies" "$state" "$hb0" "$hb1" "$hb2" >>"$T/runs"
        printf '%s\n' "$line2" >>"$T/runs"
        if ! [ "${hb0:-0}" -lt "${hb1:-0}" ] || ! [ "${hb1:-0}" -lt "${hb2:-0}" ]; then
            revive "$line2" || { echo "a1 stopped after migration $n and did not boot again"; return 1; }
        fi
    done
}
series=0
migrate_series resume && migrate_series completion --switchover completion || series=1
t_end=$(now_ms)
drops "$T/drops-end.json"

kill -TERM "$PROBE"
kill -INT "$PING"
ping_stop=$(now_ms)
wait "$PROBE" "$PING"
select_all Migration >"$T/migrations.json"
[ -n "${SWITCHOVER_KEEP:-}" ] && keep_raw "$SWITCHOVER_KEEP" "$STATE" hv1 hv2 hv3
[ -s "$T/probe.out" ] || { echo "the probe wrote nothing:"; cat "$T/probe.err"; exit 1; }
python3 "$(dirname "$0")/switchover-report.py" --runs "$T/runs" --end "$t_end" \
    --probe "$T/probe.out" --ping "$T/ping.out" --ping-stop "$ping_stop" \
    --migrations "$T/migrations.json" --dir "$T" --rate "$RATE" \
    ${SWITCHOVER_JSON:+--json "$SWITCHOVER_JSON"} || exit 1
[ "$(sha256sum <"$VMROAM_BIN/vmroamd")" = "$agent_sum" ] \
    || echo "note: $VMROAM_BIN/vmroamd is not the binary the lab's agents ran (rebuilt since)"
exit "$series"
