#!/bin/bash
# "vmroam storage move" on the lab with QEMU guests: a3, whose disk is its
# host hv2's own file (/var/lib/libvirt/images/a3.qcow2 inside hv2's
# libvirtd), moves to another directory of hv2 while it runs.
#
# Refused first (nothing changes): an unknown VM, a relative directory,
# the directory the disk is in, a destination file that exists (never
# overwritten) (exit 2), a VM being migrated (exit 1, as "vmroam migrate"
# says it).  Then failures (exit 1), after
# each of which a3 runs on its old disk, no copy job is left, the
# destination holds nothing the move made, and a3's checkers are clean: a
# directory that does not exist, a read-only one, one with too little
# space, the command interrupted mid-copy, the copy job aborted by someone
# else mid-copy.  Last the move itself: progress shown, the running and
# persistent definitions name the new file, the same QEMU process runs on
# (no reboot), its heartbeat goes on, and its disk checker re-reads every
# block of its ring from the new file, clean.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/lab-lib.bash"
lab_init migration.json vmsmv
# a1 is not needed here; one QEMU guest fewer spares the machine.
python3 -c 'import json, sys
lab = json.load(open(sys.argv[1]))
lab["vms"] = [v for v in lab["vms"] if v["name"] != "a1"]
json.dump(lab, open(sys.argv[1], "w"), indent=1)' "$LAB"
STATE=/run/vmroam-lab/vmsmv
DB="--state-dir $STATE/db --timeout 60"
vmroam() { "$VMROAM" $DB "$@"; }
lab() { "$LABS/lab" "$1" "$LAB" "${@:2}"; }
URI="qemu+unix:///system?socket=$STATE/hv2/libvirt/sock/libvirt-sock"
v() { virsh -q -c "$URI" "$@"; }
# /var/lib/libvirt of hv2's libvirtd, as seen from here.
LIB=$STATE/hv2/libvirt/lib
OLD=/var/lib/libvirt/images/a3.qcow2
# in_libvirt CMD...: CMD in the mount namespace of hv2's libvirtd.
in_libvirt() { nsenter -t "$(cat "$STATE/hv2/libvirt/libvirtd.pid")" -m "$@"; }

verified() { status_line a3 | sed -n 's/.*diskcheck ok [0-9]* writes \([0-9]*\) verified.*/\1/p'; }
disk_is() {  # disk_is FILE: a3's vda runs on FILE, and its persistent
             # definition names FILE too
    local now saved
    now=$(v domblklist a3 | awk '$1 == "vda" { print $2 }')
    saved=$(v dumpxml --inactive a3 | sed -n "s/.*<source file='\([^']*\)'.*/\1/p")
    echo "running on $now, defined with $saved"
    [ "$now" = "$1" ] && [ "$saved" = "$1" ]
}
no_block_job() {
    local info
    info=$(virsh -c "$URI" blockjob a3 vda --info 2>&1)
    case "$info" in *"No current block job"*) return 0 ;; esac
    echo "$info"
    return 1
}
empty() {  # empty DIR: DIR (in hv2's libvirtd) holds no file
    local left
    left=$(in_libvirt ls -A "$1")
    [ -z "$left" ] || { echo "left in $1: $left"; return 1; }
}
# still_there DESCRIPTION: a3 runs on its old disk, clean, after a
# refusal or failure.
still_there() {
    check "$1: a3 runs on its old disk" disk_is "$OLD"
    check "$1: a3 runs (its heartbeat goes on)" heart_goes_on a3 "$(hb a3)"
    check "$1: no copy job left" no_block_job
    check "$1: a3's checkers clean" checkers_ok a3
}
# copying OUT: the move writing to OUT is copying (it printed progress and
# libvirt shows the job).
copying() {
    for _ in $(seq 100); do
        grep -q "^copying" "$1" && ! no_block_job && return 0
        sleep 0.1
    done
    return 1
}

check "lab up: a3 (QEMU, its disk on hv2) runs" lab up
[ $N_FAIL = 0 ] || finish
check "a3 runs on $OLD" disk_is "$OLD"
check "a3's checkers clean" checkers_ok a3
QEMU_PID=$(cat "$STATE/hv2/libvirt/run/qemu/a3.pid")

# ---------------------------------------------------------------- refused
check_status "an unknown VM is refused" 2 \
    vmroam storage move nosuch --to /var/lib/libvirt/images/moved
check_output "it says so" "$T/err" "no VM named nosuch"
check_status "a relative directory is refused" 2 \
    vmroam storage move a3 --to images/moved
check_output "it says so" "$T/err" "give an absolute path"
check_status "the directory the disk is in is refused" 2 \
    vmroam storage move a3 --to /var/lib/libvirt//images/
check_output "it says so" "$T/err" \
    "no disk to move to /var/lib/libvirt/images: vda (in /var/lib/libvirt/images already)"
mkdir -p "$LIB/images/taken"
echo precious >"$LIB/images/taken/a3.qcow2"
check_status "a destination file that exists is refused" 2 \
    vmroam storage move a3 --to /var/lib/libvirt/images/taken
check_output "it names the file" "$T/err" \
    "disk vda: /var/lib/libvirt/images/taken/a3.qcow2 exists already on hv2"
check "the file is not touched" grep -qx precious "$LIB/images/taken/a3.qcow2"
still_there "after the refusals"

# A migration of a3 waits in the queue (hv3 takes none meanwhile).
vmroam host set hv3 --max-migrations 0 >/dev/null
vmroam migrate a3 --to hv3 --storage copy >"$T/migrate"
id=$(awk '/^migration/ { print $2 }' "$T/migrate")
check_status "a VM being migrated is refused" 1 \
    vmroam storage move a3 --to /var/lib/libvirt/images/moved
check_output "it says so" "$T/err" "VM a3 is being migrated (hv2 to hv3, queued)"
check "the queued migration is cancelled" vmroam migrate --cancel "$id" --wait
vmroam host set hv3 --max-migrations 2 >/dev/null

# ---------------------------------------------------------------- failures
check_status "a directory that does not exist: failure" 1 \
    vmroam storage move a3 --to /var/lib/libvirt/images/nowhere
check_output "it says why" "$T/err" \
    "destination directory /var/lib/libvirt/images/nowhere on hv2: cannot open directory"
still_there "no directory"

mkdir -p "$LIB/images/ro"
in_libvirt mount --bind /var/lib/libvirt/images/ro /var/lib/libvirt/images/ro
in_libvirt mount -o remount,bind,ro /var/lib/libvirt/images/ro
check_status "a read-only directory: failure" 1 \
    vmroam storage move a3 --to /var/lib/libvirt/images/ro
check_output "it names the disk and why" "$T/err" \
    "disk vda: the copy to /var/lib/libvirt/images/ro/a3.qcow2 did not start"
check_output "(read-only file system)" "$T/err" "Read-only file system"
check "nothing left in it" empty /var/lib/libvirt/images/ro
still_there "read-only directory"
in_libvirt umount /var/lib/libvirt/images/ro

mkdir -p "$LIB/images/small"
in_libvirt mount -t tmpfs -o size=128k tmpfs /var/lib/libvirt/images/small
check_status "a directory with too little space: failure" 1 \
    vmroam storage move a3 --to /var/lib/libvirt/images/small
check_output "it says how much is free and needed" "$T/err" \
    "not enough space in /var/lib/libvirt/images/small: 0.1 MB free, the disks take"
check "nothing left in it" empty /var/lib/libvirt/images/small
still_there "too little space"
in_libvirt umount /var/lib/libvirt/images/small

# Interrupted mid-copy: 1 MiB/s stretches the copy of the 64 MiB disk.  The
# command runs in the background directly, so that the signal reaches it.
mkdir -p "$LIB/images/slow"
"$VMROAM" $DB storage move a3 --to /var/lib/libvirt/images/slow --bandwidth 1 \
    >"$T/slow.out" 2>"$T/slow.err" &
move=$!
check "the slow move is copying" copying "$T/slow.out"
check "its copy is in the destination" test -e "$LIB/images/slow/a3.qcow2"
kill -INT $move
wait $move
status=$?
[ $status = 1 ] && pass "interrupted: exit 1" || fail "interrupted: exit $status"
check_output "it says so" "$T/slow.err" "storage move of a3 to /var/lib/libvirt/images/slow failed: interrupted"
check_output "and where a3 runs" "$T/slow.err" \
    "a3 runs on its old disks; the copies were aborted and the files they made removed"
check "the partial copy is removed" empty /var/lib/libvirt/images/slow
still_there "interrupted"

# The copy job aborted by someone else mid-copy.
"$VMROAM" $DB storage move a3 --to /var/lib/libvirt/images/slow --bandwidth 1 \
    >"$T/slow.out" 2>"$T/slow.err" &
move=$!
check "the slow move is copying again" copying "$T/slow.out"
check "someone aborts its copy job" v blockjob a3 vda --abort
wait $move
status=$?
[ $status = 1 ] && pass "copy aborted: exit 1" || fail "copy aborted: exit $status"
check_output "it names the disk and why" "$T/slow.err" \
    "disk vda: the copy to /var/lib/libvirt/images/slow/a3.qcow2 ended before it was complete"
check "the partial copy is removed" empty /var/lib/libvirt/images/slow
still_there "copy aborted"

# ---------------------------------------------------------------- the move
mkdir -p "$LIB/images/moved"
hb0=$(hb a3)
v0=$(verified)
check "move a3's disk to /var/lib/libvirt/images/moved while it runs" \
    vmroam storage move a3 --to /var/lib/libvirt/images/moved
cp "$T/out" "$T/move.out"
check_output "progress shown" "$T/move.out" "copying      ["
check_output "up to 100%" "$T/move.out" "100%"
check_output "the summary" "$T/move.out" \
    "storage of a3 moved to /var/lib/libvirt/images/moved: 1 disk,"
check_output "vda moved" "$T/move.out" \
    "vda: /var/lib/libvirt/images/a3.qcow2 -> /var/lib/libvirt/images/moved/a3.qcow2"
grep '^storage of a3 moved' "$T/move.out" | sed 's/^/# measured: /'
check "a3 runs on the new file, and is defined with it" \
    disk_is /var/lib/libvirt/images/moved/a3.qcow2
check "no copy job left" no_block_job
check "the old file stays" test -e "$LIB/images/a3.qcow2"
check "the same QEMU process runs a3 (no restart)" \
    test "$(cat "$STATE/hv2/libvirt/run/qemu/a3.pid")" = "$QEMU_PID"
check "its heartbeat goes on, not from 1" heart_goes_on a3 "$hb0"
check "its checkers clean" checkers_ok a3
# The checker re-reads 2 ring blocks per write (20 writes/s), so the whole
# ring of 2048 blocks, written before the move, is read back from the new
# file within a minute: 3 verifications per write, 3072 in all.
ring_read() {
    local now
    for _ in $(seq 120); do
        now=$(verified)
        [ -n "$now" ] && [ "$now" -ge $((v0 + 3100)) ] && return 0
        sleep 1
    done
    echo "verified ${now:-nothing}, was $v0"
    return 1
}
check "the disk checker reads its whole ring back from the new file" ring_read
check "its checkers still clean" checkers_ok a3

check_status "moving it back onto the old file is refused" 2 \
    vmroam storage move a3 --to /var/lib/libvirt/images
check_output "never overwritten" "$T/err" "/var/lib/libvirt/images/a3.qcow2 exists already"

check "lab down" lab down
ip netns list | grep -q "^vmsmv-" && fail "namespaces left" || pass "no lab namespace left"
finish
