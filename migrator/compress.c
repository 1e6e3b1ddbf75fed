#include <config.h>

#include "migrator/compress.h"

#include <string.h>

#include "util.h"

/* "auto" compresses only if lz4 compresses a tenth faster than the link
 * drains: below that, the gain is within the noise of the measurements and
 * not worth the CPU. */
#define MARGIN 1.1

/* The share of a link report's time that lz4 must have taken, while the
 * link had room, for lz4 to be what may hold the stream back. */
#define LZ4_BUSY 0.5

/* How many bytes of lz4 attempts make the figures it decides on: a few
 * dozen blocks, so that the mean of mixed memory decides, not a run of
 * random blocks. */
#define HORIZON_BYTES (4.0 * 1024 * 1024)

/* Weight of a new link measurement in the smoothed rate: a few reports
 * make a trend, one odd one does not. */
#define WEIGHT 0.25

static const char *const mode_names[] = {
    [MIGR_COMPRESS_AUTO] = "auto",
    [MIGR_COMPRESS_LZ4] = "lz4",
    [MIGR_COMPRESS_NONE] = "none",
};

bool
migr_compress_mode_parse(const char *s, enum migr_compress_mode *mode)
{
    for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++) {
        if (!strcmp(s, mode_names[i])) {
            *mode = i;
            return true;
        }
    }
    return false;
}

const char *
migr_compress_mode_name(enum migr_compress_mode mode)
{
    return mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "unknown";
}

void
migr_compress_init(struct migr_compress *c, enum migr_compress_mode mode)
{
    memset(c, 0, sizeof *c);
    c->mode = mode;
    c->compressing = mode != MIGR_COMPRESS_NONE;
    if (mode == MIGR_COMPRESS_AUTO) {
        /* Compression is the default: the first bytes measure it. */
        c->probe_left = MIGR_COMPRESS_PROBE_BYTES;
    }
}

static double
smooth(double old, double new)
{
    return old ? old + WEIGHT * (new - old) : new;
}

/* Wire bytes per input byte of lz4's recent attempts, 0 if none. */
double
migr_compress_ratio(const struct migr_compress *c)
{
    return c->lz4_in ? c->lz4_out / c->lz4_in : 0;
}

/* Input bytes per second of lz4's recent attempts, 0 if not measured. */
double
migr_compress_lz4_bps(const struct migr_compress *c)
{
    return c->lz4_ns ? c->lz4_in * 1e9 / c->lz4_ns : 0;
}

/* Whether compressing cannot slow the transfer, on what is known.  With
 * lz4 the stream moves at min(lz4_bps, link_bps / ratio) bytes a second
 * (the next block is compressed while the last one drains), raw at
 * link_bps: so lz4's speed decides, and the ratio only how much it gains.
 * What is not measured yet counts in favour. */
static bool
compress_pays(const struct migr_compress *c)
{
    double lz4_bps = migr_compress_lz4_bps(c);

    return !c->link_bps || !lz4_bps || lz4_bps > c->link_bps * MARGIN;
}

/* Whether the block about to be sent should be tried with lz4. */
bool
migr_compress_want(struct migr_compress *c, long long int now)
{
    if (c->mode != MIGR_COMPRESS_AUTO) {
        return c->mode == MIGR_COMPRESS_LZ4;
    }
    if (c->probe_left) {
        c->next_probe = now + MIGR_COMPRESS_RETRY_NS;
        return true;
    }
    if (now < c->raw_until) {
        return false;
    }

    bool pays = compress_pays(c);
    if (now >= c->next_probe) {
        c->next_probe = now + (pays ? MIGR_COMPRESS_PROBE_NS
                               : MIGR_COMPRESS_RETRY_NS);
        if (!pays) {
            /* The cores may be less busy, or the memory being sent
             * quicker to compress: what lz4 did before says nothing of
             * that, so a few blocks measure it afresh. */
            c->lz4_in = c->lz4_out = c->lz4_ns = 0;
            c->probe_left = MIGR_COMPRESS_PROBE_BYTES;
            return true;
        } else if (c->cpu_bound) {
            /* While lz4 keeps the link idle at times, only sending raw
             * for a while tells whether the link is now faster than lz4:
             * its drain rate is otherwise just a lower bound. */
            c->raw_until = now + MIGR_COMPRESS_RAW_WINDOW_NS;
            return false;
        }
    }
    c->compressing = pays;
    return pays;
}

/* Reports one lz4 attempt: 'in' bytes became 'out' (not less than 'in' if
 * lz4 did not shrink them) in 'elapsed_ns'.  Older attempts fade by the
 * share of the horizon that 'in' takes. */
void
migr_compress_note_block(struct migr_compress *c, size_t in, size_t out,
                         long long int elapsed_ns)
{
    double keep = HORIZON_BYTES / (HORIZON_BYTES + in);

    c->lz4_in = c->lz4_in * keep + in;
    c->lz4_out = c->lz4_out * keep + out;
    c->lz4_ns = c->lz4_ns * keep + MAX(elapsed_ns, 0);
    c->window_lz4_ns += MAX(elapsed_ns, 0);
    c->probe_left -= MIN(c->probe_left, in);
}

/* Reports that the connection took 'wire_bytes' in 'elapsed_ns'.
 * 'backlogged' says whether output was waiting on the link all along (a
 * write would have blocked): only then is the rate the link's; otherwise
 * the link could have taken more, so the rate is a lower bound and the
 * sender was the bottleneck: its cores, if lz4 took most of the time,
 * else what feeds it (QEMU) or drains it (the peer). */
void
migr_compress_note_link(struct migr_compress *c, uint64_t wire_bytes,
                        long long int elapsed_ns, bool backlogged)
{
    if (elapsed_ns <= 0) {
        return;
    }
    double rate = wire_bytes * 1e9 / elapsed_ns;
    c->link_bps = backlogged ? smooth(c->link_bps, rate)
                             : MAX(c->link_bps, rate);
    c->cpu_bound = !backlogged && c->window_lz4_ns > LZ4_BUSY * elapsed_ns;
    c->window_lz4_ns = 0;
}
