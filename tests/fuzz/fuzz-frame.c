/* libFuzzer target for the migration stream's frame decoder.
 *
 * The first byte of an input chooses how the rest is split; the rest is fed
 * to one decoder whole and to another in pieces of that size.  Besides
 * crashes, leaks and undefined behavior, it checks that the split does not
 * matter (same error, same bytes delivered) and that a decoder never
 * delivers more than the frames it accepted said.  Then it checks the other
 * direction: the input, encoded, decodes back to itself.
 *
 * The seed corpus (tests/fuzz/frame-corpus) holds a split byte followed by
 * frames of zeros, text and random bytes, raw and lz4. */

#include <config.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrator/frame.h"
#include "openvswitch/ofpbuf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
    enum migr_frame_error error;
    struct ofpbuf out;
    struct migr_frame_stats stats;
};

static void
decode(const uint8_t *data, size_t size, size_t step, struct result *r)
{
    struct migr_frame_decoder dec;

    ofpbuf_init(&r->out, 0);
    migr_frame_decoder_init(&dec);
    r->error = MIGR_FRAME_OK;
    for (size_t i = 0; i < size && !r->error; i += step) {
        r->error = migr_frame_decode(&dec, data + i, MIN(step, size - i),
                                     &r->out);
    }
    r->error = r->error ? r->error : migr_frame_decoder_finish(&dec);
    if (!r->error != !migr_frame_decoder_error(&dec)) {
        fprintf(stderr, "error %d with message \"%s\"\n", r->error,
                migr_frame_decoder_error(&dec));
        abort();
    }
    r->stats = dec.stats;
    migr_frame_decoder_destroy(&dec);
}

static void
check_same(const struct result *a, const struct result *b, size_t step,
           size_t size)
{
    if (a->error != b->error || a->out.size != b->out.size
        || (a->out.size && memcmp(a->out.data, b->out.data, a->out.size))) {
        fprintf(stderr, "fed whole: error %d, %"PRIu32" bytes; in pieces of "
                "%zu: error %d, %"PRIu32" bytes\n", a->error, a->out.size,
                step, b->error, b->out.size);
        abort();
    }
    if (a->stats.stream_bytes != a->out.size || a->stats.wire_bytes > size) {
        fprintf(stderr, "delivered %"PRIu32" bytes, counted %"PRIu64" of "
                "%"PRIu64" frame bytes, from %zu\n", a->out.size,
                a->stats.stream_bytes, a->stats.wire_bytes, size);
        abort();
    }
}

/* Encodes 'data' in blocks of 'block_size' and checks that it decodes back
 * to itself. */
static void
check_round_trip(const uint8_t *data, size_t size, size_t block_size,
                 enum migr_compress_mode mode)
{
    struct migr_frame_encoder enc;
    struct ofpbuf wire;
    struct result r;

    ofpbuf_init(&wire, 0);
    migr_frame_encoder_init(&enc, mode, block_size);
    migr_frame_encode(&enc, data, size, &wire);
    migr_frame_flush(&enc, &wire);
    decode(wire.data, wire.size, wire.size ? wire.size : 1, &r);
    if (r.error || r.out.size != size
        || (size && memcmp(r.out.data, data, size))) {
        fprintf(stderr, "%zu bytes in blocks of %zu do not round-trip\n",
                size, block_size);
        abort();
    }
    ofpbuf_uninit(&r.out);
    ofpbuf_uninit(&wire);
    migr_frame_encoder_destroy(&enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) {
        return 0;
    }
    size_t step = data[0] + 1;
    data++;
    size--;

    struct result whole, pieces;
    decode(data, size, size ? size : 1, &whole);
    decode(data, size, step, &pieces);
    check_same(&whole, &pieces, step, size);
    ofpbuf_uninit(&whole.out);
    ofpbuf_uninit(&pieces.out);

    check_round_trip(data, size, step * 16,
                     step & 1 ? MIGR_COMPRESS_LZ4 : MIGR_COMPRESS_NONE);
    return 0;
}
