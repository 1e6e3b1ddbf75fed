#!/bin/bash
# The channel's own path on one core (frame-bench.c): encode and decode
# throughput of the migration stream's framing with and without lz4, in
# MB/s of stream bytes, and the compression ratio, for server-like memory
# and each kind of data in it, then per block size; then the whole path, a
# source and a destination channel with mutual TLS over loopback and unix
# sockets standing in for the QEMUs, per compression mode.  Text is
# vmroam's own sources, code the machine code of vmroamd.
#
#   FRAME_MB=32      MiB of each kind of data
#   FRAME_ROUNDS=3   rounds per figure; the best counts
set -u
. "$(dirname "$0")/../lib.sh"

BENCH_BIN=${VMROAM_BUILD:-$TESTS_DIR/../build/default}/bench/frame-bench
top=$TESTS_DIR/..
cat "$top"/*/*.[ch] "$top"/*.md >"$T/text"
objcopy -O binary -j .text "$VMROAM_BIN/vmroamd" "$T/code" 2>/dev/null \
    || cp "$VMROAM_BIN/vmroamd" "$T/code"
"$BENCH_BIN" -m "${FRAME_MB:-32}" -r "${FRAME_ROUNDS:-3}" "$T/text" "$T/code"
