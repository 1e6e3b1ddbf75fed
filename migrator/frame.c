#include <config.h>

#include "migrator/frame.h"

#include <inttypes.h>
#include <lz4.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "migrator/checksum.h"
#include "openvswitch/ofpbuf.h"
#include "unaligned.h"
#include "util.h"

BUILD_ASSERT_DECL(MIGR_FRAME_MAX_BLOCK <= LZ4_MAX_INPUT_SIZE);
BUILD_ASSERT_DECL(MIGR_FRAME_DEFAULT_BLOCK <= MIGR_FRAME_MAX_BLOCK);

static void
put_header(uint8_t *h, enum migr_frame_type type, size_t payload_len,
           size_t decoded_len, ovs_be32 crc)
{
    h[0] = type;
    h[1] = h[2] = h[3] = 0;
    put_unaligned_be32((ovs_be32 *) (h + 4), htonl(payload_len));
    put_unaligned_be32((ovs_be32 *) (h + 8), htonl(decoded_len));
    put_unaligned_be32((ovs_be32 *) (h + 12), crc);
}

static long long int
monotonic_ns(void *aux OVS_UNUSED)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Encodes in blocks of 'block_size' bytes, at most MIGR_FRAME_MAX_BLOCK. */
void
migr_frame_encoder_init(struct migr_frame_encoder *enc,
                        enum migr_compress_mode mode, size_t block_size)
{
    ovs_assert(block_size > 0 && block_size <= MIGR_FRAME_MAX_BLOCK);
    memset(enc, 0, sizeof *enc);
    migr_compress_init(&enc->policy, mode);
    enc->block_size = block_size;
    enc->block = xmalloc(block_size);
    enc->clock = monotonic_ns;
}

/* Replaces the monotonic clock by which the policy measures lz4 (tests). */
void
migr_frame_encoder_set_clock(struct migr_frame_encoder *enc,
                             migr_frame_clock_func *clock, void *aux)
{
    enc->clock = clock;
    enc->clock_aux = aux;
}

void
migr_frame_encoder_destroy(struct migr_frame_encoder *enc)
{
    free(enc->block);
    enc->block = NULL;
}

/* Compresses 'n' bytes of 'src' into 'dst' and returns the length, or 0 if
 * lz4 cannot make them shorter: given less room than 'n', lz4 gives up as
 * soon as its output would not fit, which is cheap on random data. */
static size_t
compress_block(struct migr_frame_encoder *enc, const uint8_t *src, size_t n,
               uint8_t *dst, long long int start)
{
    int len = LZ4_compress_fast((const char *) src, (char *) dst, n, n - 1,
                                1);
    long long int elapsed = enc->clock(enc->clock_aux) - start;

    enc->stats.lz4_ns += MAX(elapsed, 0);
    migr_compress_note_block(&enc->policy, n, len > 0 ? len : n, elapsed);
    return MAX(len, 0);
}

/* Appends 'n' bytes of 'data' to 'out' as one frame, written in place. */
static void
encode_block(struct migr_frame_encoder *enc, const uint8_t *data, size_t n,
             struct ofpbuf *out)
{
    ofpbuf_prealloc_tailroom(out, MIGR_FRAME_HEADER_LEN + n);
    uint8_t *frame = ofpbuf_tail(out);
    uint8_t *payload = frame + MIGR_FRAME_HEADER_LEN;

    long long int now = enc->clock(enc->clock_aux);
    enum migr_frame_type type = MIGR_FRAME_LZ4;
    size_t len = 0;
    if (migr_compress_want(&enc->policy, now)) {
        len = compress_block(enc, data, n, payload, now);
    }
    if (len) {
        enc->stats.blocks_lz4++;
    } else {
        memcpy(payload, data, n);
        len = n;
        type = MIGR_FRAME_RAW;
        enc->stats.blocks_raw++;
    }
    put_header(frame, type, len, n, migr_checksum(data, n));
    ofpbuf_put_uninit(out, MIGR_FRAME_HEADER_LEN + len);
    enc->stats.stream_bytes += n;
    enc->stats.wire_bytes += MIGR_FRAME_HEADER_LEN + len;
}

/* Takes 'n' more bytes of the stream and appends to 'out' the frames of
 * every block they complete.  The rest waits for more, or a flush. */
void
migr_frame_encode(struct migr_frame_encoder *enc, const void *data_,
                  size_t n, struct ofpbuf *out)
{
    const uint8_t *data = data_;
    size_t bs = enc->block_size;

    if (!n) {
        return;
    }
    if (enc->block_len) {
        size_t chunk = MIN(n, bs - enc->block_len);
        memcpy(enc->block + enc->block_len, data, chunk);
        enc->block_len += chunk;
        data += chunk;
        n -= chunk;
        if (enc->block_len < bs) {
            return;
        }
        encode_block(enc, enc->block, bs, out);
        enc->block_len = 0;
    }

    /* Whole blocks are framed straight from the caller's bytes. */
    for (; n >= bs; data += bs, n -= bs) {
        encode_block(enc, data, bs, out);
    }
    memcpy(enc->block, data, n);
    enc->block_len = n;
}

/* Appends to 'out' a frame of whatever stream bytes are waiting, so that the
 * peer can deliver all that was encoded so far. */
void
migr_frame_flush(struct migr_frame_encoder *enc, struct ofpbuf *out)
{
    if (enc->block_len) {
        encode_block(enc, enc->block, enc->block_len, out);
        enc->block_len = 0;
    }
}

void
migr_frame_decoder_init(struct migr_frame_decoder *dec)
{
    memset(dec, 0, sizeof *dec);
}

void
migr_frame_decoder_destroy(struct migr_frame_decoder *dec)
{
    free(dec->payload);
    free(dec->error_msg);
    dec->payload = NULL;
    dec->error_msg = NULL;
}

static void OVS_PRINTF_FORMAT(3, 4)
set_error(struct migr_frame_decoder *dec, enum migr_frame_error error,
          const char *format, ...)
{
    uint64_t frame = dec->stats.blocks_raw + dec->stats.blocks_lz4;
    va_list args;

    va_start(args, format);
    char *why = xvasprintf(format, args);
    va_end(args);

    dec->error = error;
    dec->error_msg = xasprintf("frame %"PRIu64" (at byte %"PRIu64" of the "
                               "connection): %s", frame,
                               dec->stats.wire_bytes, why);
    free(why);
}

static ovs_be32
header_be32(const struct migr_frame_decoder *dec, size_t ofs)
{
    return get_unaligned_be32((const ovs_be32 *) (dec->header + ofs));
}

static uint32_t
payload_length(const struct migr_frame_decoder *dec)
{
    return ntohl(header_be32(dec, 4));
}

static uint32_t
decoded_length(const struct migr_frame_decoder *dec)
{
    return ntohl(header_be32(dec, 8));
}

/* Checks a complete header, so that no length read from the peer is used
 * before it is known to be within bounds. */
static void
check_header(struct migr_frame_decoder *dec)
{
    const uint8_t *h = dec->header;
    uint32_t payload_len = payload_length(dec);
    uint32_t decoded_len = decoded_length(dec);

    if ((h[0] != MIGR_FRAME_RAW && h[0] != MIGR_FRAME_LZ4)
        || h[1] || h[2] || h[3]) {
        set_error(dec, MIGR_FRAME_BAD_TYPE, "unknown frame type "
                  "0x%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
    } else if (!decoded_len || decoded_len > MIGR_FRAME_MAX_BLOCK) {
        set_error(dec, MIGR_FRAME_BAD_LENGTH, "decoded length %"PRIu32" is "
                  "not between 1 and %d", decoded_len, MIGR_FRAME_MAX_BLOCK);
    } else if (h[0] == MIGR_FRAME_RAW && payload_len != decoded_len) {
        set_error(dec, MIGR_FRAME_BAD_LENGTH, "raw frame's payload length "
                  "%"PRIu32" is not its decoded length %"PRIu32,
                  payload_len, decoded_len);
    } else if (!payload_len || payload_len > MIGR_FRAME_MAX_BLOCK) {
        set_error(dec, MIGR_FRAME_BAD_LENGTH, "payload length %"PRIu32" is "
                  "not between 1 and %d", payload_len, MIGR_FRAME_MAX_BLOCK);
    }
}

/* Decodes a frame's whole 'payload' into the tail room of 'out' and keeps
 * it there only if it is sound. */
static void
decode_payload(struct migr_frame_decoder *dec, const uint8_t *payload,
               struct ofpbuf *out)
{
    uint32_t payload_len = payload_length(dec);
    uint32_t decoded_len = decoded_length(dec);
    bool is_lz4 = dec->header[0] == MIGR_FRAME_LZ4;

    ofpbuf_prealloc_tailroom(out, decoded_len);
    uint8_t *dst = ofpbuf_tail(out);
    if (is_lz4) {
        int n = LZ4_decompress_safe((const char *) payload, (char *) dst,
                                    payload_len, decoded_len);
        if (n < 0 || n != decoded_len) {
            set_error(dec, MIGR_FRAME_BAD_LZ4, "%"PRIu32" bytes of lz4 data "
                      "do not decode to %"PRIu32" bytes", payload_len,
                      decoded_len);
            return;
        }
    } else {
        memcpy(dst, payload, decoded_len);
    }

    ovs_be32 crc = migr_checksum(dst, decoded_len);
    ovs_be32 want = header_be32(dec, 12);
    if (crc != want) {
        set_error(dec, MIGR_FRAME_BAD_CHECKSUM, "checksum 0x%08"PRIx32" does "
                  "not match the data's 0x%08"PRIx32, ntohl(want), ntohl(crc));
        return;
    }

    ofpbuf_put_uninit(out, decoded_len);
    dec->stats.stream_bytes += decoded_len;
    dec->stats.wire_bytes += MIGR_FRAME_HEADER_LEN + payload_len;
    *(is_lz4 ? &dec->stats.blocks_lz4 : &dec->stats.blocks_raw) += 1;
    dec->header_len = dec->payload_len = 0;
}

/* Takes up to 'n' bytes of a header; returns how many. */
static size_t
take_header(struct migr_frame_decoder *dec, const uint8_t *data, size_t n)
{
    size_t chunk = MIN(n, MIGR_FRAME_HEADER_LEN - dec->header_len);

    memcpy(dec->header + dec->header_len, data, chunk);
    dec->header_len += chunk;
    if (dec->header_len == MIGR_FRAME_HEADER_LEN) {
        check_header(dec);
    }
    return chunk;
}

/* Takes up to 'n' bytes of a payload, decoding it once whole; returns how
 * many.  A payload that arrives whole is decoded where it lies; only one
 * that comes in pieces is gathered in 'dec->payload'. */
static size_t
take_payload(struct migr_frame_decoder *dec, const uint8_t *data, size_t n,
             struct ofpbuf *out)
{
    size_t need = payload_length(dec) - dec->payload_len;

    if (!dec->payload_len && n >= need) {
        decode_payload(dec, data, out);
        return need;
    }
    if (!dec->payload) {
        dec->payload = xmalloc(MIGR_FRAME_MAX_BLOCK);
    }
    size_t chunk = MIN(n, need);
    memcpy(dec->payload + dec->payload_len, data, chunk);
    dec->payload_len += chunk;
    if (chunk == need) {
        decode_payload(dec, dec->payload, out);
    }
    return chunk;
}

/* Takes 'n' more bytes of frames and appends to 'out' the blocks of every
 * frame they complete.  Returns MIGR_FRAME_OK, or the error of the first
 * unsound frame, after which the decoder takes nothing more. */
enum migr_frame_error
migr_frame_decode(struct migr_frame_decoder *dec, const void *data_,
                  size_t n, struct ofpbuf *out)
{
    const uint8_t *data = data_;

    while (n && !dec->error) {
        size_t used = (dec->header_len < MIGR_FRAME_HEADER_LEN
                       ? take_header(dec, data, n)
                       : take_payload(dec, data, n, out));
        data += used;
        n -= used;
    }
    return dec->error;
}

/* Says that the stream has ended: an error if it ended inside a frame. */
enum migr_frame_error
migr_frame_decoder_finish(struct migr_frame_decoder *dec)
{
    if (dec->error || !dec->header_len) {
        return dec->error;
    } else if (dec->header_len < MIGR_FRAME_HEADER_LEN) {
        set_error(dec, MIGR_FRAME_TRUNCATED, "the stream ends after %zu of "
                  "the header's %d bytes", dec->header_len,
                  MIGR_FRAME_HEADER_LEN);
    } else {
        set_error(dec, MIGR_FRAME_TRUNCATED, "the stream ends after %zu of "
                  "the payload's %"PRIu32" bytes", dec->payload_len,
                  payload_length(dec));
    }
    return dec->error;
}

/* Why the decoder stopped, or NULL if it did not. */
const char *
migr_frame_decoder_error(const struct migr_frame_decoder *dec)
{
    return dec->error_msg;
}
