#!/bin/bash
# Migration figures on the lab (QEMU TCG guests of 256 MiB): total time,
# downtime, bytes and memory passes of vmroam migrate for an idle and a
# dirtying guest (4 MB/s), with shared storage and with storage copy, each
# next to the same migration through plain "virsh migrate" in the same run,
# so that vmroam's orchestration overhead is a ratio.  Each round makes the
# guest cross between the subnets four times, so that both tools go each
# way once: vmroam hv1 -> hv3, virsh back, virsh hv1 -> hv3, vmroam back.
# ROUNDS rounds; every figure gives its n and the migrations that failed.
set -u
. "$(dirname "$0")/../lib.sh"
LABS="$TESTS_DIR/../labs"
ROUNDS=${ROUNDS:-3}
LAB="$T/lab.json"
python3 - "$LABS/migration.json" "$LAB" <<'PY'
import json, sys
lab = json.load(open(sys.argv[1]))
lab["name"] = "vmmb"
lab["vms"] = [v for v in lab["vms"] if v.get("type") != "qemu"]
for i, (name, dirty, storage) in enumerate((("idle", 0, "shared"), ("dirty", 4, "shared"),
                                            ("cidle", 0, "copy"), ("cdirty", 4, "copy"))):
    lab["vms"].append({"name": name, "host": "hv1", "vsid": 5001,
                       "ca": "192.168.10.%d" % (30 + i), "mac": "02:00:00:05:03:%02x" % i,
                       "type": "qemu", "dirty": dirty, "storage": storage})
json.dump(lab, open(sys.argv[2], "w"))
PY
on_exit "'$LABS/lab' down '$LAB' >/dev/null 2>&1"
"$LABS/lab" up "$LAB" --boot-timeout 240 >"$T/up.out" 2>&1 \
    || { echo "lab did not come up"; tail -5 "$T/up.out"; exit 1; }
DB="--state-dir /run/vmroam-lab/vmmb/db --timeout 120"
uri() { echo "qemu+unix:///system?socket=/run/vmroam-lab/vmmb/$1/libvirt/sock/libvirt-sock"; }
pa() { "$VMROAM" $DB host list --format json | python3 -c "import json,sys; print([r[2] for r in json.load(sys.stdin)['data'] if r[0]=='$1'][0])"; }
now_ms() { date +%s%3N; }

# vmroam VM FROM TO STORAGE: prints "total_ms downtime_ms MB passes".
via_vmroam() {
    local t0 out
    t0=$(now_ms)
    out=$("$VMROAM" $DB migrate "$1" --to "$3" --storage "$4" --wait 2>&1) \
        || { echo "FAILED: $out" >&2; return 1; }
    echo "$(( $(now_ms) - t0 )) $(echo "$out" | sed -n 's/.*downtime \([0-9]*\) ms, \([0-9.]*\) MB transferred, \([0-9]*\) iterations.*/\1 \2 \3/p')"
}

# virsh VM FROM TO STORAGE: the same migration by hand.
via_virsh() {
    local t0 flags=--unsafe
    [ "$4" = copy ] && flags=--copy-storage-all
    t0=$(now_ms)
    virsh -q -c "$(uri "$2")" migrate --live --p2p --persistent --undefinesource \
        --auto-converge $flags --migrateuri "tcp://$(pa "$3")" "$1" "$(uri "$3")" \
        >/dev/null || return 1
    local ms=$(( $(now_ms) - t0 ))
    virsh -c "$(uri "$3")" domjobinfo "$1" --completed | awk -v ms=$ms -F: '
        /Total downtime/ {d=$2+0} /Data processed/ {split($2,a," "); mb=a[1]; if (a[2]=="GiB") mb*=1024; if (a[2]=="KiB") mb/=1024}
        /Iteration/ {i=$2+0} END {printf "%d %d %.1f %d\n", ms, d, mb*1.048576, i}'
}

# measure TOOL VM FROM TO STORAGE: one migration through via_TOOL; its
# figures, or "failed", go to $T/TOOL-FROM-TO.
measure() {
    local tool=$1 line
    shift
    line=$("via_$tool" "$@")
    if [ $? = 0 ] && [ "$(echo "$line" | wc -w)" = 4 ]; then
        echo "$line"
    else
        echo failed
    fi >>"$T/$tool-$2-$3"
}

report() {  # report LABEL FILE: the means of FILE's migrations that worked
    awk -v label="$1" '$1 == "failed" {f++; next}
        {t+=$1; d+=$2; m+=$3; p+=$4; n++}
        END {if (n) printf "  %-38s %7.0f ms total, %5.0f ms downtime, %6.1f MB, %.1f passes (mean of n=%d, %d failed)\n",
                           label, t/n, d/n, m/n, p/n, n, f;
             else printf "  %-38s no migration worked (%d failed)\n", label, f}' "$2"
}

mean_total() { awk '$1 != "failed" {t+=$1; n++} END {if (n) print t/n}' "$1"; }

for vm in idle dirty cidle cdirty; do
    storage=shared
    case $vm in c*) storage=copy ;; esac
    rm -f "$T"/vmroam-* "$T"/virsh-*
    for r in $(seq "$ROUNDS"); do
        measure vmroam "$vm" hv1 hv3 "$storage"
        measure virsh "$vm" hv3 hv1 "$storage"
        measure virsh "$vm" hv1 hv3 "$storage"
        measure vmroam "$vm" hv3 hv1 "$storage"
    done
    echo "$vm guest, storage $storage (across subnets):"
    for way in "hv1 hv3" "hv3 hv1"; do
        set -- $way
        report "vmroam migrate --wait, $1 -> $2" "$T/vmroam-$1-$2"
        report "virsh migrate (same flags), $1 -> $2" "$T/virsh-$1-$2"
        vt=$(mean_total "$T/vmroam-$1-$2")
        rt=$(mean_total "$T/virsh-$1-$2")
        [ -n "$vt" ] && [ -n "$rt" ] &&
            printf '  ratio vmroam / virsh total time, %s -> %s: %.2f\n' "$1" "$2" \
                "$(echo "$vt / $rt" | bc -l)"
    done
done
