#include <config.h>

#include "migrator/pause.h"

void
migr_pause_init(struct migr_pause *p, int target_ms)
{
    *p = (struct migr_pause) { .target_ms = target_ms };
}

/* What a pause now would leave to copy, and what the target allows. */
static void
left_and_budget(const struct migr_pause *p, const struct migr_pass *pass,
                long long int now, uint64_t *left, uint64_t *budget)
{
    /* The pages dirtied since QEMU last took them are not in 'remaining'
     * yet. */
    uint64_t since = now > p->pass_seen ? now - p->pass_seen : 0;
    *left = pass->remaining + pass->dirty_per_s * since / 1000;
    *budget = pass->bytes_per_s * p->target_ms / 1000;
}

/* Whether the moment has come to hold the packets.  In the first pass,
 * how fast the guest dirties memory is not known yet: the moment is the
 * end of the pass coming within the target, and QEMU, which counts the
 * dirty pages exactly, says at that end whether it pauses. */
static bool
due(const struct migr_pause *p, const struct migr_pass *pass,
    long long int now)
{
    uint64_t left, budget;
    left_and_budget(p, pass, now, &left, &budget);
    return pass->pass && pass->bytes_per_s && left <= budget;
}

/* Whether the moment is near enough to look often (every few tens of ms
 * rather than a few times a second). */
bool
migr_pause_near(const struct migr_pause *p, const struct migr_pass *pass,
                long long int now)
{
    uint64_t left, budget;
    left_and_budget(p, pass, now, &left, &budget);
    return (p->state != MIGR_PAUSE_WATCHING
            || (pass->pass && pass->bytes_per_s && left <= 4 * budget));
}

/* Moves 'p' on after a look at the migration: 'pass' its progress (NULL
 * if this look read none), 'held' whether the switch holds the packets,
 * 'guest_runs' whether the guest still runs here (it has not paused, nor
 * left). */
enum migr_pause_action
migr_pause_run(struct migr_pause *p, const struct migr_pass *pass,
               bool held, bool guest_runs, long long int now)
{
    if (pass && pass->pass != p->pass) {
        p->pass = pass->pass;
        p->pass_seen = now;
    }
    switch (p->state) {
    case MIGR_PAUSE_WATCHING:
        if (pass && due(p, pass, now)) {
            p->state = MIGR_PAUSE_HOLDING;
            p->since = now;
            return MIGR_PAUSE_HOLD;
        }
        break;
    case MIGR_PAUSE_HOLDING:
        if (held || !guest_runs
            || now >= p->since + MIGR_PAUSE_HOLD_TIMEOUT_MS) {
            p->state = MIGR_PAUSE_OPEN;
            p->since = now;
            p->open_pass = p->pass;
            return MIGR_PAUSE_LET_PAUSE;
        }
        break;
    case MIGR_PAUSE_OPEN:
        if (guest_runs && p->pass > p->open_pass) {
            /* QEMU found more to copy than the target allows and began
             * another pass, with the guest running. */
            p->state = MIGR_PAUSE_WATCHING;
            return MIGR_PAUSE_RELEASE;
        }
        break;
    }
    return MIGR_PAUSE_NONE;
}

bool
migr_pause_holding(const struct migr_pause *p)
{
    return p->state != MIGR_PAUSE_WATCHING;
}

/* QEMU's own downtime target: 1 ms keeps it from pausing but for a guest
 * that dirties next to nothing. */
int
migr_pause_qemu_target_ms(const struct migr_pause *p)
{
    return p->state == MIGR_PAUSE_OPEN ? p->target_ms : 1;
}
