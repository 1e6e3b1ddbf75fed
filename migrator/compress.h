/* Whether a migration stream's next block is worth compressing.
 *
 * "lz4" always tries, "none" never does.  "auto" compresses while that
 * cannot make the transfer slower: while the core compresses faster than
 * the connection drains, with a margin.  Data that does not compress
 * (random, already compressed) does not stop it: lz4 gives up on such a
 * block at several GB/s, so trying costs a few per cent of a core and
 * never time, while stopping would send raw the compressible blocks that
 * follow until the next look.  It stops when the cores, not the link, are
 * the bottleneck, and looks again periodically, because memory, cores and
 * links change during a migration.  While it compresses without filling
 * the link, it sends raw for a moment only if lz4 took most of that time:
 * otherwise what held the stream back was not lz4 (QEMU, the peer), and
 * raw would only send more bytes.
 *
 * Pure: the caller reports what it measured (each lz4 attempt's sizes and
 * time, and how fast the connection drained) together with the time, from
 * whatever clock it likes, and asks for a decision.  Nothing here reads a
 * clock or does I/O. */

#ifndef MIGRATOR_COMPRESS_H
#define MIGRATOR_COMPRESS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum migr_compress_mode {
    MIGR_COMPRESS_AUTO,         /* Compress while it makes transfer faster. */
    MIGR_COMPRESS_LZ4,          /* Try lz4 on every block. */
    MIGR_COMPRESS_NONE,         /* Send every block raw. */
};

bool migr_compress_mode_parse(const char *, enum migr_compress_mode *);
const char *migr_compress_mode_name(enum migr_compress_mode);

/* How soon after a try of lz4 "auto" judges again (and so retries lz4
 * while not compressing), and how many bytes a try compresses (enough
 * blocks that one odd block does not decide): a try while lz4 is slower
 * than the link costs a few milliseconds of the link, and waiting long
 * costs all the data sent raw meanwhile.  How often, while lz4 keeps the
 * link idle at times, it tries raw, and for how long (long enough for a
 * few link measurements): that costs the compression of the window. */
#define MIGR_COMPRESS_RETRY_NS (250LL * 1000 * 1000)
#define MIGR_COMPRESS_PROBE_BYTES (1024 * 1024)
#define MIGR_COMPRESS_PROBE_NS (1000LL * 1000 * 1000)
#define MIGR_COMPRESS_RAW_WINDOW_NS (100LL * 1000 * 1000)

struct migr_compress {
    enum migr_compress_mode mode;
    bool compressing;           /* "auto": what it decided last. */

    /* lz4's recent attempts, each weighed by its size and fading as more
     * bytes follow, so that a stream of mixed blocks (text, code, random)
     * yields its mean, not its last block.  All 0 until the first. */
    double lz4_in;              /* Input bytes. */
    double lz4_out;             /* Output bytes (the input's if no gain). */
    double lz4_ns;              /* Time compressing them. */
    size_t probe_left;          /* Bytes lz4 still tries in this retry. */

    double window_lz4_ns;       /* Time in lz4 since the last link report. */

    double link_bps;            /* Wire bytes per second the link drains. */
    bool cpu_bound;             /* At the last link report, the link had
                                 * room and lz4 took most of the time. */

    long long int next_probe;   /* When to judge again, in ns. */
    long long int raw_until;    /* End of a raw probe window, in ns. */
};

void migr_compress_init(struct migr_compress *, enum migr_compress_mode);
bool migr_compress_want(struct migr_compress *, long long int now_ns);
void migr_compress_note_block(struct migr_compress *, size_t in, size_t out,
                              long long int elapsed_ns);
void migr_compress_note_link(struct migr_compress *, uint64_t wire_bytes,
                             long long int elapsed_ns, bool backlogged);
double migr_compress_ratio(const struct migr_compress *);
double migr_compress_lz4_bps(const struct migr_compress *);

#endif /* migrator/compress.h */
