#!/bin/bash
# The fault matrix of live migration, on the lab with QEMU guests: one
# fault injected into a running migration at a chosen phase, case after
# case, each undone before the next.
#
#   1  the destination's underlay link cut during the storage copy
#   2  the destination's underlay link cut during the memory copy
#   3  the destination's libvirtd killed during the memory copy
#   4  the destination's vmroamd (and with it the channel) killed during
#      the memory copy, restarted
#   5  the source's vmroamd restarted during the memory copy
#   6  the vmroam database restarted during the memory copy
#   7  cancel while queued, preparing, copying storage, copying memory
#   8  storage: a VM on a disk of its own host, migrated as "shared"
#      (refused) and with the default (its disk copied); a VM on shared
#      storage with the default (proven shared, left in place)
#   9  the destination's vmroamd killed before a migration gets ready: the
#      host shows down once its heartbeat is 10 s old, is never chosen,
#      and the migration fails naming it
#  10  the migration channel: the destination presents a certificate from
#      another CA, or an expired one (its agent then on the database's
#      unix socket, which would refuse it); the channel's connections cut
#      mid-stream.  (A host that is not the destination cannot answer for
#      it: its agent refuses another host's certificate, the agent role
#      keeps it from rewriting the destination's row, and the channel's
#      own refusal of the wrong peer is tests/unit/test-channel.c's.)
#  11  the destination's QEMU killed in the guest's last pause on the
#      source, while the source holds the guest's packets
#
# After every case: the guest runs exactly once (one QEMU, one libvirt
# domain, one br-int port, on one host; the other hosts clean), it never
# stopped for more than a moment, its heartbeat goes on and its memory and
# disk checkers are clean, the Migration row ends in the expected state
# and its error names the cause, the lookup record points at the PA of
# the host the guest really runs on, and a VM on a third host reaches it.
# The end prints one line per case and exits 1 if any check failed.
# VMROAM_FAULT_CASES="1 7b" runs only those cases.
#
# Bandwidth caps stretch a phase just enough to hit it; a migration meant
# to complete gets its cap lifted once the fault is in (virsh
# migrate-setspeed), so that it converges in 3 passes: QEMU 7.2 under TCG
# loses pages after 4 or more (labs/libvirt/README.md).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab-lib.bash"

NAME=vmflt
# migration.json has a tenant-a VM (namespace) on every host: whichever two
# hosts a migration joins, a VM on the third one pings the guest.
lab_init migration.json "$NAME"
STATE=/run/vmroam-lab/$NAME
DB="--state-dir $STATE/db"
HOSTS="hv1 hv2 hv3"
vmroam() { "$VMROAM" $DB --timeout 30 "$@"; }
lab() { "$LABS/lab" "$1" "$LAB" "${@:2}"; }
# to VM HOST...: the first HOST that VM does not run on, a destination.
to() {
    local vm=$1 now
    now=$(lab vmhost "$vm" 2>/dev/null)
    shift
    [ "$1" != "$now" ] && echo "$1" || echo "$2"
}
# The tenant-a VM (a namespace) on the host that is neither $1 nor $2.
third() {
    case " $1 $2 " in
        *" hv1 "*" hv2 "* | *" hv2 "*" hv1 "*) echo a2 ;;
        *" hv1 "*) echo a5 ;;
        *) echo a4 ;;
    esac
}

# ---------------------------------------------------------------- the guest

# How far the guest's heartbeat lags behind its clock, in seconds: how long
# it was kept from running since it booted (the workload skips the beats it
# missed).
lag() {
    status_line "$1" | sed -n 's/.* hb=\([0-9]*\) t=\([0-9.]*\) .*/\2 \1/p' |
        awk '{ printf "%.1f\n", $1 - $2 }'
}
# The heartbeat moves on: the guest runs now.
heart_beats() { heart_goes_on "$1" "$(hb "$1")"; }
# not_stopped VM LAG0: the guest was kept from running for 2 s at most in
# all since its lag was LAG0 (a switchover pauses it for well under a
# second).
not_stopped() {
    local now
    now=$(lag "$1")
    echo "$1 stopped for $now - $2 s"
    [ -n "$now" ] && awk -v a="$2" -v b="$now" 'BEGIN { exit !(b - a <= 2) }'
}
# ---------------------------------------------------------------- where it runs

# qemu_pids HOST VM: the QEMU processes of VM in HOST's namespace
# (libvirt's or not), a pid a line.
qemu_pids() {
    local pid
    for pid in $(ip netns pids "$NAME-$1" 2>/dev/null); do
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
            grep -q -- "-name guest=$2," && echo "$pid"
    done
}
qemus_on() { qemu_pids "$1" "$2" | wc -l; }
# runs_once_on VM HOST: VM runs on HOST, and nowhere else: one QEMU,
# libvirt's domain running there and its port on br-int; on every other
# host no QEMU, no domain (running or defined) and no port.
runs_once_on() {
    local h n dom port ok=0
    for h in $HOSTS; do
        n=$(qemus_on "$h" "$1")
        dom=$(virsh_on "$h" domstate "$1" 2>/dev/null | head -1)
        port=$(X "$h" ovs-vsctl list-ports br-int | grep -x "v-$1")
        echo "$h: $n QEMU, domain ${dom:-undefined}, port ${port:-none}"
        if [ "$h" = "$2" ]; then
            [ "$n" = 1 ] && [ "$dom" = running ] && [ -n "$port" ] || ok=1
        else
            [ "$n" = 0 ] && [ -z "$dom" ] && [ -z "$port" ] || ok=1
        fi
    done
    [ "$(lab vmhost "$1" 2>/dev/null)" = "$2" ] || { echo "lab vmhost: not $2"; ok=1; }
    return $ok
}
pa_of() { vmroam host list --format json | python3 -c "import json,sys; print([r[2] for r in json.load(sys.stdin)['data'] if r[0]=='$1'][0])"; }
record_on() {  # record_on VM HOST: VM's lookup record points at HOST's PA
    vmroam policy export -o "$T/policy.json" || return 1
    python3 - "$T/policy.json" "$1" "$2" "$(pa_of "$2")" <<'PY'
import json, sys
_, path, vm, host, pa = sys.argv
r = [r for r in json.load(open(path))["lookup_records"] if r.get("vm") == vm]
print(r)
sys.exit(len(r) != 1 or r[0]["pa"] != pa or r[0]["host"] != host)
PY
}
# heal VM: when a case left VM's lookup record on another host than the one
# it runs on, move the record there by hand, as an operator would, so that
# the next case starts from a consistent lab (the case has failed already).
heal() {
    local now
    now=$(lab vmhost "$1" 2>/dev/null) || return 0
    record_on "$1" "$now" >/dev/null && return 0
    vmroam policy export -o "$T/heal.json" &&
        python3 - "$T/heal.json" "$1" "$now" "$(pa_of "$now")" <<'PY' &&
import json, sys
_, path, vm, host, pa = sys.argv
policy = json.load(open(path))
for r in policy["lookup_records"]:
    if r.get("vm") == vm:
        r["host"], r["pa"] = host, pa
json.dump(policy, open(path, "w"))
PY
        vmroam policy apply --wait "$T/heal.json" >/dev/null &&
        echo "# $1's lookup record moved to $now by hand for the next case"
}

# ---------------------------------------------------------------- the Migration row

# row ID: the state and error of migration ID, tab-separated.
row() {
    "$VMROAM" $DB --timeout 3 migrations --format json 2>/dev/null | python3 -c "
import json, sys
t = json.load(sys.stdin)
c = t['headings']
for r in t['data']:
    if r[c.index('id')] == sys.argv[1]:
        print(r[c.index('state')] + '\t' + r[c.index('error')])" "$1"
}
state_of() { row "$1" | cut -f1; }
# storage_is ID HOW: migration ID moved its disks HOW (copy or shared).
storage_is() {
    local how
    how=$("$VMROAM" $DB --timeout 3 migrations --format json | python3 -c "
import json, sys
t = json.load(sys.stdin)
c = t['headings']
print([r[c.index('storage')] for r in t['data'] if r[c.index('id')] == sys.argv[1]][0])" "$1")
    echo "storage: $how"
    [ "$how" = "$2" ]
}
cause_of() { row "$1" | cut -f2; }
# wait_state ID STATES SECS: until migration ID is in one of STATES (a
# |-separated list); fails at once when it ends in another state.  The
# state it saw last is in $SEEN.
wait_state() {
    local until=$((SECONDS + $3))
    [ -n "$1" ] || { echo "no migration"; return 1; }
    while :; do
        SEEN=$(state_of "$1")
        case "|$2|" in *"|$SEEN|"*) return 0 ;; esac
        case "$SEEN" in done | failed | cancelled)
            echo "migration $1 ended $SEEN: $(cause_of "$1")"
            return 1 ;;
        esac
        [ $SECONDS -lt $until ] || break
        sleep 0.1
    done
    echo "migration $1 still ${SEEN:-unknown} after $3 s"
    return 1
}
wait_final() { wait_state "$1" "done|failed|cancelled" "$2"; }
# stays ID STATE SECS: migration ID gets to STATE and is still there
# SECS seconds later, the moment to inject the fault; notes the phase.
stays() {
    at_phase "$1" "$2" || return 1
    local until=$((SECONDS + $3))
    while [ $SECONDS -lt $until ]; do
        SEEN=$(state_of "$1")
        [ "$SEEN" = "$2" ] || { PHASE="missed $SEEN"; echo "now $SEEN"; return 1; }
        sleep 0.2
    done
}
# cause_has ID TEXT...: the row's error holds every TEXT.
cause_has() {
    local id=$1 cause
    shift
    cause=$(cause_of "$id")
    echo "error: $cause"
    while [ $# -gt 0 ]; do
        case "$cause" in *"$1"*) ;; *) return 1 ;; esac
        shift
    done
}
# migrate VM --to HOST OPTIONS...: queues the migration and prints its id.
migrate() {
    vmroam migrate "$@" | sed -n 's/^migration \([0-9a-f]*\) queued: .*/\1/p'
}
# at_phase ID PHASE: waits until migration ID is in PHASE (30 s at most),
# the moment to inject the fault; notes the phase for the table.
at_phase() {
    if wait_state "$1" "$2" 30; then
        PHASE=$2
    else
        PHASE="missed ${SEEN:-?}"
        return 1
    fi
}
# job_over HOST VM: HOST's libvirtd runs no job of VM (its migration ended
# there, whatever the Migration row says), within 60 s.
job_over() {
    local info
    for _ in $(seq 300); do
        info=$(virsh_on "$1" domjobinfo "$2" 2>&1)
        case "$info" in *"Job type:"*None* | *"failed to get domain"*) return 0 ;; esac
        sleep 0.2
    done
    echo "$info"
    return 1
}
# Lifts a migration's bandwidth cap on its source: it completes in 3
# passes from here.
uncap() { virsh_on "$1" migrate-setspeed "$2" 100000 >/dev/null 2>&1; }

# ---------------------------------------------------------------- hosts

# host_col HOST COLUMN: a column of HOST's row in "vmroam host list".
host_col() {
    "$VMROAM" $DB --timeout 3 host list --format json 2>/dev/null | python3 -c "
import json, sys
t = json.load(sys.stdin)
c = t['headings']
print([r for r in t['data'] if r[0] == sys.argv[1]][0][c.index(sys.argv[2])])" "$1" "$2"
}
# wait_host_col HOST COLUMN VALUE SECS: "host list" shows VALUE in COLUMN
# of HOST within SECS.
wait_host_col() {
    local until=$((SECONDS + $4)) s
    while :; do
        s=$(host_col "$1" "$2")
        [ "$s" = "$3" ] && return 0
        [ $SECONDS -lt $until ] || break
        sleep 0.1
    done
    echo "$2 of $1 is ${s:-unknown}"
    return 1
}
wait_underlay() { wait_host_col "$1" underlay "$2" "$3"; }
wait_host_state() { wait_host_col "$1" state "$2" "$3"; }
# best_skips VM HOST: a dry run of "migrate VM --best" names HOST as down.
best_skips() {
    vmroam migrate "$1" --best --dry-run >"$T/best" 2>&1
    cat "$T/best"
    grep -q "^  $2: no (host $2 is down" "$T/best"
}
# A pulled cable: the host's uplink loses its carrier when its peer, the
# host's port on the router, goes down.
cut_link() { X router ip link set "p-$1" down; }
mend_link() { X router ip link set "p-$1" up; }
# Every host up with its underlay link up, no migration left running.
healthy() {
    local h bad=0
    for h in $HOSTS; do
        [ "$(host_col "$h" state)/$(host_col "$h" underlay)" = up/up ] ||
            { echo "$h: $(host_col "$h" state), underlay $(host_col "$h" underlay)"; bad=1; }
    done
    vmroam migrations --format json | python3 -c "
import json, sys
rows = [r for r in json.load(sys.stdin)['data'] if r[5] not in ('done', 'failed', 'cancelled')]
print(rows)
sys.exit(bool(rows))" || bad=1
    return $bad
}
# The database as "lab up" started it: in the management namespace, with
# its listener for the agents.
db_restart() {
    lab stop db && sleep 1 && lab start db
}

# ---------------------------------------------------------------- cases

# expect TAG DESCRIPTION COMMAND...: check, and name TAG in the case's
# line of the table when it fails.
expect() {
    local tag=$1 before=$N_FAIL
    shift
    check "$@"
    CASE_CHECKS=$((CASE_CHECKS + 1))
    [ "$N_FAIL" = "$before" ] || CASE_FAILED="$CASE_FAILED${CASE_FAILED:+ }$tag"
}
wanted() { [ -z "${VMROAM_FAULT_CASES:-}" ] || case " $VMROAM_FAULT_CASES " in *" $1 "*) ;; *) return 1 ;; esac; }
# begin CASE VM: a case starts; notes the guest's heartbeat and lag.
begin() {
    CASE=$1 VM=$2 PHASE=- CASE_FAILED= CASE_CHECKS=0 T0=$SECONDS
    SINCE=$(date -u +%Y-%m-%dT%H:%M:%S)
    echo "# case $CASE"
    LAG0=$(lag "$VM")
}
# verify ID OUTCOME HOST [CAUSE...]: the fault is undone; migration ID
# ended OUTCOME, its error holding every CAUSE; the guest runs on HOST only,
# clean, and its lookup record and its CA's reachability follow it.
verify() {
    local id=$1 outcome=$2 host=$3 obs s now cause
    shift 3
    expect outcome "the migration ends $outcome" wait_state "$id" "$outcome" 60
    wait_final "$id" 60 >/dev/null
    [ $# = 0 ] ||
        expect cause "its row names the cause: $*" cause_has "$id" "$@"
    expect once "$VM runs on $host, exactly once; the other hosts are clean" \
        runs_once_on "$VM" "$host"
    expect heart "$VM's heartbeat goes on" heart_beats "$VM"
    expect stop "$VM never stopped for more than 2 s" not_stopped "$VM" "$LAG0"
    expect checkers "$VM's memory and disk checkers are clean" checkers_ok "$VM"
    now=$(lab vmhost "$VM" 2>/dev/null)
    expect record "$VM's lookup record points at the PA of ${now:-its host}, where it runs" \
        record_on "$VM" "${now:-nowhere}"
    obs=$(third "$SRC" "$DST")
    expect reach "$VM's CA is reachable from $obs on a third host" \
        reachable "$obs" "$(ca_of "$VM")"
    expect healthy "the lab is healthy again" healthy
    s=$(row "$id")
    cause=${s#*$'\t'}
    printf '%s|%s|%s|%s|%s|%s\n' "$CASE" "$PHASE" "${s%%$'\t'*}" "${now:-none}" \
        "${cause:--}" \
        "$((CASE_CHECKS - $(echo "$CASE_FAILED" | wc -w)))/$CASE_CHECKS ok${CASE_FAILED:+, not ok: $CASE_FAILED} ($((SECONDS - T0)) s)" \
        >>"$T/table"
    if [ -n "$CASE_FAILED" ]; then
        echo "# what the agents of $SRC and $DST logged about $VM during the case:"
        cat "$STATE/$SRC/vmroamd.log" "$STATE/$DST/vmroamd.log" |
            grep -e "$VM" -e "poll interval" | awk -v t="$SINCE" '$0 >= t' |
            sort | head -20 | sed 's/^/#   /'
    fi
    heal "$VM"
}

START=$SECONDS
check "lab up: 3 hosts with libvirtd, QEMU guests a1 (hv1) and a3 (hv2)" lab up
[ $N_FAIL = 0 ] || finish
: >"$T/table"

# launch TITLE VM PHASE DESTINATION-CHOICES MIGRATE-OPTIONS...: a case
# begins with VM migrating to the first of DESTINATION-CHOICES it does not
# run on, and waits until the migration (ID) is in PHASE.
launch() {
    local title=$1 vm=$2 phase=$3 choices=$4
    shift 4
    SRC=$(lab vmhost $vm) DST=$(to $vm $choices)
    begin "$title" $vm
    id=$(migrate $vm --to $DST "$@")
    expect phase "$vm -> $DST reaches the $phase phase" at_phase "$id" $phase
}

# link_cut TITLE VM PHASE DESTINATION-CHOICES MIGRATE-OPTIONS...: the
# destination's uplink cut once VM's migration is in PHASE.
link_cut() {
    launch "$@" --bandwidth 8
    local vm=$2
    expect inject "cut $DST's uplink" cut_link $DST
    expect seen "$DST's Chassis row says its underlay is down" wait_underlay $DST down 5
    expect rollback "the migration fails while the link is down" wait_state "$id" failed 10
    expect heart "$vm runs on while the link is down" heart_beats $vm
    mend_link $DST
    expect mended "$DST's underlay is up again" wait_underlay $DST up 10
    verify "$id" failed $SRC "underlay link of the destination $DST went down"
}

wanted 1 && link_cut "1 destination underlay cut, storage copy" a3 storage \
    "hv3 hv1" --storage copy
wanted 2 && link_cut "2 destination underlay cut, memory copy" a1 memory \
    "hv3 hv2"

if wanted 3; then
    launch "3 destination libvirtd killed, memory copy" a1 memory "hv3 hv2" \
        --bandwidth 8
    expect inject "kill $DST's libvirtd" lab stop $DST libvirtd --kill
    expect rollback "the migration fails" wait_state "$id" failed 30
    expect heart "a1 runs on while $DST's libvirtd is dead" heart_beats a1
    expect restart "start $DST's libvirtd again" lab start $DST libvirtd
    verify "$id" failed $SRC "migration failed" $DST
fi

# The destination's vmroamd carries the migration's streams (the channel):
# with it dies the migration, and the VM stays where it was.
if wanted 4; then
    launch "4 destination vmroamd killed, memory copy" a1 memory "hv3 hv2" \
        --bandwidth 16
    expect inject "kill $DST's vmroamd" lab stop $DST vmroamd --kill
    expect final "the migration ends without $DST's agent" wait_final "$id" 60
    expect restart "start $DST's vmroamd again" lab start $DST vmroamd
    verify "$id" failed $SRC "migration channel"
fi

if wanted 5; then
    # The source's agent goes away before switchover: a failure before
    # switchover, so the restarted agent rolls the migration back and the
    # guest runs on, untouched, on the source.  The cap stays on: at 2 MiB/s
    # the memory copy outlasts the restart (the stopping agent may take its
    # 5 s before it is killed).
    launch "5 source vmroamd restarted, memory copy" a1 memory "hv1 hv3" \
        --bandwidth 2
    expect inject "restart $SRC's vmroamd" lab restart $SRC vmroamd
    expect final "the restarted agent ends the migration" wait_final "$id" 60
    expect settled "libvirt's migration job on $SRC is over too" job_over $SRC a1
    verify "$id" failed $SRC "the source agent restarted" \
        "kept running on the source"
fi

if wanted 6; then
    launch "6 vmroam database restarted, memory copy" a3 memory "hv1 hv3" \
        --storage copy --bandwidth 16
    expect inject "restart the vmroam database" db_restart
    uncap $SRC a3
    verify "$id" done $DST
fi

if wanted 7a; then
    SRC=$(lab vmhost a1) DST=$(to a1 hv2 hv3)
    begin "7a cancel, queued" a1
    max=$(host_col $DST "max migrations" | cut -d' ' -f1)
    vmroam host set $DST --max-migrations 0 >/dev/null
    id=$(migrate a1 --to $DST)
    expect phase "a1 -> $DST waits in the queue ($DST takes none)" stays "$id" queued 2
    expect inject "cancel it" vmroam migrate --cancel "$id"
    vmroam host set $DST --max-migrations "$max" >/dev/null
    verify "$id" cancelled "$SRC" "cancelled by the operator"
fi

if wanted 7b; then
    SRC=$(lab vmhost a1) DST=$(to a1 hv2 hv3)
    begin "7b cancel, preparing" a1
    lab stop $DST vmroamd --kill >/dev/null
    id=$(migrate a1 --to $DST)
    expect phase "a1 -> $DST stays preparing: $DST's agent never says ready" \
        stays "$id" preparing 2
    expect inject "cancel it" vmroam migrate --cancel "$id"
    expect ends "it ends at once, without $DST's agent" wait_state "$id" cancelled 5
    expect restart "start $DST's vmroamd again" lab start $DST vmroamd
    verify "$id" cancelled "$SRC" "cancelled by the operator"
fi

if wanted 7c; then
    launch "7c cancel, storage copy" a3 storage "hv2 hv3" \
        --storage copy --bandwidth 8
    expect inject "cancel it" vmroam migrate --cancel "$id"
    expect ends "it ends within 10 s" wait_state "$id" cancelled 10
    verify "$id" cancelled "$SRC" "cancelled by the operator"
fi

if wanted 7d; then
    launch "7d cancel, memory copy" a1 memory "hv2 hv3" --bandwidth 8
    expect inject "cancel it" vmroam migrate --cancel "$id"
    expect ends "it ends within 10 s" wait_state "$id" cancelled 10
    verify "$id" cancelled "$SRC" "cancelled by the operator"
fi

# a3's disk is a file of its host's own (/var/lib/libvirt/images): the
# destination has another file at that path, never the same disk.
if wanted 8a; then
    SRC=$(lab vmhost a3) DST=$(to a3 hv1 hv3)
    begin "8a local disk, --storage shared" a3
    id=$(migrate a3 --to $DST --storage shared)
    verify "$id" failed "$SRC" "storage of a3 is not shared with $DST" \
        "/var/lib/libvirt/images/a3.qcow2"
fi

if wanted 8b; then
    SRC=$(lab vmhost a3) DST=$(to a3 hv1 hv3)
    begin "8b local disk, default storage" a3
    id=$(migrate a3 --to $DST)
    verify "$id" done "$DST"
    expect copied "its disk was copied" storage_is "$id" copy
fi

if wanted 8c; then
    SRC=$(lab vmhost a1) DST=$(to a1 hv2 hv3)
    begin "8c shared disk, default storage" a1
    id=$(migrate a1 --to $DST)
    verify "$id" done "$DST"
    expect shared "its disk was proven shared and left in place" \
        storage_is "$id" shared
fi

if wanted 9; then
    SRC=$(lab vmhost a1) DST=$(to a1 hv2 hv3)
    begin "9 destination vmroamd dead, preparing" a1
    lab stop $DST vmroamd --kill >/dev/null
    id=$(migrate a1 --to $DST)
    expect down "$DST shows down once its agent is silent for 10 s" \
        wait_host_state $DST "down (agent silent)" 20
    expect ends "the migration fails without waiting any longer" \
        wait_state "$id" failed 5
    expect best "migrate --best never offers $DST" best_skips a1 $DST
    expect restart "start $DST's vmroamd again" lab start $DST vmroamd
    expect up "$DST shows up again" wait_host_state $DST up 10
    verify "$id" failed "$SRC" "destination $DST cannot receive: host $DST is down: its agent has been silent"
fi

# cut_channel HOST: once the channel's connections to HOST are up, cuts
# them there (SOCK_DESTROY, as "ss -K" does).
cut_channel() {
    local n=0
    for _ in $(seq 100); do
        n=$(ip netns exec "$NAME-$1" ss -Htn state established sport = :6643 | wc -l)
        [ "$n" -gt 0 ] && break
        sleep 0.1
    done
    echo "$n connections to cut"
    [ "$n" -gt 0 ] && ip netns exec "$NAME-$1" ss -K state established sport = :6643 >/dev/null 2>&1
    [ "$(ip netns exec "$NAME-$1" ss -Htn state established sport = :6643 | wc -l)" = 0 ]
}
# wear HOST NAME DIR: HOST's vmroamd restarts with the key and certificate
# of NAME from the PKI in DIR (the lab CA's certificate stays), on the
# database's unix socket: the database would refuse a certificate the
# channel must refuse, and the host would be down before its channel is
# asked.
PKI=$STATE/db/pki
wear() {
    cp "$3/$2-privkey.pem" "$PKI/$1-privkey.pem" &&
        cp "$3/$2-cert.pem" "$PKI/$1-cert.pem" &&
        VMROAM_LAB_AGENT_DB=$([ "$3" = "$T/orig" ] && echo ssl || echo unix) \
            lab restart "$1" vmroamd >/dev/null &&
        wait_host_state "$1" up 10
}
mkdir -p "$T/orig"
cp "$PKI"/*-privkey.pem "$PKI"/*-cert.pem "$T/orig/"
"$VMROAM" --state-dir "$T/other" pki init >/dev/null
for h in $HOSTS; do "$VMROAM" --state-dir "$T/other" pki host $h >/dev/null; done

if wanted 10a; then
    SRC=$(lab vmhost a1) DST=$(to a1 hv3 hv2)
    begin "10a destination's certificate from another CA" a1
    expect inject "$DST's vmroamd wears a certificate of another CA" \
        wear $DST $DST "$T/other/pki"
    id=$(migrate a1 --to $DST)
    expect ends "the migration fails" wait_state "$id" failed 30
    expect restore "$DST wears its own certificate again" wear $DST $DST "$T/orig"
    verify "$id" failed "$SRC" "cannot reach the channel of $DST" \
        "signed by the vmroam CA"
fi

# expire HOST: HOST's key with a certificate of the lab CA that expired in
# 2020, in $T/expired.
expire() { expired_cert "$PKI" "$T/orig/$1-privkey.pem" "$1" "$T/expired"; }

if wanted 10d; then
    SRC=$(lab vmhost a1) DST=$(to a1 hv3 hv2)
    begin "10d destination's certificate expired" a1
    expect inject "a certificate of the lab CA for $DST that expired in 2020" \
        expire $DST
    expect inject "$DST's vmroamd wears it" wear $DST $DST "$T/expired"
    id=$(migrate a1 --to $DST)
    expect ends "the migration fails" wait_state "$id" failed 30
    expect restore "$DST wears its own certificate again" wear $DST $DST "$T/orig"
    verify "$id" failed "$SRC" "cannot reach the channel of $DST"
fi

if wanted 10c; then
    launch "10c channel connections cut, memory copy" a1 memory "hv3 hv2" \
        --bandwidth 8
    expect inject "cut the channel's connections on $DST" cut_channel $DST
    verify "$id" failed "$SRC" "channel" "ended early"
fi

# kill_in_pause ID HOST VM SOURCE: kills VM's QEMU on HOST the moment
# migration ID's source says the guest made its last pause there, which it
# does holding the guest's packets (its "paused" stamp; ovsdb-client
# monitor tells at once, where polling took up to a second on a busy
# machine and missed the pause);
# first notes in $T/hold whether SOURCE's switch has the hold's flows (their
# priority, overlay/pipeline.c).  Fails if the stamp does not come in 60 s.
kill_in_pause() {
    local pid
    pid=$(qemu_pids "$2" "$3" | head -1)
    [ -n "$pid" ] || { echo "no QEMU of $3 on $2"; return 1; }
    timeout 60 python3 - "$1" "$pid" "unix:$STATE/db/db.sock" \
        "unix:$STATE/$4/br-int.mgmt" "$T/hold" <<'PY'
import json, os, signal, subprocess, sys
mid, pid, db, bridge, hold = sys.argv[1:]
mon = subprocess.Popen(["stdbuf", "-oL", "ovsdb-client", "-f", "json", "monitor", db,
                        "vmroam", "Migration", "_uuid,timestamps"],
                       stdout=subprocess.PIPE, text=True)

def paused(update):
    """Whether 'update' (a table, as ovsdb-client monitor prints it) says
    that the guest of migration 'mid' paused: its row as it is now, not as
    it was, nor another migration's."""
    for row in update["data"]:
        r = dict(zip(update["headings"], row))
        if (r["action"] in ("initial", "insert", "new") and r["_uuid"]
                and r["_uuid"][1].startswith(mid)
                and "paused" in dict(r["timestamps"][1])):
            return True
    return False

try:
    for line in mon.stdout:
        if paused(json.loads(line)):
            flows = subprocess.run(["ovs-ofctl", "-O", "OpenFlow15", "dump-flows", bridge],
                                   capture_output=True, text=True).stdout
            os.kill(int(pid), signal.SIGKILL)
            open(hold, "w").write("".join(l + "\n" for l in flows.splitlines()
                                          if "priority=127" in l))
            sys.exit(0)
    sys.exit("the monitor ended")
finally:
    mon.kill()
PY
}
# holding HOST: HOST's switch holds a VM's packets (flows of the hold's
# priority, overlay/pipeline.c).
holding() { X "$1" ovs-ofctl -O OpenFlow15 dump-flows br-int | grep "priority=127"; }
released() { ! holding "$1"; }

# The last step fails after the guest paused on the source: the packets
# held for it since just before are in its destination port's queue and
# die with the destination's QEMU (README: the switchover), a loss bounded
# by the pause and the hold's lead; the source takes the guest's traffic
# back the moment it runs there again.
if wanted 11; then
    launch "11 destination QEMU killed in the guest's last pause" a1 memory \
        "hv3 hv2"
    expect inject "kill a1's QEMU on $DST as $SRC holds its packets (its last pause)" \
        kill_in_pause "$id" $DST a1 $SRC
    expect holding "$SRC's switch sent them to $DST then" test -s "$T/hold"
    expect rollback "the migration fails" wait_state "$id" failed 30
    expect unheld "$SRC holds a1's packets no longer" released $SRC
    verify "$id" failed $SRC "migration channel"
fi

check "IPAM: lookup records and leases agree" vmroam ipam check
check "lab down" lab down
ip netns list | grep -q "^$NAME-" && fail "namespaces left" || pass "no lab namespace left"

echo "# fault matrix ($((SECONDS - START)) s):"
{
    echo "case|phase when injected|outcome|VM runs on|cause in the Migration row|checks"
    cat "$T/table"
} | column -t -s '|' -o ' | '
finish
