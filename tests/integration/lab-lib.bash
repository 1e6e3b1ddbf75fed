# Helpers for the tests that build a lab (labs/lab), sourced after
# tests/lib.sh.  Not a test itself (make check runs *.sh).

LABS="$TESTS_DIR/../labs"

# lab_init FILE NAME: $LAB is labs/FILE renamed NAME, torn down when the
# test exits.  A lab NAME that exists already is another run's: the test
# fails at once and leaves it alone.
lab_init() {
    LAB="$T/lab.json"
    python3 -c 'import json, sys
lab = json.load(open(sys.argv[1]))
lab["name"] = sys.argv[2]
json.dump(lab, open(sys.argv[3], "w"), indent=1)' "$LABS/$1" "$2" "$LAB" || exit 1
    LAB_NAME=$2
    if [ -e "/run/vmroam-lab/$2" ]; then
        fail "lab $2 exists already (another run of this test?)"; finish
    fi
    on_exit "'$LABS/lab' down '$LAB' >/dev/null 2>&1"
}

X() { "$LABS/lab" exec "$LAB" "$@"; }
rx() { X "$1" cat /sys/class/net/eth0/statistics/rx_packets; }
mac_of() { python3 -c "import json; print([v['mac'] for v in json.load(open('$LAB'))['vms'] if v['name']=='$1'][0])"; }

# capture_gre HOST VM DST PATTERN N: captures GRE on HOST's uplink into
# $T/gre while VM, having forgotten its neighbours, pings DST N times.  The
# capture is trusted once it has shown one of VM's pings (PATTERN, as
# tcpdump -v prints it inside GRE), and stopped once it has shown the N
# more.  Fails if it never did.
capture_gre() {
    X "$1" timeout 30 tcpdump -nn -v -l -i eth0 ip proto 47 >"$T/gre" 2>/dev/null &
    local cap=$! n0
    for _ in $(seq 100); do
        X "$2" ping -c 1 -W 1 "$3" >/dev/null
        [ "$(grep -c "$4" "$T/gre")" -gt 0 ] && break
    done
    n0=$(grep -c "$4" "$T/gre")
    X "$2" ip neigh flush dev eth0
    X "$2" ping -c "$5" -i 0.1 -W 1 "$3" >/dev/null
    for _ in $(seq 100); do
        [ "$(grep -c "$4" "$T/gre")" -ge $((n0 + $5)) ] && break
        sleep 0.05
    done
    kill $cap 2>/dev/null; wait $cap 2>/dev/null
    [ "$n0" -gt 0 ] && [ "$(grep -c "$4" "$T/gre")" -ge $((n0 + $5)) ]
}

# The lab's QEMU guests, as their own serial consoles and the lab see them.
ca_of() { python3 -c "import json; print([v['ca'] for v in json.load(open('$LAB'))['vms'] if v['name']=='$1'][0].split('/')[0])"; }
vmhost() { "$LABS/lab" vmhost "$LAB" "$1"; }
status_line() { "$LABS/lab" console "$LAB" "$1" 2>/dev/null | grep 'hb=' | tail -1; }
# The guest's last heartbeat number.
hb() { status_line "$1" | grep -o 'hb=[0-9]*' | cut -d= -f2; }
# heart_goes_on VM BEFORE [SECONDS]: the guest runs: within SECONDS
# (default 10) its heartbeat passes BEFORE.
heart_goes_on() {
    local after
    for _ in $(seq $(( ${3:-10} * 5 ))); do
        after=$(hb "$1")
        [ -n "$after" ] && [ -n "$2" ] && [ "$after" -gt "$2" ] && return 0
        sleep 0.2
    done
    echo "heartbeat of $1 stuck at ${after:-nothing} (was ${2:-nothing})"
    status_line "$1"
    return 1
}
# virsh_on HOST ARGS...: virsh on HOST's libvirtd.
virsh_on() {
    local h=$1
    shift
    virsh -q -c "qemu+unix:///system?socket=/run/vmroam-lab/$LAB_NAME/$h/libvirt/sock/libvirt-sock" "$@"
}
# checkers_ok VM: the guest's memory and disk checkers found no corruption.
checkers_ok() {
    local last
    # A guest that has just arrived has a new serial log, where its first
    # status line comes within a second or so.
    for _ in $(seq 25); do
        last=$(status_line "$1")
        [ -n "$last" ] && break
        sleep 0.2
    done
    case "$last" in *"memcheck ok"*"diskcheck ok"*) return 0 ;; esac
    echo "last status line of $1: $last"
    return 1
}
# reachable FROM CA: one ping gets through within 10 s.
reachable() {
    local until=$((SECONDS + 10))
    while :; do
        X "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
        [ $SECONDS -lt $until ] || return 1
        sleep 0.1
    done
}
