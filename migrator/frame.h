/* Framing of a migration connection's byte stream, lz4-compressed when that
 * helps.
 *
 * The encoder takes the stream in whatever pieces QEMU writes, cuts it into
 * blocks of a fixed size (the last one shorter, at a flush) and emits each
 * as one whole frame: a 16-byte header, then the block raw or lz4-compressed.
 * A block goes raw when lz4 does not shrink it or the compression policy
 * (migrator/compress.h) says compressing does not pay.
 *
 * The decoder takes the frames in pieces of any size, one byte at a time
 * included, and yields exactly the bytes that were encoded, or stops at the
 * first frame that is not sound with an error saying which and why: an
 * unknown type, a length above MIGR_FRAME_MAX_BLOCK, lz4 data that does not
 * decode to the stated length, a checksum (CRC32C of the decoded block)
 * that does not match, or a stream that ends inside a frame.  A bad block is
 * never delivered, in part or whole, and the decoder holds at most one
 * frame, whatever it is fed.
 *
 * Frame header, big-endian:
 *
 *   0      type: MIGR_FRAME_RAW or MIGR_FRAME_LZ4
 *   1..3   zero
 *   4..7   payload length: the bytes that follow the header
 *   8..11  decoded length: 1 to MIGR_FRAME_MAX_BLOCK; equals the payload
 *          length for a raw block
 *   12..15 CRC32C of the decoded block */

#ifndef MIGRATOR_FRAME_H
#define MIGRATOR_FRAME_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrator/compress.h"

struct ofpbuf;

#define MIGR_FRAME_HEADER_LEN 16
#define MIGR_FRAME_MAX_BLOCK (256 * 1024)

/* The encoder's usual block size.  lz4 finds matches only within 64 kB, so
 * larger blocks compress no better; on server-like memory, blocks of 16 to
 * 256 kB encode and decode equally fast and 64 kB gave the best ratio
 * (make bench BENCH=frame), with a frame header every 64 kB costing
 * 0.02%. */
#define MIGR_FRAME_DEFAULT_BLOCK (64 * 1024)

enum migr_frame_type {
    MIGR_FRAME_RAW = 1,
    MIGR_FRAME_LZ4 = 2,
};

struct migr_frame_stats {
    uint64_t stream_bytes;      /* Encoded or decoded stream bytes. */
    uint64_t wire_bytes;        /* Frame bytes, headers included. */
    uint64_t blocks_raw;
    uint64_t blocks_lz4;
    uint64_t lz4_ns;            /* Time spent in lz4 (encoder only). */
};

/* Encoder. */

typedef long long int migr_frame_clock_func(void *aux);

struct migr_frame_encoder {
    struct migr_compress policy;
    size_t block_size;
    uint8_t *block;             /* Stream bytes not yet framed. */
    size_t block_len;
    migr_frame_clock_func *clock;   /* Nanoseconds, for the policy. */
    void *clock_aux;
    struct migr_frame_stats stats;
};

void migr_frame_encoder_init(struct migr_frame_encoder *,
                             enum migr_compress_mode, size_t block_size);
void migr_frame_encoder_set_clock(struct migr_frame_encoder *,
                                  migr_frame_clock_func *, void *aux);
void migr_frame_encoder_destroy(struct migr_frame_encoder *);
void migr_frame_encode(struct migr_frame_encoder *, const void *, size_t,
                       struct ofpbuf *out);
void migr_frame_flush(struct migr_frame_encoder *, struct ofpbuf *out);

/* Decoder. */

enum migr_frame_error {
    MIGR_FRAME_OK,
    MIGR_FRAME_BAD_TYPE,        /* Unknown type or nonzero reserved bytes. */
    MIGR_FRAME_BAD_LENGTH,      /* A length out of range. */
    MIGR_FRAME_BAD_LZ4,         /* Does not decode to the decoded length. */
    MIGR_FRAME_BAD_CHECKSUM,
    MIGR_FRAME_TRUNCATED,       /* The stream ended inside a frame. */
};

struct migr_frame_decoder {
    uint8_t header[MIGR_FRAME_HEADER_LEN];
    size_t header_len;          /* Bytes of 'header' received. */
    uint8_t *payload;           /* MIGR_FRAME_MAX_BLOCK bytes, or NULL. */
    size_t payload_len;         /* Bytes of 'payload' received. */
    enum migr_frame_error error;
    char *error_msg;
    struct migr_frame_stats stats;
};

void migr_frame_decoder_init(struct migr_frame_decoder *);
void migr_frame_decoder_destroy(struct migr_frame_decoder *);
enum migr_frame_error migr_frame_decode(struct migr_frame_decoder *,
                                        const void *, size_t,
                                        struct ofpbuf *out);
enum migr_frame_error migr_frame_decoder_finish(struct migr_frame_decoder *);
const char *migr_frame_decoder_error(const struct migr_frame_decoder *);

#endif /* migrator/frame.h */
