# Helpers for vmroam's integration tests (sourced by tests/integration/*.sh).
#
# Each test script runs in its own scratch directory $T, which is removed on
# exit together with every daemon the script started (by pid, never by
# name).  check/check_status/check_output count assertions; the script exits
# 0 if none failed and 1 otherwise (an exit status counts modulo 256, so it
# cannot carry the number of failures).

set -u
VMROAM_BIN=${VMROAM_BIN:-$(cd "$(dirname "$0")/../../bin" && pwd)}
VMROAM="$VMROAM_BIN/vmroam"
TESTS_DIR=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/vmroam-test.XXXXXX)
N_PASS=0
N_FAIL=0
PIDS=""
EXIT_CMDS=""

# Runs a command when the script exits, however it exits (before daemons
# are stopped and $T removed).
on_exit() { EXIT_CMDS="$1; $EXIT_CMDS"; }

# keep_raw DIR STATE HOST...: copies a bench's raw data ($T) to DIR, with
# the vmroamd and ovs-vswitchd logs of each HOST of the lab whose state is
# STATE.
keep_raw() {
    local dir=$1 state=$2 h
    shift 2
    mkdir -p "$dir" && cp "$T"/* "$dir"/ || return 1
    for h in "$@"; do
        cp "$state/$h/vmroamd.log" "$dir/vmroamd-$h.log"
        cp "$state/$h/ovs-vswitchd.log" "$dir/vswitchd-$h.log" 2>/dev/null
    done
}

# stop_pids PID...: stops each process, giving it 5 s to exit before
# SIGKILL, and returns once all are gone.
stop_pids() {
    local pid
    for pid in "$@"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "$@"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
    done
}

cleanup() {
    eval "$EXIT_CMDS"
    stop_pids $PIDS
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Remembers a daemon to stop on exit, by pid file or pid.
track_pidfile() { PIDS="$PIDS $(cat "$1")"; }

pass() { N_PASS=$((N_PASS + 1)); echo "ok - $1"; }
fail() { N_FAIL=$((N_FAIL + 1)); echo "not ok - $1"; }

# check DESCRIPTION COMMAND...: COMMAND must succeed.
check() {
    desc=$1; shift
    if "$@" >"$T/out" 2>"$T/err"; then
        pass "$desc"
    else
        fail "$desc (exit $?)"
        sed 's/^/    | /' "$T/out" "$T/err" | head -20
    fi
}

# check_status DESCRIPTION STATUS COMMAND...: COMMAND must exit STATUS.
check_status() {
    desc=$1; want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" = "$want" ]; then
        pass "$desc"
    else
        fail "$desc (exit $got, expected $want)"
        sed 's/^/    | /' "$T/out" "$T/err" | head -20
    fi
}

# check_output DESCRIPTION FILE PATTERN: FILE ($T/out, $T/err) has a line
# matching the fixed string PATTERN.
check_output() {
    if grep -qF -- "$3" "$2"; then
        pass "$1"
    else
        fail "$1: no line with: $3"
        sed 's/^/    | /' "$2" | head -20
    fi
}

finish() {
    echo "# $(basename "$0"): $N_PASS passed, $N_FAIL failed"
    [ "$N_FAIL" = 0 ] || exit 1
    exit 0
}

# Starts the embedded database in $T/$1.
start_db() {
    "$VMROAM" --state-dir "$T/$1" db start >/dev/null || return 1
    track_pidfile "$T/$1/ovsdb-server.pid"
}

# expired_cert PKI KEY CN DIR: in DIR, a copy of private key KEY and a
# certificate for it (O=vmroam, CN=CN) of PKI's CA that expired in 2020, as
# DIR/CN-privkey.pem and DIR/CN-cert.pem ("vmroam pki" makes only valid
# ones, so openssl ca makes this one).  KEY and PKI are absolute paths.
expired_cert() {
    mkdir -p "$4" && (
        cd "$4" &&
        printf '%s\n' '[ca]' 'default_ca = expired' '[expired]' \
            'database = index.txt' 'new_certs_dir = .' 'serial = serial' \
            'default_md = sha256' 'policy = any' '[any]' \
            'organizationName = optional' 'commonName = supplied' >ca.cnf &&
        : >index.txt && echo 01 >serial &&
        cp "$2" "$3-privkey.pem" &&
        openssl req -new -key "$3-privkey.pem" -subj "/O=vmroam/CN=$3" \
            -out req.pem &&
        openssl ca -batch -config ca.cnf -cert "$1/cacert.pem" \
            -keyfile "$1/cakey.pem" -in req.pem -out "$3-cert.pem" \
            -startdate 20200101000000Z -enddate 20200102000000Z -notext
    ) >/dev/null 2>&1
}
