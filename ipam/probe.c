#include <config.h>

#include "ipam/probe.h"

#include "util.h"

void
ipam_probe_init(struct ipam_probe *p, uint64_t size)
{
    *p = (struct ipam_probe) { .size = size, .free = size };
}

static void
add(struct ipam_probe *p, uint64_t k)
{
    if (k < p->size && p->n_candidates < IPAM_PROBE_MAX
        && (!p->n_candidates || p->candidates[p->n_candidates - 1] < k)) {
        p->candidates[p->n_candidates++] = k;
    }
}

/* The first round: the 32 first numbers, then every power of two, so that
 * a pool full up to anywhere is bracketed at once. */
static void
first_round(struct ipam_probe *p)
{
    for (uint64_t k = 0; k < 32; k++) {
        add(p, k);
    }
    for (int shift = 5; shift < 64; shift++) {
        add(p, UINT64_C(1) << shift);
    }
}

/* A later round: numbers strictly between 'taken' and 'free' (the end of
 * the pool, if none is known free), all of them if they fit, else evenly
 * spaced. */
static void
narrowing_round(struct ipam_probe *p)
{
    uint64_t lo = p->taken + 1, width = p->free - lo;
    if (width <= IPAM_PROBE_MAX) {
        for (uint64_t k = lo; k < p->free; k++) {
            add(p, k);
        }
    } else {
        for (unsigned __int128 i = 0; i < IPAM_PROBE_MAX; i++) {
            add(p, lo + (uint64_t) (i * width / IPAM_PROBE_MAX));
        }
    }
}

/* Which numbers to ask about next, in increasing order, in
 * '*candidates'; returns how many, 0 once the probe is over. */
size_t
ipam_probe_next(struct ipam_probe *p, const uint64_t **candidates)
{
    p->n_candidates = 0;
    if (!p->started) {
        p->started = true;
        first_round(p);
    } else if (p->any_taken && p->taken + 1 < p->free) {
        narrowing_round(p);
    }
    *candidates = p->candidates;
    return p->n_candidates;
}

/* Takes the answers to the last candidates: 'taken[i]' for the i-th. */
void
ipam_probe_answer(struct ipam_probe *p, const bool *taken)
{
    for (size_t i = 0; i < p->n_candidates; i++) {
        uint64_t k = p->candidates[i];
        if (!taken[i]) {
            p->free = MIN(p->free, k);
            break;
        }
        p->any_taken = true;
        p->taken = k;
    }
}

/* Stores the number found free in '*k', if the probe has found one. */
bool
ipam_probe_found(const struct ipam_probe *p, uint64_t *k)
{
    if (p->free < p->size && (!p->any_taken || p->taken + 1 == p->free)) {
        *k = p->free;
        return true;
    }
    return false;
}
