#!/bin/bash
# The migration channel's figures: a QEMU TCG guest whose memory looks like
# a server's moves back and forth between hv1 (rack-1) and hv3 (rack-2),
# ROUNDS rounds (5), each round one migration per mode and shaping:
#   plain  libvirt's own unencrypted path, one stream (--plain --streams 1),
#          vmroam before the channel;
#   none   the channel (mutual TLS, framing) without compression;
#   auto   the channel with --compression auto (the default);
# once with the underlay shaped to 1 Gbit/s (tbf on every host's uplink
# eth0 and on every router port toward a host) and once unshaped.  Rounds
# alternate the order of the six migrations (and so their directions), so
# that each mode goes both ways and meets the machine's noise evenly.
#
# The guest: 512 MiB (CHANNEL_MEMORY, MiB), 320 MiB of it a fill region
# (CHANNEL_FILL) of zeros, text, code and random bytes in the parts 1:5:5:5
# (labs/guest: vmroam.fill, initrd-corpus.gz), so that with the memory
# checker's 32 MiB, the kernel and the memory it never touched the guest is
# about a quarter zero pages, half text and code and a quarter random; it
# dirties 4 MB/s (CHANNEL_DIRTY).  Its memory, disk and fill checkers run
# all along; after every migration the bench waits for a fresh status line
# and counts a migration after which a checker failed or the guest stopped
# (it is then booted again, so that the next migrations start clean; the
# end of its console is printed first).  The migrations aim at the lab's
# pause (vmroamd --max-downtime 3000 in labs/vmroamlab/hosts.py), which
# keeps QEMU 7.2 under TCG to 3 passes; a guest that panics right after a
# migration of 4 or more passes is QEMU's TCG dirty-tracking bug
# (labs/guest/README.md).
#
# Per mode and shaping: total time (the Migration row's started to
# finished), downtime, MB from QEMU and on the wire (the channel's counts)
# and their ratio, the bytes the source host's uplink sent and the TCP
# segments the source host retransmitted, and the CPU
# seconds of the QEMU processes and vmroamds of both hosts during the
# migration (/proc/PID/stat; QEMU's include the guest's own vCPU, which
# TCG runs on the host); every figure with its n, every failed migration
# named.  Then the ratio lines (mean total time of channel auto divided by
# plain's), and the least ratio there could be were the link all that
# limits both paths: auto's wire bytes over QEMU's (QEMU already skips
# zero pages itself, so only the rest of memory is lz4's to shrink).  A
# figure, not a test: nothing fails on a number.
#
# Environment: ROUNDS (5), MODES ("plain none auto"; "lz4" adds the channel
# with --compression lz4), CHANNEL_STREAMS (--streams for the channel's
# modes; vmroam's default when empty), CHANNEL_LAB lab name (vmbch), CHANNEL_MEMORY,
# CHANNEL_FILL, CHANNEL_DIRTY, CHANNEL_KEEP a directory to copy the raw
# data to (migrate outputs, CPU samples, the runs table, both hosts' vmroamd
# logs, which say per stream how "auto" judged it).
set -u
. "$(dirname "$0")/../lib.sh"
LABS="$TESTS_DIR/../labs"
REPORT="$(dirname "$0")/channel-report.py"
ROUNDS=${ROUNDS:-5}
MODES=${MODES:-plain none auto}
STREAMS=${CHANNEL_STREAMS:-}
NAME=${CHANNEL_LAB:-vmbch}
MEMORY=${CHANNEL_MEMORY:-512}
FILL=${CHANNEL_FILL:-320}
FILL_MIX=1:5:5:5
DIRTY=${CHANNEL_DIRTY:-4}
RATE=1gbit
LAB="$T/lab.json"

# migration.json with a1 alone as QEMU guest (a second TCG guest only takes
# CPU from the measurement), dirtying DIRTY MB/s.
python3 - "$LABS/migration.json" "$LAB" "$NAME" "$DIRTY" <<'PY' || exit 1
import json, sys
lab = json.load(open(sys.argv[1]))
lab["name"] = sys.argv[3]
lab["vms"] = [v for v in lab["vms"] if v["name"] != "a3"]
for v in lab["vms"]:
    if v["name"] == "a1":
        v["dirty"] = int(sys.argv[4])
        v["host"] = "hv1"
rack = {h["name"]: h["footprint"] for h in lab["hosts"]}
if rack["hv1"] == rack["hv3"]:
    sys.exit("hv1 and hv3 share %s: the migrations would not cross subnets" % rack["hv1"])
json.dump(lab, open(sys.argv[2], "w"))
PY
t_start=$(date +%s)
on_exit "'$LABS/lab' down '$LAB' >/dev/null 2>&1"
"$LABS/lab" up "$LAB" --boot-timeout 240 >"$T/up.out" 2>&1 \
    || { echo "lab did not come up"; tail -5 "$T/up.out"; exit 1; }
STATE=/run/vmroam-lab/$NAME
vmroam() { "$VMROAM" --state-dir "$STATE/db" --timeout 300 "$@"; }
uri() { echo "qemu+unix:///system?socket=$STATE/$1/libvirt/sock/libvirt-sock"; }
lab() { "$LABS/lab" "$1" "$LAB" "${@:2}"; }
pa() { vmroam host list --format json | python3 -c "import json,sys; print([r[2] for r in json.load(sys.stdin)['data'] if r[0]=='$1'][0])"; }
status_line() { lab console a1 -n 5 2>/dev/null | grep 'hb=' | tail -1; }
hb_of() { echo "$1" | grep -o 'hb=[0-9]*' | cut -d= -f2; }
now_ms() { date +%s%3N; }

# --- the bench guest: a1 again, with more memory, the corpus and the fill
G=$("$LABS/guest/build" 2>"$T/build.err") && [ -s "$G/initrd-corpus.gz" ] \
    || { echo "labs/guest/build did not make initrd-corpus.gz"; cat "$T/build.err"; exit 1; }
virsh -q -c "$(uri hv1)" destroy a1 >/dev/null
virsh -q -c "$(uri hv1)" dumpxml --inactive a1 >"$T/a1.xml" || exit 1
python3 - "$T/a1.xml" "$MEMORY" "$G/initrd-corpus.gz" \
    " vmroam.fill=$FILL vmroam.fillmix=$FILL_MIX" <<'PY' || exit 1
import sys
import xml.etree.ElementTree as ET
path, mib, initrd, args = sys.argv[1:]
tree = ET.parse(path)
d = tree.getroot()
for tag in ("memory", "currentMemory"):
    e = d.find(tag)
    if e is not None:
        e.set("unit", "MiB")
        e.text = mib
d.find("os/initrd").text = initrd
d.find("os/cmdline").text += args
tree.write(path)
PY
virsh -q -c "$(uri hv1)" define "$T/a1.xml" >/dev/null || exit 1
boot_guest() {  # boot_guest HOST: starts a1 there, waits for its fill checker
    local line hb stale
    stale=$(hb_of "$(status_line)")
    virsh -q -c "$(uri "$1")" start a1 >/dev/null || return 1
    for _ in $(seq 240); do
        line=$(status_line)
        hb=$(hb_of "$line")
        case "$line" in
            *fillcheck*)
                if [ -z "$stale" ] || [ "$hb" -lt "$stale" ]; then
                    # and once its agent lists it running, vmroam may move it
                    for _ in $(seq 30); do
                        vmroam migrate a1 --to "$(other "$1")" --dry-run >/dev/null 2>&1 \
                            && return 0
                        sleep 1
                    done
                    echo "vmroam would not migrate a1 from $1 after it booted"
                    return 1
                fi ;;
        esac
        sleep 0.5
    done
    echo "a1 did not boot again with its fill checker in 120 s: ${line:-no status line}"
    return 1
}
other() { if [ "$1" = hv1 ]; then echo hv3; else echo hv1; fi; }
boot_guest hv1 || exit 1

# --- shaping: tbf on every host's uplink and on the router's port to it
HOSTS=$(python3 -c "import json; print(' '.join(h['name'] for h in json.load(open('$LAB'))['hosts']))")
shape() {  # shape RATE | shape off
    local h
    for h in $HOSTS; do
        if [ "$1" = off ]; then
            lab exec "$h" tc qdisc del dev eth0 root 2>/dev/null
            lab exec router tc qdisc del dev "p-$h" root 2>/dev/null
        else
            lab exec "$h" tc qdisc replace dev eth0 root tbf rate "$1" burst 256kb latency 20ms \
                && lab exec router tc qdisc replace dev "p-$h" root tbf rate "$1" burst 256kb latency 20ms \
                || { echo "tc failed on $h"; return 1; }
        fi
    done
}
# What one TCP connection gets from hv1 to hv3 (300 MB of zeros, socat).
underlay_probe() {
    local t0 t1 port=5999
    lab exec hv3 timeout 60 socat -u "TCP-LISTEN:$port,reuseaddr" OPEN:/dev/null &
    local listener=$!
    sleep 0.5
    t0=$(now_ms)
    head -c 300000000 /dev/zero | lab exec hv1 timeout 60 socat -u - "TCP:$(pa hv3):$port" \
        || { wait "$listener"; echo "failed"; return; }
    wait "$listener"
    t1=$(now_ms)
    echo "$(( 300000000 * 8 / ((t1 - t0) * 1000) )) Mbit/s"
}
tx_bytes() { lab exec "$1" cat /sys/class/net/eth0/statistics/tx_bytes; }
retrans() {  # TCP segments HOST retransmitted so far
    lab exec "$1" cat /proc/net/snmp | awk '$1 == "Tcp:" {
        if (!seen) { seen = 1; for (k = 1; k <= NF; k++) col[$k] = k }
        else print $col["RetransSegs"] }'
}

shape off
echo "underlay hv1 -> hv3, one TCP connection: $(underlay_probe) unshaped," \
     "$(shape "$RATE" && underlay_probe) shaped to $RATE"
shape off

# --- the migrations, one line each as they go, then the figures
: >"$T/runs"
n=0
migrate_one() {  # migrate_one SHAPE MODE ROUND
    local shape=$1 mode=$2 round=$3 src dst opts rc t0 t1 tx0 tx1 re0 re1 sampler line hb0 hb check
    n=$((n + 1))
    src=$(lab vmhost a1 2>/dev/null)
    dst=$(other "$src")
    case $mode in
        plain) opts="--plain --streams 1" ;;
        none) opts="--compression none${STREAMS:+ --streams $STREAMS}" ;;
        auto) opts="--compression auto${STREAMS:+ --streams $STREAMS}" ;;
        lz4) opts="--compression lz4${STREAMS:+ --streams $STREAMS}" ;;
        *) echo "unknown mode $mode (MODES: plain none auto lz4)"; return 1 ;;
    esac
    if [ "$shape" = unshaped ]; then shape off; else shape "$RATE" || return 1; fi
    tx0=$(tx_bytes "$src")
    re0=$(retrans "$src")
    python3 "$REPORT" sample "$T/cpu-$n.json" \
        "src_qemu=$STATE/$src/libvirt/run/qemu/a1.pid" \
        "dst_qemu=$STATE/$dst/libvirt/run/qemu/a1.pid" \
        "src_vmroamd=$STATE/$src/vmroamd.pid" "dst_vmroamd=$STATE/$dst/vmroamd.pid" &
    sampler=$!
    t0=$(now_ms)
    vmroam migrate a1 --to "$dst" $opts --wait >"$T/migrate-$n.out" 2>&1
    rc=$?
    t1=$(now_ms)
    kill -TERM "$sampler"
    wait "$sampler"
    tx1=$(tx_bytes "$src")
    re1=$(retrans "$src")
    # Two fresh status lines after the migration, from wherever a1 runs.
    hb0=$(hb_of "$(status_line)")
    check=dead
    for _ in $(seq 40); do
        line=$(status_line)
        hb=$(hb_of "$line")
        if [ -n "$hb" ] && [ "$hb" -ge "$(( ${hb0:-0} + 2 ))" ]; then
            case "$line" in
                *FAIL*) check=FAIL ;;
                *"memcheck ok"*"diskcheck ok"*"fillcheck ok"*) check=ok ;;
                *) check=incomplete ;;
            esac
            break
        fi
        sleep 0.5
    done
    printf '%s\t' "$n" "$shape" "$mode" "$round" "$src" "$dst" "$rc" "$((t1 - t0))" \
        "$T/migrate-$n.out" "$T/cpu-$n.json" "$((tx1 - tx0))" "$((re1 - re0))" "$check" \
        >>"$T/runs"
    printf '%s\n' "$line" >>"$T/runs"
    printf '%3d %-9s %-5s %s -> %s: exit %s, %s, %s iterations, checkers %s\n' "$n" "$shape" \
        "$mode" "$src" "$dst" "$rc" \
        "$(sed -n 's/^ *total \([0-9.]*\) s.*/\1 s/p' "$T/migrate-$n.out")" \
        "$(sed -n 's/.* \([0-9]*\) iterations$/\1/p' "$T/migrate-$n.out")" "$check"
    if [ "$check" != ok ]; then
        lab console a1 -n 60 2>/dev/null | grep -v 'hb=' | tail -4 | sed 's/^/      console: /'
        # Boot it again where it is (or, if nowhere, where it was), so that
        # a sticky failure does not count against the next migrations.
        local where
        where=$(lab vmhost a1 2>/dev/null) || where=$src
        virsh -q -c "$(uri "$where")" destroy a1 >/dev/null 2>&1
        boot_guest "$where" || return 1
    fi
}

ORDER=$(for s in 1Gbit/s unshaped; do for m in $MODES; do printf '%s:%s ' "$s" "$m"; done; done)
REVERSED=$(echo "$ORDER" | tr ' ' '\n' | tac | tr '\n' ' ')
series=0
for r in $(seq "$ROUNDS"); do
    order=$ORDER
    [ $((r % 2)) = 0 ] && order=$REVERSED
    for m in $order; do
        shape=${m%%:*}
        [ "$shape" = 1Gbit/s ] && shape="1 Gbit/s"
        migrate_one "$shape" "${m#*:}" "$r" || { series=1; break 2; }
    done
done
shape off

final=$(status_line)
echo "guest a1: ${MEMORY} MiB, fill ${FILL} MiB (zeros:text:code:random $FILL_MIX)," \
     "dirty ${DIRTY} MB/s; channel streams ${STREAMS:-default};" \
     "${ROUNDS} rounds of: $ORDER; $(nproc) cores;" \
     "$(( $(date +%s) - t_start )) s"
echo "last status line: ${final:-none}"
[ -n "${CHANNEL_KEEP:-}" ] && keep_raw "$CHANNEL_KEEP" "$STATE" hv1 hv3
python3 "$REPORT" report "$T/runs" || exit 1
[ "$series" = 0 ] || { echo "the series stopped early (a1 could not be booted again)"; exit 1; }
