#!/bin/bash
# ssl: remotes: the command line and the agent reach a vmroam database
# that listens with SSL, with a key and certificate from options or from
# the environment; without them, or with a certificate the server's CA did
# not sign, they get a clear error and nothing else.
. "$(dirname "$0")/../lib.sh"

# The host PKI (vmroam pki) in $T/pki, and a stranger's from another CA.
pki() {
    "$VMROAM" --state-dir "$T" pki init &&
        "$VMROAM" --state-dir "$T" pki host server &&
        "$VMROAM" --state-dir "$T" pki host client &&
        "$VMROAM" --state-dir "$T/other" pki init &&
        "$VMROAM" --state-dir "$T/other" pki host stranger
}
check "a PKI: a CA, a server and a client certificate, and a stranger's" pki
check "pki list shows them" "$VMROAM" --state-dir "$T" pki list
check_output "CN is the host's name" "$T/out" "/O=vmroam/CN=client"
check_status "pki host twice: refused, nothing overwritten" 1 \
    "$VMROAM" --state-dir "$T" pki host client
check_output "says so" "$T/err" "host client has a key"
check_status "pki host without a CA: refused" 1 \
    "$VMROAM" --state-dir "$T/none" pki host hv1
check_output "says what to do" "$T/err" "run \"vmroam pki init\" first"
PKI="$T/pki"
CA="$PKI/cacert.pem"
mv "$T/other/pki/stranger-privkey.pem" "$T/other/pki/stranger-cert.pem" "$PKI/"
"$VMROAM" db schema >"$T/vmroam.ovsschema"
ovsdb-tool create "$T/ssl.db" "$T/vmroam.ovsschema"
check "ovsdb-server listens on pssl:0:127.0.0.1" ovsdb-server "$T/ssl.db" \
    --remote=pssl:0:127.0.0.1 --private-key="$PKI/server-privkey.pem" \
    --certificate="$PKI/server-cert.pem" --ca-cert="$CA" \
    --pidfile="$T/ssl.pid" --unixctl="$T/ssl.ctl" --log-file="$T/ssl.log" \
    --detach --no-chdir
track_pidfile "$T/ssl.pid"
port=""
for _ in $(seq 50); do
    port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/ssl.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
DB="ssl:127.0.0.1:$port"
echo "# database at $DB"

check "policy show over ssl: with --private-key, --certificate, --ca-cert" \
    "$VMROAM" --db "$DB" --timeout 5 --private-key "$PKI/client-privkey.pem" \
    --certificate "$PKI/client-cert.pem" --ca-cert "$CA" policy show
check_output "it answers" "$T/out" "generation 0"
check "policy apply over ssl: with the environment's key and certificate" \
    env VMROAM_SSL_KEY="$PKI/client-privkey.pem" VMROAM_SSL_CERT="$PKI/client-cert.pem" \
    VMROAM_SSL_CA="$CA" "$VMROAM" --db "$DB" --timeout 5 policy apply \
    "$TESTS_DIR/data/one-tenant.json"
check_status "no key: exit 1" 1 "$VMROAM" --db "$DB" --timeout 2 policy show
check_output "says what is missing" "$T/err" "Private key must be configured"
check_status "a certificate the server's CA did not sign: exit 1" 1 \
    "$VMROAM" --db "$DB" --timeout 3 --private-key "$PKI/stranger-privkey.pem" \
    --certificate "$PKI/stranger-cert.pem" --ca-cert "$CA" policy show
check_output "it gets nothing, and a hint" "$T/err" \
    "does its CA trust the certificate given by --certificate"

# The agent: it is the host its certificate names, connects and registers
# its chassis over SSL.
check_status "vmroamd under another name than its certificate's: exit 1" 1 \
    "$VMROAM_BIN/vmroamd" --chassis hv1 --db "$DB" \
    --private-key "$PKI/client-privkey.pem" \
    --certificate "$PKI/client-cert.pem" --ca-cert "$CA" \
    --ovs-db "unix:$T/no-ovs.sock" --pa 10.0.1.11 --unixctl="$T/refused.ctl"
check_output "says which name the certificate gives" "$T/err" \
    "--chassis is hv1, but the certificate $PKI/client-cert.pem names client"
check "vmroamd over ssl: starts" "$VMROAM_BIN/vmroamd" --chassis client \
    --db "$DB" --private-key "$PKI/client-privkey.pem" \
    --certificate "$PKI/client-cert.pem" --ca-cert "$CA" \
    --ovs-db "unix:$T/no-ovs.sock" --pa 10.0.1.11 --detach --no-chdir \
    --pidfile="$T/vmroamd.pid" --log-file="$T/vmroamd.log" \
    --unixctl="$T/vmroamd.ctl"
track_pidfile "$T/vmroamd.pid"
registered() {
    for _ in $(seq 50); do
        "$VMROAM" --db "$DB" --timeout 3 --private-key "$PKI/client-privkey.pem" \
            --certificate "$PKI/client-cert.pem" --ca-cert "$CA" host list |
            grep -q "^client " && return 0
        sleep 0.2
    done
    return 1
}
check "its chassis row arrives over SSL" registered
finish
