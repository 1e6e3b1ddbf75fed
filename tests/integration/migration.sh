#!/bin/bash
# Live migration of real QEMU guests (libvirt, TCG) from hosts on rack-1
# (10.0.1.0/24) to hv3 on rack-2: with storage copy and shared storage,
# through the migration channel (mutual TLS, several streams) and, for
# comparison, the hypervisor's own plain path; the guest's own memory and
# disk checkers stay clean, its heartbeat goes on and its CA stays
# reachable from a VM on a third host.  A capture on the source's uplink
# shows what crosses the underlay: through the channel only TLS, never the
# QEMU stream in clear; the channel takes TLS 1.3 and 1.2 from a host
# certificate and refuses TLS 1.1.  Faults during a
# migration (cancel, killed daemons, a cut link) are migration-faults.sh's.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab-lib.bash"

lab_init migration.json vmmt
STATE=/run/vmroam-lab/vmmt       # the lab's hosts and its database
DB="--state-dir $STATE/db --timeout 120"
vmroam() { "$VMROAM" $DB "$@"; }
# real_downtime FILE: the summary of "vmroam migrate --wait" in FILE gives
# the guest's pause at switchover as libvirt measured it: not 0 (what it
# says when the figure is missing), and within the downtime target of the
# lab's hosts (vmroamd --max-downtime 3000, set by labs/lab).
real_downtime() {
    local ms
    ms=$(sed -n 's/.*, downtime \([0-9]*\) ms, .*/\1/p' "$1")
    echo "downtime ${ms:-missing} ms"
    [ -n "$ms" ] && [ "$ms" -gt 0 ] && [ "$ms" -le 3000 ]
}
# channel_cpu FILE HOST: the summary in FILE gives the CPU time the
# channel took on the source HOST: more than 0 and less than the
# migration's total time on both of this machine's 2 cores.
channel_cpu() {
    python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
total = re.search(r"total ([0-9.]+) s", text)
cpu = re.search(r"mutual TLS, ([0-9.]+) CPU s on %s" % sys.argv[2], text)
print("channel CPU %s s, total %s s" % (cpu and cpu.group(1), total and total.group(1)))
sys.exit(not (cpu and total and 0 < float(cpu.group(1)) < 2 * float(total.group(1))))
PY
}
# check_downtime DESCRIPTION: real_downtime of the last command's output.
check_downtime() {
    cp "$T/out" "$T/summary"
    check "$1" real_downtime "$T/summary"
}
# The heartbeat must move on after a migration: the guest runs.

check "lab up: 3 hosts with libvirtd, QEMU guests a1 (hv1) and a3 (hv2)" \
    "$LABS/lab" up "$LAB"
[ $N_FAIL = 0 ] || finish
A1=$(ca_of a1)
A3=$(ca_of a3)

# qemu_pid HOST VM: the pid of VM's QEMU on HOST.
qemu_pid() { cat "$STATE/$1/libvirt/run/qemu/$2.pid"; }
# reaped_at_once HOST VM: VM's QEMU on HOST is a child of the lab's reaper
# (labs/libvirt/reaper), which collects it the moment it exits: libvirt
# ends a migration only once the source QEMU is gone, zombie or not.
reaped_at_once() {
    local qemu parent
    qemu=$(qemu_pid "$1" "$2") || return 1
    parent=$(ps -o ppid= -p "$qemu" | tr -d ' ')
    echo "QEMU $qemu, its parent $parent: $(tr '\0' ' ' </proc/"$parent"/cmdline)"
    tr '\0' '\n' </proc/"$parent"/cmdline | grep -q '/labs/libvirt/reaper$'
}
check "a1's QEMU has a parent that reaps it at once, as a host's init does" \
    reaped_at_once hv1 a1
# not_root HOST VM: VM's QEMU on HOST runs as a user of its own, as
# libvirt runs it on a Debian host: the channel's sockets must be its.
not_root() {
    local qemu
    qemu=$(qemu_pid "$1" "$2") || return 1
    ps -o user=,group= -p "$qemu"
    [ "$(ps -o uid= -p "$qemu" | tr -d ' ')" -ne 0 ]
}
check "a1's QEMU runs as libvirt-qemu, not root" not_root hv1 a1
check "hosts report their libvirt and QEMU versions" vmroam host list
check_output "qemu version in the Chassis row" "$T/out" "qemu="
check "a2 (netns, hv3) reaches a1 (QEMU, hv1)" reachable a2 "$A1"

# a4 (netns) on hv1 and a5 on hv2 watch from the third host.
pa_of() { vmroam host list --format json | python3 -c "import json,sys; print([r[2] for r in json.load(sys.stdin)['data'] if r[0]=='$1'][0])"; }
record_on() {  # record_on VM HOST: VM's lookup record points at HOST's PA
    vmroam policy export -o "$T/policy.json"
    python3 -c "import json,sys; r=[r for r in json.load(open('$T/policy.json'))['lookup_records'] if r.get('vm')=='$1'][0]; sys.exit(r['pa']!='$(pa_of "$2")' or r['host']!='$2')"
}
runs_on() { [ "$("$LABS/lab" vmhost "$LAB" "$1" 2>/dev/null)" = "$2" ]; }

# capture_start NAME HOST: captures the TCP on HOST's uplink into
# $T/NAME.pcap until capture_stop, once tcpdump says it listens.
capture_start() {
    ip netns exec "vmmt-$2" timeout 300 tcpdump -nn -U -i eth0 \
        -w "$T/$1.pcap" tcp 2>"$T/$1.log" &
    CAP=$!
    for _ in $(seq 50); do
        grep -q "listening on" "$T/$1.log" && return 0
        sleep 0.1
    done
    return 1
}
capture_stop() { kill "$CAP"; wait "$CAP" 2>/dev/null; }
# in_clear FILE: the capture holds the header of QEMU's migration stream
# ("QEVM", version 3) in clear.
in_clear() {
    python3 -c "import sys; sys.exit(b'QEVM\x00\x00\x00\x03' not in open(sys.argv[1], 'rb').read())" "$1"
}
# tls_only FILE: every TCP packet captured is to or from the channel's
# port (6643), and there are many.
tls_only() {
    local other channel
    other=$(tcpdump -nn -r "$1" 'tcp and not port 6643' 2>/dev/null | wc -l)
    channel=$(tcpdump -nn -r "$1" 'tcp port 6643' 2>/dev/null | wc -l)
    echo "$channel packets of the channel, $other others"
    [ "$other" = 0 ] && [ "$channel" -gt 1000 ]
}

# handshake VERSION [OPTION...]: openssl s_client, in hv2 with hv2's
# certificate, shakes hands with hv3's channel in TLS VERSION (tls1_3,
# tls1_2, tls1_1); its output in $T/tls-VERSION.
handshake() {
    local v=$1 pki=$STATE/db/pki
    shift
    X hv2 timeout 10 openssl s_client -connect "$(pa_of hv3):6643" "-$v" "$@" \
        -cert "$pki/hv2-cert.pem" -key "$pki/hv2-privkey.pem" \
        -CAfile "$pki/cacert.pem" </dev/null >"$T/tls-$v" 2>&1
}
# tls_accepted VERSION NAME: hv3's channel took a handshake in TLS VERSION
# (as s_client names it) and hv2 found hv3's certificate good.
tls_accepted() {
    grep -E "^New, |^ *Verify return code" "$T/tls-$1"
    grep -q "^New, $2, Cipher is [A-Z]" "$T/tls-$1" &&
        grep -q "^ *Verify return code: 0 (ok)" "$T/tls-$1"
}
# tls_refused VERSION NAME: hv2 offered TLS VERSION and hv3's channel
# refused it: no cipher agreed on.
tls_refused() {
    grep -E "^New, |Protocol  :" "$T/tls-$1"
    grep -q "^ *Protocol  : $2$" "$T/tls-$1" &&
        grep -q "^New, (NONE), Cipher is (NONE)" "$T/tls-$1"
}
handshake tls1_3
check "hv3's channel takes TLS 1.3 from a host certificate" tls_accepted tls1_3 TLSv1.3
handshake tls1_2
check "and TLS 1.2" tls_accepted tls1_2 TLSv1.2
# The client's own library refuses TLS 1.1 at its default security level:
# lowered here, so that only the channel can refuse it.
handshake tls1_1 -cipher DEFAULT@SECLEVEL=0
check "but refuses TLS 1.1, even offered" tls_refused tls1_1 TLSv1.1

# Shared-nothing: a3's disk is copied, hv2 (10.0.1.0/24) -> hv3 (10.0.2.0/24).
hb0=$(hb a3)
check "a capture on hv2's uplink starts" capture_start copy hv2
check "migrate a3 to hv3 copying its disk, and wait" \
    vmroam migrate a3 --to hv3 --storage copy --wait
capture_stop
check_output "the migration is done" "$T/out" "migration of a3 from hv2 to hv3: done"
check_output "through the channel: memory in one stream, the disk in another" \
    "$T/out" "channel: 2 streams"
check_downtime "its summary gives the guest's pause: over 0 ms, within the 3000 ms target"
check "and the CPU time the channel took on hv2" channel_cpu "$T/summary" hv2
check "only TLS to hv3's channel crossed the underlay" tls_only "$T/copy.pcap"
check_status "never the QEMU stream in clear" 1 in_clear "$T/copy.pcap"
check "a3 runs on hv3, exactly once" runs_on a3 hv3
check "its heartbeat goes on" heart_goes_on a3 "$hb0"
check "its memory and disk checkers report no corruption" checkers_ok a3
check "its CA is reachable from a4 on a third host" reachable a4 "$A3"
check "its lookup record moved to hv3's PA" record_on a3 hv3

# Shared storage: a1, hv1 -> hv3.
hb0=$(hb a1)
check "migrate a1 to hv3 (shared storage) in 2 memory streams, and wait" \
    vmroam migrate a1 --to hv3 --streams 2 --wait
check_output "done" "$T/out" "migration of a1 from hv1 to hv3: done"
check_output "QEMU's main connection and 2 multifd ones" "$T/out" \
    "channel: 3 streams"
check_downtime "a1's pause: over 0 ms, within the 3000 ms target"
check "a1 runs on hv3, exactly once" runs_on a1 hv3
check "a1's heartbeat goes on" heart_goes_on a1 "$hb0"
check "a1's checkers clean" checkers_ok a1
check "a1 reachable from a5 on a third host" reachable a5 "$A1"
check "a1's lookup record moved to hv3's PA" record_on a1 hv3
# no_channel_dirs HOST...: no migration's socket directory is left on the
# HOSTs once their migrations ended (within 5 s: the agents close their
# channel on their next pass).
no_channel_dirs() {
    local h i left
    for i in $(seq 50); do
        left=$(for h in "$@"; do
                   ls -d "$STATE/$h"/libvirt/run/qemu/vmroam-* 2>/dev/null
               done)
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    echo "left: $left"
    return 1
}
check "no channel socket directory left on hv1 or hv3" \
    no_channel_dirs hv1 hv3
# deep_tap_socket HOST VM: HOST's ovs-vswitchd reads VM's tap through a
# packet socket with the lab's 8 MiB receive buffer (16 MiB as the kernel
# counts it), which the lab's libvirt hook gave it once QEMU started there.
deep_tap_socket() {
    local rb
    rb=$(ip netns exec "vmmt-$1" ss -0 -m -p | grep -A1 "\*:v-$2 " \
         | grep -o 'rb[0-9]*' | head -1)
    echo "v-$2's packet socket on $1: ${rb:-not found}"
    [ -n "$rb" ] && [ "${rb#rb}" -ge $((16 << 20)) ]
}
check "hv3's switch reads a1's new tap through a deep socket" deep_tap_socket hv3 a1

# For comparison, the hypervisor's own path (--plain), one stream: the
# capture shows the guest's memory stream in clear, as the checks above
# would see it if the channel were bypassed.
check "a capture on hv3's uplink starts" capture_start plain hv3
check "migrate a1 back to hv1 over the plain path, one stream" \
    vmroam migrate a1 --to hv1 --plain --streams 1 --wait
capture_stop
check_output "done" "$T/out" "migration of a1 from hv3 to hv1: done"
check_output "it says so" "$T/out" "hypervisor's own path (--plain): unencrypted"
check "the capture shows the QEMU stream in clear" in_clear "$T/plain.pcap"
check "a1's checkers clean" checkers_ok a1

# The channel with one stream, lz4 on every block.
check "migrate a1 to hv3 through the channel, one stream, lz4" \
    vmroam migrate a1 --to hv3 --streams 1 --compression lz4 --wait
check_output "done" "$T/out" "migration of a1 from hv1 to hv3: done"
check_output "one stream" "$T/out" "channel: 1 stream,"
check "a1's checkers clean" checkers_ok a1
check "a1 reachable from a5 on a third host" reachable a5 "$A1"

# half_line_left_out: the lab takes a serial log's whole lines only, so a
# status line the guest is still printing (as checkers_ok may read it)
# never passes for its last one.
half_line_left_out() {
    printf '%s\r\n%s' \
        "vmroam a1 hb=7 t=7.0 | memcheck ok 6 rounds 1 MB dirtied | diskcheck ok 3 writes 9 verified" \
        "vmroam a1 hb=8 t=8.0 | memcheck ok 7 rounds 1 MB dirtied | dis" >"$T/serial.log"
    PYTHONPATH=$LABS python3 -c 'import sys
from vmroamlab.qemu import last_status
line = last_status(sys.argv[1])
print("last status line:", line)
sys.exit(not line.startswith("vmroam a1 hb=7 "))' "$T/serial.log"
}
check "a status line still being printed is not taken for the guest's last" \
    half_line_left_out

check "lab down" "$LABS/lab" down "$LAB"
ip netns list | grep -q "^vmmt-" && fail "namespaces left" || pass "no lab namespace left"
finish
