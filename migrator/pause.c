#include <config.h>

#include "migrator/pause.h"

void
migr_pause_init(struct migr_pause *p, int target_ms)
{
    *p = (struct migr_pause) { .target_ms = target_ms };
}

/* Whether what is left to copy is within 'times' what the target allows:
 * in the first pass, 4 times more (see pause.h). */
static bool
fits(const struct migr_pause *p, const struct migr_pass *pass,
     long long int now, uint64_t times)
{
    if (!pass->pass || !pass->bytes_per_s || p->target_ms <= 0) {
        return false;
    }
    /* The pages dirtied since QEMU last took them are not in 'remaining'
     * yet. */
    uint64_t since = now > p->pass_seen ? now - p->pass_seen : 0;
    uint64_t left = pass->remaining + pass->dirty_per_s * since / 1000;
    uint64_t budget = pass->bytes_per_s * p->target_ms / 1000;
    return left <= times * (pass->pass == 1 ? 4 : 1) * budget;
}

/* Whether the moment is near enough to look often (every few tens of ms
 * rather than a few times a second). */
bool
migr_pause_near(const struct migr_pause *p, const struct migr_pass *pass,
                long long int now)
{
    return (p->state == MIGR_PAUSE_HOLDING || p->state == MIGR_PAUSE_OPEN
            || (p->state == MIGR_PAUSE_WATCHING && fits(p, pass, now, 2)));
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
        if (pass && guest_runs && fits(p, pass, now, 1)) {
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
        if (now < p->since + MIGR_PAUSE_QEMU_LAG_MS) {
            /* QEMU may still go on with its old target. */
            p->open_pass = p->pass;
        } else if (guest_runs && p->pass > p->open_pass) {
            /* With the real one, it found more to copy than the target
             * allows, and went on with the guest running. */
            p->state = MIGR_PAUSE_LEFT_TO_QEMU;
            return MIGR_PAUSE_RELEASE;
        }
        break;
    case MIGR_PAUSE_LEFT_TO_QEMU:
        break;
    }
    return MIGR_PAUSE_NONE;
}

bool
migr_pause_holding(const struct migr_pause *p)
{
    return p->state == MIGR_PAUSE_HOLDING || p->state == MIGR_PAUSE_OPEN;
}

/* QEMU's own downtime target: 1 ms keeps it from pausing but for a guest
 * that dirties next to nothing. */
int
migr_pause_qemu_target_ms(const struct migr_pause *p)
{
    return (p->state == MIGR_PAUSE_WATCHING || p->state == MIGR_PAUSE_HOLDING
            ? 1 : p->target_ms);
}
