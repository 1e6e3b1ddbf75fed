/* Unit tests of the migration stream's framing (migrator/frame.c) and of
 * the policy that decides when to compress (migrator/compress.c). */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crc32c.h"
#include "migrator/compress.h"
#include "migrator/frame.h"
#include "openvswitch/ofpbuf.h"
#include "random.h"
#include "unaligned.h"
#include "util.h"

#define MS (1000LL * 1000)
#define BLOCK (64 * 1024)

enum kind { ZEROS, TEXT, RANDOM };

/* Fills 'n' bytes of 'p' with data of 'kind', the same on every run. */
static void
fill(uint8_t *p, size_t n, enum kind kind)
{
    static const char *const words[] = {
        "migration ", "memory ", "page ", "dirty ", "the ", "of ", "qemu ",
        "int ", "return ", "struct ", "{\n", "}\n", "if (", ") ", "0x",
    };

    random_set_seed(n + kind + 1);
    switch (kind) {
    case ZEROS:
        memset(p, 0, n);
        break;
    case TEXT:
        for (size_t i = 0; i < n; ) {
            const char *w = words[random_range(ARRAY_SIZE(words))];
            size_t len = MIN(strlen(w), n - i);
            memcpy(p + i, w, len);
            i += len;
        }
        break;
    case RANDOM:
        random_bytes(p, n);
        break;
    }
}

/* A quarter zeros, half text, a quarter random, in 4 kB pages. */
static uint8_t *
make_mixed(size_t n)
{
    static const enum kind pattern[] = { ZEROS, TEXT, RANDOM, TEXT };
    uint8_t *p = xmalloc(n);

    for (size_t i = 0; i < n; i += 4096) {
        fill(p + i, MIN(4096, n - i), pattern[i / 4096 % 4]);
    }
    return p;
}

static uint8_t *
make(size_t n, enum kind kind)
{
    uint8_t *p = xmalloc(n);
    fill(p, n, kind);
    return p;
}

/* Encodes 'n' bytes of 'data', written in pieces of 'step' bytes, and
 * flushes. */
static void
encode(struct migr_frame_encoder *enc, const uint8_t *data, size_t n,
       size_t step, struct ofpbuf *wire)
{
    for (size_t i = 0; i < n; i += step) {
        migr_frame_encode(enc, data + i, MIN(step, n - i), wire);
    }
    migr_frame_flush(enc, wire);
}

/* Decodes 'wire' fed in pieces of 'step' bytes into 'out', to its end. */
static enum migr_frame_error
decode(const struct ofpbuf *wire, size_t step, struct ofpbuf *out,
       struct migr_frame_stats *stats)
{
    struct migr_frame_decoder dec;
    enum migr_frame_error error = MIGR_FRAME_OK;
    const uint8_t *p = wire->data;

    migr_frame_decoder_init(&dec);
    for (size_t i = 0; i < wire->size && !error; i += step) {
        error = migr_frame_decode(&dec, p + i, MIN(step, wire->size - i),
                                  out);
    }
    error = error ? error : migr_frame_decoder_finish(&dec);
    if (stats) {
        *stats = dec.stats;
    }
    migr_frame_decoder_destroy(&dec);
    return error;
}

/* Encodes 'data' in 'mode', checks that it decodes back whole, and returns
 * the encoder's statistics. */
static struct migr_frame_stats
round_trip(const uint8_t *data, size_t n, enum migr_compress_mode mode,
           size_t write_step, size_t read_step)
{
    struct migr_frame_encoder enc;
    struct ofpbuf wire, out;
    struct migr_frame_stats dstats;

    ofpbuf_init(&wire, 0);
    ofpbuf_init(&out, 0);
    migr_frame_encoder_init(&enc, mode, BLOCK);
    encode(&enc, data, n, write_step, &wire);

    assert_int_equal(decode(&wire, read_step, &out, &dstats), MIGR_FRAME_OK);
    assert_int_equal(out.size, n);
    assert_memory_equal(out.data, data, n);
    assert_int_equal(enc.stats.stream_bytes, n);
    assert_int_equal(enc.stats.wire_bytes, wire.size);
    assert_int_equal(dstats.stream_bytes, n);
    assert_int_equal(dstats.wire_bytes, wire.size);
    assert_int_equal(dstats.blocks_lz4, enc.stats.blocks_lz4);
    assert_int_equal(dstats.blocks_raw, enc.stats.blocks_raw);

    struct migr_frame_stats stats = enc.stats;
    migr_frame_encoder_destroy(&enc);
    ofpbuf_uninit(&wire);
    ofpbuf_uninit(&out);
    return stats;
}

static void
test_zeros_compress(void **state OVS_UNUSED)
{
    uint8_t *data = make(10 * BLOCK, ZEROS);
    struct migr_frame_stats s = round_trip(data, 10 * BLOCK,
                                           MIGR_COMPRESS_LZ4, 4096, 65536);
    assert_int_equal(s.blocks_lz4, 10);
    assert_int_equal(s.blocks_raw, 0);
    assert_true(s.wire_bytes < s.stream_bytes / 100);
    free(data);
}

static void
test_text_compresses(void **state OVS_UNUSED)
{
    size_t n = 5 * BLOCK + 123;
    uint8_t *data = make(n, TEXT);
    struct migr_frame_stats s = round_trip(data, n, MIGR_COMPRESS_LZ4, 1000,
                                           777);
    assert_int_equal(s.blocks_lz4, 6);
    assert_true(s.wire_bytes < s.stream_bytes / 2);
    free(data);
}

static void
test_random_goes_raw(void **state OVS_UNUSED)
{
    size_t n = 4 * BLOCK;
    uint8_t *data = make(n, RANDOM);
    struct migr_frame_stats s = round_trip(data, n, MIGR_COMPRESS_LZ4,
                                           3 * BLOCK, n);
    assert_int_equal(s.blocks_raw, 4);
    assert_int_equal(s.blocks_lz4, 0);
    assert_int_equal(s.wire_bytes, n + 4 * MIGR_FRAME_HEADER_LEN);
    free(data);
}

static void
test_mixed_has_both_kinds(void **state OVS_UNUSED)
{
    /* Blocks of 4 kB: each a page of one kind. */
    size_t n = 64 * 4096;
    uint8_t *data = make_mixed(n);
    struct migr_frame_encoder enc;
    struct ofpbuf wire, out;

    ofpbuf_init(&wire, 0);
    ofpbuf_init(&out, 0);
    migr_frame_encoder_init(&enc, MIGR_COMPRESS_LZ4, 4096);
    encode(&enc, data, n, 5000, &wire);
    assert_int_equal(enc.stats.blocks_raw, 16);
    assert_int_equal(enc.stats.blocks_lz4, 48);
    assert_int_equal(decode(&wire, 1, &out, NULL), MIGR_FRAME_OK);
    assert_int_equal(out.size, n);
    assert_memory_equal(out.data, data, n);

    migr_frame_encoder_destroy(&enc);
    ofpbuf_uninit(&wire);
    ofpbuf_uninit(&out);
    free(data);
}

static void
test_none_sends_raw(void **state OVS_UNUSED)
{
    size_t n = 3 * BLOCK;
    uint8_t *data = make(n, ZEROS);
    struct migr_frame_stats s = round_trip(data, n, MIGR_COMPRESS_NONE,
                                           n, 4096);
    assert_int_equal(s.blocks_raw, 3);
    assert_int_equal(s.blocks_lz4, 0);
    free(data);
}

static void
test_byte_at_a_time(void **state OVS_UNUSED)
{
    size_t n = 2 * BLOCK + 5000;
    uint8_t *data = make_mixed(n);
    struct migr_frame_stats s = round_trip(data, n, MIGR_COMPRESS_LZ4, 1, 1);
    assert_int_equal(s.blocks_raw + s.blocks_lz4, 3);
    free(data);
}

static void
test_nothing_until_flush(void **state OVS_UNUSED)
{
    struct migr_frame_encoder enc;
    struct ofpbuf wire;

    ofpbuf_init(&wire, 0);
    migr_frame_encoder_init(&enc, MIGR_COMPRESS_AUTO, BLOCK);
    migr_frame_encode(&enc, "hello", 5, &wire);
    assert_int_equal(wire.size, 0);
    migr_frame_flush(&enc, &wire);
    assert_int_equal(wire.size, MIGR_FRAME_HEADER_LEN + 5);
    migr_frame_flush(&enc, &wire);
    assert_int_equal(wire.size, MIGR_FRAME_HEADER_LEN + 5);

    migr_frame_encoder_destroy(&enc);
    ofpbuf_uninit(&wire);
}

/* The checksum of an 'n'-byte block is lib/crc32c.c's. */
static void
check_checksum(size_t n)
{
    uint8_t *data = make(n, RANDOM);
    struct migr_frame_encoder enc;
    struct ofpbuf wire;

    ofpbuf_init(&wire, 0);
    migr_frame_encoder_init(&enc, MIGR_COMPRESS_NONE, MIGR_FRAME_MAX_BLOCK);
    encode(&enc, data, n, n, &wire);
    ovs_be32 crc = get_unaligned_be32(ofpbuf_at_assert(&wire, 12, 4));
    assert_int_equal(crc, crc32c(data, n));

    migr_frame_encoder_destroy(&enc);
    ofpbuf_uninit(&wire);
    free(data);
}

static void
test_checksum_is_crc32c(void **state OVS_UNUSED)
{
    for (size_t n = 1; n <= 100; n++) {
        check_checksum(n);
    }
    /* Around the lengths where the block is checked in three interleaved
     * runs of 4 kB, and up to the largest block. */
    static const size_t runs[] = { 1, 2, 3, 4, 16, 21 };
    for (size_t i = 0; i < ARRAY_SIZE(runs); i++) {
        for (int d = -9; d <= 9; d++) {
            check_checksum(3 * 4096 * runs[i] + d);
        }
    }
    check_checksum(MIGR_FRAME_DEFAULT_BLOCK);
    check_checksum(MIGR_FRAME_MAX_BLOCK);
}

/* Two frames of BLOCK bytes, the first raw (random), the second lz4
 * (text), for the tests of bad frames to spoil. */
struct two_frames {
    struct ofpbuf wire;
    uint8_t *first, *second;    /* Each frame's start in 'wire'. */
};

static int
setup_two_frames(void **state)
{
    struct two_frames *t = xzalloc(sizeof *t);
    uint8_t *data = xmalloc(2 * BLOCK);
    struct migr_frame_encoder enc;

    fill(data, BLOCK, RANDOM);
    fill(data + BLOCK, BLOCK, TEXT);
    ofpbuf_init(&t->wire, 0);
    migr_frame_encoder_init(&enc, MIGR_COMPRESS_LZ4, BLOCK);
    encode(&enc, data, 2 * BLOCK, 2 * BLOCK, &t->wire);
    assert_int_equal(enc.stats.blocks_raw, 1);
    assert_int_equal(enc.stats.blocks_lz4, 1);
    t->first = t->wire.data;
    t->second = t->first + MIGR_FRAME_HEADER_LEN + BLOCK;
    assert_int_equal(t->second[0], MIGR_FRAME_LZ4);

    migr_frame_encoder_destroy(&enc);
    free(data);
    *state = t;
    return 0;
}

static int
teardown_two_frames(void **state)
{
    struct two_frames *t = *state;
    ofpbuf_uninit(&t->wire);
    free(t);
    return 0;
}

/* Decodes the spoilt two frames, fed whole and one byte at a time: both
 * must stop with 'error', with a message containing 'why', having
 * delivered the first block (if 'first_ok') and nothing of the second. */
static void
expect_error(struct two_frames *t, enum migr_frame_error error,
             bool first_ok, const char *why)
{
    size_t steps[] = { 1, t->wire.size };

    for (size_t k = 0; k < ARRAY_SIZE(steps); k++) {
        size_t step = steps[k];
        struct migr_frame_decoder dec;
        struct ofpbuf out;
        const uint8_t *p = t->wire.data;
        enum migr_frame_error e = MIGR_FRAME_OK;

        ofpbuf_init(&out, 0);
        migr_frame_decoder_init(&dec);
        for (size_t i = 0; i < t->wire.size && !e; i += step) {
            e = migr_frame_decode(&dec, p + i, MIN(step, t->wire.size - i),
                                  &out);
        }
        e = e ? e : migr_frame_decoder_finish(&dec);
        assert_int_equal(e, error);
        assert_non_null(strstr(migr_frame_decoder_error(&dec), why));
        assert_int_equal(out.size, first_ok ? BLOCK : 0);

        /* An error sticks. */
        assert_int_equal(migr_frame_decode(&dec, p, t->wire.size, &out),
                         error);
        assert_int_equal(out.size, first_ok ? BLOCK : 0);

        migr_frame_decoder_destroy(&dec);
        ofpbuf_uninit(&out);
    }
}

static void
put_be32(uint8_t *p, uint32_t x)
{
    put_unaligned_be32((ovs_be32 *) p, htonl(x));
}

static void
test_truncated_payload(void **state)
{
    struct two_frames *t = *state;
    t->wire.size--;
    expect_error(t, MIGR_FRAME_TRUNCATED, true, "frame 1 ");
}

static void
test_truncated_header(void **state)
{
    struct two_frames *t = *state;
    t->wire.size = t->second + 5 - t->first;
    expect_error(t, MIGR_FRAME_TRUNCATED, true, "after 5 of the header's");
}

static void
test_bad_checksum_raw(void **state)
{
    struct two_frames *t = *state;
    t->first[MIGR_FRAME_HEADER_LEN + 100] ^= 1;
    expect_error(t, MIGR_FRAME_BAD_CHECKSUM, false, "frame 0 ");
}

static void
test_bad_checksum_lz4(void **state)
{
    struct two_frames *t = *state;
    t->second[15] ^= 0x80;
    expect_error(t, MIGR_FRAME_BAD_CHECKSUM, true, "checksum");
}

static void
test_oversized_decoded_length(void **state)
{
    struct two_frames *t = *state;
    put_be32(t->second + 8, MIGR_FRAME_MAX_BLOCK + 1);
    expect_error(t, MIGR_FRAME_BAD_LENGTH, true, "decoded length 262145");
}

static void
test_oversized_payload_length(void **state)
{
    struct two_frames *t = *state;
    put_be32(t->second + 4, UINT32_MAX);
    expect_error(t, MIGR_FRAME_BAD_LENGTH, true, "payload length 4294967295");
}

static void
test_raw_lengths_differ(void **state)
{
    struct two_frames *t = *state;
    put_be32(t->first + 8, BLOCK - 1);
    expect_error(t, MIGR_FRAME_BAD_LENGTH, false, "raw frame");
}

static void
test_unknown_type(void **state)
{
    struct two_frames *t = *state;
    t->second[0] = 3;
    expect_error(t, MIGR_FRAME_BAD_TYPE, true, "unknown frame type 0x03");
}

static void
test_nonzero_reserved_byte(void **state)
{
    struct two_frames *t = *state;
    t->first[2] = 1;
    expect_error(t, MIGR_FRAME_BAD_TYPE, false, "0x01000100");
}

static void
test_lz4_longer_than_stated(void **state)
{
    struct two_frames *t = *state;
    put_be32(t->second + 8, BLOCK - 1);
    expect_error(t, MIGR_FRAME_BAD_LZ4, true, "do not decode to 65535");
}

static void
test_lz4_shorter_than_stated(void **state)
{
    struct two_frames *t = *state;
    put_be32(t->second + 8, BLOCK + 1);
    expect_error(t, MIGR_FRAME_BAD_LZ4, true, "do not decode to 65537");
}

static void
test_lz4_garbage(void **state)
{
    struct two_frames *t = *state;
    uint32_t len = ntohl(get_unaligned_be32((ovs_be32 *) (t->second + 4)));
    memset(t->second + MIGR_FRAME_HEADER_LEN, 0xff, len);
    expect_error(t, MIGR_FRAME_BAD_LZ4, true, "lz4 data");
}

/* The policy, on a fake clock. */

#define LINK_1G 125e6                   /* Bytes per second. */
#define RETRY MIGR_COMPRESS_RETRY_NS
#define PROBE MIGR_COMPRESS_PROBE_NS
#define LINK_25G (25 * LINK_1G)

/* The size of the blocks the policy tests report. */
#define POLICY_BLOCK (128 * 1024)

/* Reports one lz4 attempt on a POLICY_BLOCK that shrank to 'ratio' at
 * 'bps' input bytes per second. */
static void
note_block(struct migr_compress *c, double ratio, double bps)
{
    migr_compress_note_block(c, POLICY_BLOCK, POLICY_BLOCK * ratio,
                             POLICY_BLOCK * 1e9 / bps);
}

/* Reports 100 ms of a link that took 'bps' wire bytes a second. */
static void
note_link(struct migr_compress *c, double bps, bool backlogged)
{
    migr_compress_note_link(c, bps / 10, 100 * MS, backlogged);
}

/* At 'now', a try of lz4: blocks that shrink to 'ratio' at 'bps' until
 * it has compressed MIGR_COMPRESS_PROBE_BYTES, all of which it must. */
static void
try_lz4(struct migr_compress *c, long long int now, double ratio,
        double bps)
{
    for (size_t done = 0; done < MIGR_COMPRESS_PROBE_BYTES;
         done += POLICY_BLOCK) {
        assert_true(migr_compress_want(c, now));
        note_block(c, ratio, bps);
    }
}

/* Starts "auto" at time 0, whose first megabyte is compressed whatever it
 * is, to measure: it shrinks to 'ratio' at 'bps'. */
static void
start_auto(struct migr_compress *c, double ratio, double bps)
{
    migr_compress_init(c, MIGR_COMPRESS_AUTO);
    try_lz4(c, 0, ratio, bps);
}

static void
test_auto_compresses_on_a_slow_link(void **state OVS_UNUSED)
{
    struct migr_compress c;
    start_auto(&c, 0.4, 8.0 * LINK_1G);
    note_link(&c, LINK_1G, true);
    for (long long int t = 1; t < 5000; t += 10) {
        assert_true(migr_compress_want(&c, t * MS));
        note_block(&c, 0.4, 8.0 * LINK_1G);
        note_link(&c, LINK_1G, true);
    }
}

static void
test_auto_raw_when_cores_are_slower_than_the_link(void **state OVS_UNUSED)
{
    struct migr_compress c;
    start_auto(&c, 0.4, 4.0 * LINK_1G);
    note_link(&c, LINK_25G, true);
    assert_false(migr_compress_want(&c, 1 * MS));
    assert_false(c.compressing);
}

/* lz4 gives up on random data faster than the link drains it: trying
 * costs no time, and the compressible blocks after it are not sent raw. */
static void
test_auto_keeps_trying_data_that_does_not_compress(void **state OVS_UNUSED)
{
    struct migr_compress c;
    start_auto(&c, 1.0, 20.0 * LINK_1G);
    note_link(&c, LINK_1G, true);
    for (long long int t = 1; t < 3000; t += 10) {
        assert_true(migr_compress_want(&c, t * MS));
        note_block(&c, 1.0, 20.0 * LINK_1G);
        note_link(&c, LINK_1G, true);
    }
    assert_true(c.compressing);
}

/* Memory as a server's: blocks of text, code and random bytes shuffled,
 * with the runs of random blocks that shuffling makes (10 in a row every
 * 500).  Their mean
 * shrinks by a third, so lz4 pays all along on a 1 Gbit/s link. */
static void
test_auto_compresses_mixed_memory(void **state OVS_UNUSED)
{
    static const double ratios[] = { 0.4, 0.55, 1.0 };
    struct migr_compress c;
    uint32_t x = 1;

    migr_compress_init(&c, MIGR_COMPRESS_AUTO);
    for (long long int t = 0; t < 3000; t++) {
        x = x * 1103515245 + 12345;
        double ratio = t % 500 >= 490 ? 1.0 : ratios[(x >> 16) % 3];
        assert_true(migr_compress_want(&c, t * MS));
        migr_compress_note_block(&c, 65536, 65536 * ratio, 65536 * 1e9
                                 / (4.0 * LINK_1G));
        note_link(&c, LINK_1G, true);
    }
    assert_true(c.compressing);
}

static void
test_auto_resumes_when_lz4_speeds_up(void **state OVS_UNUSED)
{
    struct migr_compress c;
    start_auto(&c, 0.4, 0.5 * LINK_1G);
    note_link(&c, LINK_1G, true);
    assert_false(migr_compress_want(&c, 1 * MS));
    assert_false(migr_compress_want(&c, RETRY - MS));

    /* It retries now and then, a megabyte: the cores are free again. */
    try_lz4(&c, RETRY, 0.4, 8.0 * LINK_1G);
    assert_true(migr_compress_want(&c, RETRY + MS));
    assert_true(c.compressing);
}

static void
test_auto_resumes_when_the_link_slows(void **state OVS_UNUSED)
{
    struct migr_compress c;
    start_auto(&c, 0.4, 4.0 * LINK_1G);
    note_link(&c, LINK_25G, true);
    assert_false(migr_compress_want(&c, 1 * MS));

    /* The migration network falls back to a 1 Gbit/s link: raw output
     * backs up there, and lz4 is now faster than the link. */
    for (int i = 0; i < 20; i++) {
        note_link(&c, LINK_1G, true);
    }
    assert_true(migr_compress_want(&c, 2 * MS));
    assert_true(c.compressing);
}

/* Reports lz4 attempts at 'bps' that took 'share' of the next link
 * report's 100 ms. */
static void
busy_lz4(struct migr_compress *c, double ratio, double bps, double share)
{
    double block_ns = POLICY_BLOCK * 1e9 / bps;
    for (double ns = 0; ns < share * 100 * MS; ns += block_ns) {
        note_block(c, ratio, bps);
    }
}

static void
test_auto_tries_raw_when_cpu_bound(void **state OVS_UNUSED)
{
    struct migr_compress c;
    start_auto(&c, 0.4, 4.0 * LINK_1G);
    note_link(&c, LINK_1G, true);
    assert_true(migr_compress_want(&c, 1 * MS));

    /* The link became faster: compressed output no longer backs up, and
     * lz4 took most of the time, so what the link could take is unknown.
     * At the next look it sends raw for a window, whose measurements show
     * a link faster than lz4. */
    busy_lz4(&c, 0.4, 4.0 * LINK_1G, 0.8);
    note_link(&c, 1.6 * LINK_1G, false);
    assert_true(migr_compress_want(&c, RETRY - MS));
    assert_false(migr_compress_want(&c, RETRY));
    note_link(&c, 10.0 * LINK_1G, false);
    assert_false(migr_compress_want(&c, RETRY + 50 * MS));
    assert_false(migr_compress_want(&c, RETRY + 100 * MS));
    assert_false(c.compressing);
}

/* The link has room, but lz4 took a fifth of the time: the stream waited
 * on something else (QEMU), so raw would only send more bytes. */
static void
test_auto_no_raw_window_when_lz4_is_not_the_bottleneck(
    void **state OVS_UNUSED)
{
    struct migr_compress c;
    start_auto(&c, 0.4, 4.0 * LINK_1G);
    for (long long int t = 1; t < 5000; t += 100) {
        busy_lz4(&c, 0.4, 4.0 * LINK_1G, 0.2);
        note_link(&c, 0.5 * LINK_1G, false);
        for (long long int u = t; u < t + 100; u += 10) {
            assert_true(migr_compress_want(&c, u * MS));
        }
    }
    assert_true(c.compressing);
}

static void
test_auto_keeps_compressing_after_raw_window_on_slow_link(
    void **state OVS_UNUSED)
{
    struct migr_compress c;
    start_auto(&c, 0.1, 4.0 * LINK_1G);
    busy_lz4(&c, 0.1, 4.0 * LINK_1G, 0.8);
    note_link(&c, 0.4 * LINK_1G, false);
    assert_false(migr_compress_want(&c, RETRY));

    /* Raw backs up at 1 Gbit/s: lz4 is faster, so back to it. */
    note_link(&c, LINK_1G, true);
    assert_true(migr_compress_want(&c, RETRY + 100 * MS));
    assert_true(c.compressing);
}

static void
test_fixed_modes(void **state OVS_UNUSED)
{
    struct migr_compress c;

    migr_compress_init(&c, MIGR_COMPRESS_LZ4);
    note_block(&c, 1.0, 1.0);
    note_link(&c, LINK_25G, true);
    assert_true(migr_compress_want(&c, 0));
    assert_true(migr_compress_want(&c, 1 * MS));

    migr_compress_init(&c, MIGR_COMPRESS_NONE);
    note_block(&c, 0.01, 100.0 * LINK_25G);
    note_link(&c, LINK_1G, true);
    assert_false(migr_compress_want(&c, 0));
    assert_false(migr_compress_want(&c, PROBE));
}

static void
test_mode_names(void **state OVS_UNUSED)
{
    enum migr_compress_mode mode;

    for (int i = MIGR_COMPRESS_AUTO; i <= MIGR_COMPRESS_NONE; i++) {
        assert_true(migr_compress_mode_parse(migr_compress_mode_name(i),
                                             &mode));
        assert_int_equal(mode, i);
    }
    assert_string_equal(migr_compress_mode_name(MIGR_COMPRESS_AUTO), "auto");
    assert_false(migr_compress_mode_parse("zstd", &mode));
}

/* A clock that advances 1 ms each time it is read. */
static long long int
slow_clock(void *now_)
{
    long long int *now = now_;
    return *now += MS;
}

static void
test_encoder_measures_lz4(void **state OVS_UNUSED)
{
    /* On this clock lz4 seems to take 1 ms a block (64 MB/s), while the
     * link drains 1 Gbit/s: after the first megabyte, which measures that,
     * the encoder sends raw. */
    size_t n = 32 * BLOCK;
    uint8_t *data = make(n, TEXT);
    struct migr_frame_encoder enc;
    struct ofpbuf wire, out;
    long long int now = 0;

    ofpbuf_init(&wire, 0);
    ofpbuf_init(&out, 0);
    migr_frame_encoder_init(&enc, MIGR_COMPRESS_AUTO, BLOCK);
    migr_frame_encoder_set_clock(&enc, slow_clock, &now);
    migr_compress_note_link(&enc.policy, LINK_1G / 10, 100 * MS, true);
    encode(&enc, data, n, n, &wire);
    size_t measured = MIGR_COMPRESS_PROBE_BYTES / BLOCK;
    assert_int_equal(enc.stats.blocks_lz4, measured);
    assert_int_equal(enc.stats.blocks_raw, 32 - measured);
    assert_int_equal(enc.stats.lz4_ns, measured * MS);

    assert_int_equal(decode(&wire, 4096, &out, NULL), MIGR_FRAME_OK);
    assert_memory_equal(out.data, data, n);

    migr_frame_encoder_destroy(&enc);
    ofpbuf_uninit(&wire);
    ofpbuf_uninit(&out);
    free(data);
}

#define TWO_FRAMES(test) \
    cmocka_unit_test_setup_teardown(test, setup_two_frames, \
                                    teardown_two_frames)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zeros_compress),
        cmocka_unit_test(test_text_compresses),
        cmocka_unit_test(test_random_goes_raw),
        cmocka_unit_test(test_mixed_has_both_kinds),
        cmocka_unit_test(test_none_sends_raw),
        cmocka_unit_test(test_byte_at_a_time),
        cmocka_unit_test(test_nothing_until_flush),
        cmocka_unit_test(test_checksum_is_crc32c),
        TWO_FRAMES(test_truncated_payload),
        TWO_FRAMES(test_truncated_header),
        TWO_FRAMES(test_bad_checksum_raw),
        TWO_FRAMES(test_bad_checksum_lz4),
        TWO_FRAMES(test_oversized_decoded_length),
        TWO_FRAMES(test_oversized_payload_length),
        TWO_FRAMES(test_raw_lengths_differ),
        TWO_FRAMES(test_unknown_type),
        TWO_FRAMES(test_nonzero_reserved_byte),
        TWO_FRAMES(test_lz4_longer_than_stated),
        TWO_FRAMES(test_lz4_shorter_than_stated),
        TWO_FRAMES(test_lz4_garbage),
        cmocka_unit_test(test_auto_compresses_on_a_slow_link),
        cmocka_unit_test(test_auto_raw_when_cores_are_slower_than_the_link),
        cmocka_unit_test(test_auto_keeps_trying_data_that_does_not_compress),
        cmocka_unit_test(test_auto_resumes_when_lz4_speeds_up),
        cmocka_unit_test(test_auto_compresses_mixed_memory),
        cmocka_unit_test(test_auto_resumes_when_the_link_slows),
        cmocka_unit_test(test_auto_tries_raw_when_cpu_bound),
        cmocka_unit_test(
            test_auto_no_raw_window_when_lz4_is_not_the_bottleneck),
        cmocka_unit_test(
            test_auto_keeps_compressing_after_raw_window_on_slow_link),
        cmocka_unit_test(test_fixed_modes),
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_encoder_measures_lz4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
