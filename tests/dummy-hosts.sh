# Many simulated hosts on one box (sourced after tests/lib.sh): each is an
# ovsdb-server + ovs-vswitchd on the dummy datapath (no namespace needed,
# no kernel devices) with its own vmroamd, all against one vmroam database.
# The control plane is real end to end: IDL, OpenFlow bundles, flows in
# ovs-vswitchd; only the packet I/O is simulated.
#
#   dummy_policy N FILE      one tenant, N hosts with 2 VMs each
#   dummy_vswitchd_up I      (re)start host I's ovs-vswitchd
#   dummy_hosts_up N         start the database and the N hosts, apply
#                            $T/dummy-policy.json, plug every VM port and
#                            wait until all are installed
#   dummy_flows I            number of flows on host I
#   dummy_moved FROM TO OUT  $T/dummy-policy.json with vmFROM-1's record
#                            on host TO instead, written to OUT
#   dummy_following N I J    how many of hosts 1..N send vmI-1's MAC to
#                            host J's PA
#   dummy_hosts_down         stop the hosts, relays and database

DUMMY_DB="$T/dummy-db"
# As on a real footprint, agents reach the database with SSL and their host
# certificates, under the agent role; DUMMY_SSL=0 puts them on its unix
# socket instead (no role), for comparison.
DUMMY_SSL=${DUMMY_SSL:-1}
DUMMY_PORT=$((30000 + $$ % 20000))
# DUMMY_RELAYS=N puts N relays ("vmroam relay start", README's scale-out
# recipe) between the agents and the database: relay R listens on
# DUMMY_PORT + R, and every agent is given all of them, of which it picks
# one at random, as deployed.  Relays serve SSL agents only.
DUMMY_RELAYS=${DUMMY_RELAYS:-0}

dummy_policy() {
    python3 - "$1" "$2" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
records = []
for i in range(1, n + 1):
    for j in (1, 2):
        k = (i - 1) * 2 + j
        records.append({"vsid": 5001, "ca": "10.%d.%d.%d" % (k >> 16, (k >> 8) & 255, k & 255),
                        "mac": "02:00:00:%02x:%02x:%02x" % (k >> 16, (k >> 8) & 255, k & 255),
                        "pa": "172.16.%d.%d" % (i >> 8, i & 255), "host": "h%d" % i,
                        "vm": "vm%d-%d" % (i, j)})
json.dump({"routing_domains": [{"name": "t", "virtual_subnets": [
               {"vsid": 5001, "prefix": "10.0.0.0/8", "gateway": "10.255.255.254"}]}],
           "provider_subnets": [{"footprint": "sim", "prefix": "172.16.0.0/16"}],
           "lookup_records": records}, open(out, "w"))
PY
}

# Starts host I's ovs-vswitchd, on its ovsdb-server.
dummy_vswitchd_up() {
    local d="$T/h$1"
    OVS_RUNDIR=$d OVS_LOGDIR=$d ovs-vswitchd "unix:$d/db.sock" \
        --enable-dummy --disable-system --disable-system-route \
        --pidfile="$d/ovs-vswitchd.pid" --unixctl="$d/ovs-vswitchd.ctl" \
        -vconsole:off --log-file="$d/ovs-vswitchd.log" --detach --no-chdir \
        || return 1
    track_pidfile "$d/ovs-vswitchd.pid"
}

# Starts host I's ovsdb-server and ovs-vswitchd, and plugs its two VMs.
dummy_switch_up() {
    local i=$1 d="$T/h$1"
    mkdir -p "$d"
    ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    OVS_RUNDIR=$d OVS_LOGDIR=$d ovsdb-server "$d/conf.db" \
        --remote="punix:$d/db.sock" --pidfile="$d/ovsdb-server.pid" \
        --unixctl="$d/ovsdb-server.ctl" -vconsole:off \
        --log-file="$d/ovsdb-server.log" --detach --no-chdir || return 1
    track_pidfile "$d/ovsdb-server.pid"
    ovs-vsctl --db="unix:$d/db.sock" --no-wait init
    dummy_vswitchd_up "$i" || return 1
    ovs-vsctl --db="unix:$d/db.sock" \
        -- --may-exist add-br br-int \
        -- set Bridge br-int datapath_type=dummy fail_mode=secure \
        -- add-port br-int "vm$i-1" -- set Interface "vm$i-1" type=dummy \
           external_ids:vm-id="vm$i-1" \
        -- add-port br-int "vm$i-2" -- set Interface "vm$i-2" type=dummy \
           external_ids:vm-id="vm$i-2"
}

# The ports of the relays, one a line.
dummy_relay_ports() {
    local r
    for r in $(seq "$DUMMY_RELAYS"); do echo $((DUMMY_PORT + r)); done
}

# Starts the vmroam database, listening for agents with SSL unless
# DUMMY_SSL=0, and its DUMMY_RELAYS relays.
dummy_db_up() {
    local listen=none port
    if [ "$DUMMY_RELAYS" != 0 ] && [ "$DUMMY_SSL" != 1 ]; then
        echo "DUMMY_RELAYS=$DUMMY_RELAYS needs DUMMY_SSL=1: relays serve agents with SSL"
        return 1
    fi
    if [ "$DUMMY_SSL" = 1 ]; then
        "$VMROAM" --state-dir "$DUMMY_DB" pki init >/dev/null || return 1
        listen="127.0.0.1:$DUMMY_PORT"
    fi
    "$VMROAM" --state-dir "$DUMMY_DB" db start --ssl-listen "$listen" \
        >/dev/null || return 1
    track_pidfile "$DUMMY_DB/ovsdb-server.pid"
    for port in $(dummy_relay_ports); do
        "$VMROAM" --state-dir "$DUMMY_DB" relay start "127.0.0.1:$port" \
            >/dev/null || return 1
        track_pidfile "$DUMMY_DB/relay-$port.pid"
    done
}

# The database options of host I's vmroamd (making its certificate).
dummy_agent_db() {
    local pki="$DUMMY_DB/pki" name="h$1"
    if [ "$DUMMY_SSL" != 1 ]; then
        echo "--db unix:$DUMMY_DB/db.sock"
        return
    fi
    [ -e "$pki/$name-cert.pem" ] ||
        "$VMROAM" --state-dir "$DUMMY_DB" pki host "$name" >/dev/null || return 1
    local remote="ssl:127.0.0.1:$DUMMY_PORT"
    [ "$DUMMY_RELAYS" = 0 ] ||
        remote=$(dummy_relay_ports | sed 's/^/ssl:127.0.0.1:/' | paste -sd,)
    echo "--db $remote --private-key $pki/$name-privkey.pem" \
        "--certificate $pki/$name-cert.pem --ca-cert $pki/cacert.pem"
}

# Starts host I's vmroamd, with DUMMY_AGENT_OPTS besides.
dummy_agent_up() {
    local i=$1 d="$T/h$1" db
    db=$(dummy_agent_db "$i") || return 1
    # shellcheck disable=SC2086 # $db is a list of options without spaces
    "$VMROAM_BIN/vmroamd" --chassis "h$i" $db \
        --ovs-db "unix:$d/db.sock" --datapath-type dummy \
        --pidfile="$d/vmroamd.pid" --unixctl="$d/vmroamd.ctl" \
        -vconsole:off --log-file="$d/vmroamd.log" ${DUMMY_AGENT_OPTS:-} \
        --detach || return 1
    track_pidfile "$d/vmroamd.pid"
}

dummy_host_up() {
    dummy_switch_up "$1" && dummy_agent_up "$1"
}

# Number of VM interfaces of host I marked vmroam-installed.
dummy_installed() {
    ovs-vsctl --db="unix:$T/h$1/db.sock" --columns=external_ids list Interface \
        | grep -c 'vmroam-installed="true"'
}

dummy_hosts_up() {
    local n=$1 i
    dummy_db_up || return 1
    dummy_policy "$n" "$T/dummy-policy.json"
    "$VMROAM" --state-dir "$DUMMY_DB" policy apply "$T/dummy-policy.json" \
        >/dev/null || return 1
    for i in $(seq "$n"); do
        dummy_host_up "$i" || { echo "host h$i did not start"; return 1; }
    done
    for _ in $(seq 600); do
        local missing=0
        for i in $(seq "$n"); do
            [ "$(dummy_installed "$i")" = 2 ] || missing=$((missing + 1))
        done
        [ $missing = 0 ] && return 0
        sleep 0.1
    done
    echo "$missing hosts did not install their ports"
    return 1
}

dummy_flows() {
    ovs-ofctl -O OpenFlow15 dump-flows "unix:$T/h$1/br-int.mgmt" 2>/dev/null | grep -c "table="
}

dummy_moved() {
    local from=$1 to=$2
    sed "s/\"pa\": \"172.16.0.$from\", \"host\": \"h$from\", \"vm\": \"vm$from-1\"/\"pa\": \"172.16.0.$to\", \"host\": \"h$to\", \"vm\": \"vm$from-1\"/" \
        "$T/dummy-policy.json" >"$3"
}

# The host that holds the VM "locally" (no port there: no flow) does not
# count; every other one should tunnel.
dummy_following() {
    local n=$1 mac pa i following=0
    mac=$(printf '02:00:00:00:%02x:%02x' $(( ($2 * 2 - 1) >> 8 )) $(( ($2 * 2 - 1) & 255 )))
    pa="172.16.0.$3"
    for i in $(seq "$n"); do
        ovs-ofctl -O OpenFlow15 dump-flows "unix:$T/h$i/br-int.mgmt" table=5 \
            | grep "dl_dst=$mac" | grep -q "$pa->tun_dst" \
            && following=$((following + 1))
    done
    echo $following
}

dummy_hosts_down() {
    stop_pids $(cat "$T"/h*/*.pid "$DUMMY_DB"/relay-*.pid \
                    "$DUMMY_DB/ovsdb-server.pid" 2>/dev/null)
    rm -rf "$T"/h* "$DUMMY_DB"
}
