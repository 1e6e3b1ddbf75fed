#!/bin/bash
# Overlay figures:
#  (a) one lookup record changed in the database -> flows installed on
#      every host (policy apply --wait), p50/p99 over ROUNDS changes, on the
#      3-host namespace lab and on HOSTS simulated hosts;
#  (b) a full sync of RECORDS lookup records on one host: time from vmroamd
#      start to its flows installed, vmroamd and ovs-vswitchd RSS, next to
#      "ovs-ofctl --bundle add-flows" of the same flow set on the same
#      machine in the same run;
#  (c) flows per lookup record;
#  (d) one lookup record changed next to those RECORDS -> its flows
#      installed on that host (policy set-record --wait), against the
#      command's own cost without --wait, over CHANGES changes.
# OVERLAY_PARTS picks some of "lab hosts sync" (default all): "hosts" is (a)
# on the simulated hosts only, "sync" is (b) and (c).
set -u
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/dummy-hosts.sh"
ROUNDS=${ROUNDS:-100}
HOSTS=${HOSTS:-100}
RECORDS=${RECORDS:-100000}
CHANGES=${CHANGES:-20}
LABS="$TESTS_DIR/../labs"
OVERLAY_PARTS=${OVERLAY_PARTS:-lab hosts sync}
part() { case " $OVERLAY_PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

now_ms() { date +%s%3N; }
# cpu_ms PIDFILE...: the CPU time (user + system) those processes used so
# far, in ms.
cpu_ms() {
    local f ticks=0
    for f in "$@"; do
        [ -e "$f" ] || continue
        ticks=$(( ticks + $(awk '{ print $14 + $15 }' "/proc/$(cat "$f")/stat") ))
    done
    echo $(( ticks * 1000 / $(getconf CLK_TCK) ))
}
rss_mb() { echo "$(ps -o rss= -p "$(cat "$1")") / 1024" | bc; }

# sorted_rounds FILE: FILE's rounds, fastest first, failed ones last.
sorted_rounds() { grep -vx failed "$1" | sort -n; grep -x failed "$1"; }

# percentiles FILE: p50, p99 and max of the rounds in FILE, one a line, a
# number of ms or "failed".  A failed round counts as slower than any
# other: failures push the figures up rather than drop out of them.
percentiles() {
    sorted_rounds "$1" | awk '
        function at(p) { return v[int((NR - 1) * p) + 1] }
        function ms(x) { return x == "failed" ? x : x " ms" }
        { v[NR] = $1; failed += ($1 == "failed") }
        END {
            if (!NR) { print "no rounds"; exit }
            printf "p50 %s, p99 %s, max %s (n=%d changes, %d failed)\n",
                ms(at(0.50)), ms(at(0.99)), ms(v[NR]), NR, failed
        }'
}

# at_percentile FILE P: the P-th percentile of FILE's rounds ("failed"
# counts as slowest), or nothing if FILE has none.
at_percentile() {
    [ -s "$1" ] || return 0
    sorted_rounds "$1" | awk -v p="$2" '{ v[NR] = $1 } END { print v[int((NR - 1) * p / 100) + 1] }'
}

# ratio A B: A / B to two decimals, or "n/a" unless both are numbers.
ratio() {
    case "$1$2" in
        *[!0-9]* | "") echo n/a ;;
        *) [ "$2" -gt 0 ] && echo "scale=2; $1 / $2" | bc || echo n/a ;;
    esac
}

# change_rounds DB POLICY VM PA_A HOST_A PA_B HOST_B: moves VM's record back
# and forth ROUNDS times, each apply waiting for every chassis.
change_rounds() {
    local db=$1 policy=$2 vm=$3 out=$T/lat ms
    : >"$out"
    for r in $(seq "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then pa=$6 host=$7; else pa=$4 host=$5; fi
        python3 - "$policy" "$T/round.json" "$vm" "$pa" "$host" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
for r in p["lookup_records"]:
    if r.get("vm") == sys.argv[3]:
        r.update(pa=sys.argv[4], host=sys.argv[5])
json.dump(p, open(sys.argv[2], "w"))
PY
        ms=
        "$VMROAM" --state-dir "$db" --timeout 30 policy apply --wait \
            "$T/round.json" >"$T/apply.out" 2>&1 &&
            ms=$(sed -n 's/.* in \([0-9]*\) ms$/\1/p' "$T/apply.out")
        if [ -n "$ms" ]; then
            echo "$ms" >>"$out"
        else
            echo failed >>"$out"
            echo "  round $r failed:"
            sed 's/^/    | /' "$T/apply.out" | head -5
        fi
    done
    percentiles "$out"
}

echo "(a) record change -> flows installed on every host"
LAB="$T/lab.json"
# The lab's agents on the database's unix socket (no role), then as the
# lab runs them: with SSL and their certificates under the agent role.
if part lab; then
    sed 's/"name": "vmroam"/"name": "vmrb"/' "$LABS/default.json" >"$LAB"
    on_exit "'$LABS/lab' down '$LAB' >/dev/null 2>&1"
    for mode in unix ssl; do
        if VMROAM_LAB_AGENT_DB=$mode "$LABS/lab" up "$LAB" >"$T/lab.out" 2>&1; then
            db=/run/vmroam-lab/vmrb/db
            "$VMROAM" --state-dir "$db" policy export -o "$T/lab-policy.json"
            printf '  3-host lab (namespaces, netdev), %s: ' \
                "$([ $mode = ssl ] && echo "SSL+RBAC" || echo "unix socket")"
            change_rounds "$db" "$T/lab-policy.json" a2 10.0.2.11 hv3 10.0.1.12 hv2
            cp "$T/lat" "$T/lab-lat-$mode"
        else
            echo "  lab did not come up:"; tail -5 "$T/lab.out"
        fi
        "$LABS/lab" down "$LAB" >/dev/null 2>&1
    done
    for p in 50 99; do
        printf '  SSL+RBAC / unix socket, record change -> flows p%s on the 3-host lab: %s\n' \
            "$p" "$(ratio "$(at_percentile "$T/lab-lat-ssl" $p)" \
                          "$(at_percentile "$T/lab-lat-unix" $p)")"
    done
fi

# The simulated hosts' agents on the database's unix socket (no role), then
# with SSL and their certificates under the agent role, as deployed, then
# the same through 2 relays ("vmroam relay start", README's scale-out
# recipe) that the agents spread over.
hosts_mode() {
    case $1 in
    plain) echo "unix socket" ;;
    ssl) echo "SSL+RBAC" ;;
    relays) echo "SSL+RBAC through 2 relays" ;;
    esac
}
# p_ratio NAME A B: the p50 and p99 lines of A's rounds over B's.
p_ratio() {
    for p in 50 99; do
        printf '  %s, record change -> flows p%s on %d simulated hosts: %s\n' \
            "$1" "$p" "$HOSTS" "$(ratio "$(at_percentile "$T/lat-$2" $p)" \
                                         "$(at_percentile "$T/lat-$3" $p)")"
    done
}
# What the relays buy is the database's own work: its ovsdb-server's CPU
# time while the hosts come up and over the changes, and the relays'.
db_cpu() { cpu_ms "$DUMMY_DB/ovsdb-server.pid"; }
relays_cpu() { cpu_ms "$DUMMY_DB"/relay-*.pid; }
if part hosts; then
    for mode in plain ssl relays; do
        start=$(now_ms)
        if DUMMY_SSL=$([ $mode = plain ] && echo 0 || echo 1) \
           DUMMY_RELAYS=$([ $mode = relays ] && echo 2 || echo 0) \
           dummy_hosts_up "$HOSTS"; then
            printf '  %d simulated hosts (%s) up in %d ms; ' "$HOSTS" \
                "$(hosts_mode $mode)" $(( $(now_ms) - start ))
            up_db=$(db_cpu) up_relays=$(relays_cpu)
            change_rounds "$DUMMY_DB" "$T/dummy-policy.json" vm2-1 \
                172.16.0.2 h2 172.16.0.3 h3
            cp "$T/lat" "$T/lat-$mode"
            printf '%s: database %d ms up, %d ms over the changes; relays %d ms up, %d ms over the changes\n' \
                "$(hosts_mode $mode)" "$up_db" $(( $(db_cpu) - up_db )) \
                "$up_relays" $(( $(relays_cpu) - up_relays )) >>"$T/cpu"
        fi
        dummy_hosts_down
    done
    p_ratio "SSL+RBAC / unix socket" ssl plain
    p_ratio "2 relays / SSL+RBAC direct" relays ssl
    echo "  CPU time of the database's ovsdb-server and of the relays, $HOSTS simulated hosts:"
    sed 's/^/    /' "$T/cpu" 2>/dev/null
fi

part sync || exit 0
echo "(b) full sync of $RECORDS lookup records on one host"
dummy_db_up
dummy_policy $((RECORDS / 2)) "$T/big.json"
"$VMROAM" --state-dir "$DUMMY_DB" --timeout 600 policy apply "$T/big.json" >/dev/null
dummy_switch_up 1
start=$(now_ms)
dummy_agent_up 1
until [ "$(dummy_installed 1)" = 2 ]; do sleep 0.02; done
sync_ms=$(( $(now_ms) - start ))
flows=$(dummy_flows 1)
printf '  vmroamd: %d flows installed %d ms after start (IDL load, translation,\n' "$flows" "$sync_ms"
printf '           one bundle); vmroamd RSS %d MB, ovs-vswitchd RSS %d MB\n' \
    "$(rss_mb "$T/h1/vmroamd.pid")" "$(rss_mb "$T/h1/ovs-vswitchd.pid")"
# Once the agent has settled (no bundle on its way, every desired flow
# installed, its VM ports reported and translated after): what it keeps.
settled() {
    ovs-appctl -t "$T/h1/vmroamd.ctl" vmroamd/status >"$T/status" 2>/dev/null &&
        ! grep -q "on its way" "$T/status" &&
        grep -q "^flows: \([0-9]*\) installed, \1 desired$" "$T/status"
}
for _ in $(seq 300); do settled && break; sleep 0.1; done
sleep 2
settled || echo "  (the agent had not settled 32 s after that)"
printf '  settled 2 s later: vmroamd RSS %d MB (%d bytes a record), ovs-vswitchd RSS %d MB\n' \
    "$(rss_mb "$T/h1/vmroamd.pid")" \
    $(( $(ps -o rss= -p "$(cat "$T/h1/vmroamd.pid")") * 1024 / RECORDS )) \
    "$(rss_mb "$T/h1/ovs-vswitchd.pid")"

# The same flows through ovs-ofctl into a fresh switch.
ovs-ofctl -O OpenFlow15 --no-stats dump-flows "unix:$T/h1/br-int.mgmt" 2>/dev/null \
    | sed 's/^ *//' >"$T/flows.txt"
d="$T/ref"
mkdir -p "$d"
ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
OVS_RUNDIR=$d ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
    --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
    -vconsole:off --detach --no-chdir
track_pidfile "$d/ovsdb-server.pid"
ovs-vsctl --db="unix:$d/db.sock" --no-wait init
OVS_RUNDIR=$d ovs-vswitchd "unix:$d/db.sock" --enable-dummy --disable-system \
    --disable-system-route --pidfile="$d/ovs-vswitchd.pid" \
    --unixctl="$d/ovs-vswitchd.ctl" -vconsole:off --detach --no-chdir
track_pidfile "$d/ovs-vswitchd.pid"
ovs-vsctl --db="unix:$d/db.sock" add-br br-int \
    -- set Bridge br-int datapath_type=dummy fail_mode=secure \
       protocols=OpenFlow13,OpenFlow15 \
    -- add-port br-int vmroam-gre -- set Interface vmroam-gre type=gre \
       options:remote_ip=flow options:key=flow \
    -- add-port br-int vm1-1 -- set Interface vm1-1 type=dummy \
    -- add-port br-int vm1-2 -- set Interface vm1-2 type=dummy
start=$(now_ms)
ovs-ofctl -O OpenFlow15 --bundle add-flows "unix:$d/br-int.mgmt" "$T/flows.txt" 2>/dev/null
ofctl_ms=$(( $(now_ms) - start ))
ref_flows=$(ovs-ofctl -O OpenFlow15 dump-flows "unix:$d/br-int.mgmt" 2>/dev/null | grep -c "table=")
printf '  ovs-ofctl --bundle add-flows of the same flows: %d ms (%d flows)\n' \
    "$ofctl_ms" "$ref_flows"
printf '  ratio vmroamd full sync / ovs-ofctl: %s\n' \
    "$(echo "scale=2; $sync_ms / $ofctl_ms" | bc)"

echo "(c) flows per lookup record"
printf '  %d flows for %d records on a host with one local tenant: %s per record\n' \
    "$flows" "$RECORDS" "$(echo "scale=2; $flows / $RECORDS" | bc)"

echo "(d) one record changed next to $RECORDS -> its flows on that host"
# vm2-1's record moves between h2 and h3, hosts with no agent here: h1's
# agent holds the record's flows, and is the one --wait waits for.
set_record() {
    local r=$1; shift
    if [ $((r % 2)) = 1 ]; then pa=172.16.0.3 host=h3; else pa=172.16.0.2 host=h2; fi
    "$VMROAM" --state-dir "$DUMMY_DB" policy set-record --vsid 5001 \
        --ca 10.0.0.3 --mac 02:00:00:00:00:03 --pa "$pa" --host "$host" \
        --vm vm2-1 "$@" >/dev/null || echo failed
}
for mode in wait nowait; do
    : >"$T/set-$mode"
    for r in $(seq "$CHANGES"); do
        start=$(now_ms)
        if [ "$mode" = wait ]; then
            status=$(set_record "$r" --wait)
        else
            status=$(set_record "$r")
        fi
        echo "${status:-$(( $(now_ms) - start ))}" >>"$T/set-$mode"
        # The agent is done before the next change is timed.
        set_record "$r" --wait >/dev/null
    done
done
printf '  set-record --wait (database, agent, switch): %s\n' "$(percentiles "$T/set-wait")"
printf '  set-record alone (database only):            %s\n' "$(percentiles "$T/set-nowait")"
ovs-appctl -t "$T/h1/vmroamd.ctl" vmroamd/status | grep translations | sed 's/^/  h1 agent /'
