#!/bin/bash
# Policy figures: time and peak RSS to validate and to apply generated
# policies of 100k and 1M lookup records (into a fresh embedded database),
# the database server's RSS afterwards, the latency of an apply that
# changes one record (which bumps the generation) and of the same change as
# "policy set-record" (which scans the table once for the PA's other
# records), of a set-record that needs no scan, and of two commands that
# read no lookup record, at each size.
#
#   SIZES="100000 1000000"   the policy sizes to run
set -u
. "$(dirname "$0")/../lib.sh"

measure() {  # measure LABEL COMMAND...: prints seconds and peak RSS
    /usr/bin/time -f "%e %M" -o "$T/time" "$@" >"$T/out" 2>"$T/err" \
        || { echo "  $1 failed:"; cat "$T/err"; return 1; }
    read -r secs kb <"$T/time"
    printf '  %-34s %8.2f s  %8.1f MB peak RSS\n' "$LABEL" "$secs" \
        "$(echo "$kb / 1024" | bc -l)"
}

for n in ${SIZES:-100000 1000000}; do
    echo "policy with $n lookup records:"
    python3 "$TESTS_DIR/bench/gen-policy.py" "$n" "$T/p.json"
    python3 "$TESTS_DIR/bench/gen-policy.py" "$n" "$T/p1.json" 1
    printf '  file size %s\n' "$(du -h "$T/p.json" | cut -f1)"
    start_db "db-$n"
    S="--state-dir $T/db-$n --timeout 600"

    LABEL="validate" measure "$VMROAM" policy validate "$T/p.json"
    LABEL="apply (empty database)" measure "$VMROAM" $S policy apply "$T/p.json"
    rss=$(ps -o rss= -p "$(cat "$T/db-$n/ovsdb-server.pid")")
    printf '  %-34s %8.1f MB RSS\n' "ovsdb-server after apply" \
        "$(echo "$rss / 1024" | bc -l)"
    LABEL="re-apply (no change)" measure "$VMROAM" $S policy apply "$T/p.json"
    LABEL="apply one changed record" measure "$VMROAM" $S policy apply "$T/p1.json"
    # The same record back, as one record: no full load.
    read -r vsid ca mac pa host < <(python3 -c "
import json
r = json.load(open('$T/p.json'))['lookup_records'][0]
print(r['vsid'], r['ca'], r['mac'], r['pa'], r['host'])")
    LABEL="set-record (PA and host changed)" measure "$VMROAM" $S policy \
        set-record --vsid "$vsid" --ca "$ca" --mac "$mac" --pa "$pa" --host "$host"
    # A change that keeps its PA, host and MAC reads only its own record.
    LABEL="set-record (VM named)" measure "$VMROAM" $S policy \
        set-record --vsid "$vsid" --ca "$ca" --mac "$mac" --pa "$pa" --host "$host" --vm named
    # Commands that read no lookup record must not pay for them.
    LABEL="migrations" measure "$VMROAM" $S migrations
    LABEL="host list" measure "$VMROAM" $S host list
    "$VMROAM" $S db stop >/dev/null
    rm -rf "$T/db-$n"
done
