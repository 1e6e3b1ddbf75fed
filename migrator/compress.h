/* Whether a migration stream's next block is worth compressing.
 *
 * "lz4" always tries, "none" never does.  "auto" compresses only while
 * that makes the transfer faster: while lz4 saves at least a tenth of the
 * bytes and the core compresses faster than the connection drains, with a
 * margin, since compressing spends CPU that the rest of the host may want.
 * So it stops when the data does not compress (random, already compressed)
 * or when the cores, not the link, are the bottleneck; and it retries
 * periodically, because memory and links change during a migration.
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
 * blocks that one odd block does not decide): a try on data that does not
 * compress costs lz4 a millisecond or two, and waiting long costs all the
 * data sent raw meanwhile.  How often, while compressing with the link
 * idle at times, it tries raw, and for how long (long enough for a few
 * link measurements): that costs the compression of the window. */
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

    double link_bps;            /* Wire bytes per second the link drains. */
    bool cpu_bound;             /* The last link report was not backlogged. */

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
