#include <config.h>

#include "migrator/pause.h"

/* Starts 'p' for a migration whose downtime target is 'target_ms'. */
void
migr_pause_init(struct migr_pause *p, int target_ms)
{
    *p = (struct migr_pause) { .target_ms = target_ms };
}

/* In the first pass, how much sooner than the target allows the hold is
 * asked for, in ms of copying (see pause.h). */
#define FIRST_PASS_LEAD_MS 1200

/* How long QEMU is seen in a later pass, the guest running, before vmroam
 * believes that it went on: QEMU counts a pass as it takes the dirty pages
 * for its last look, just before it pauses the guest. */
#define WENT_ON_MS 100

/* Whether what is left to copy is within what the target allows ('times'
 * times that, and in the first pass the lead more). */
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
    uint64_t ms = p->target_ms + (pass->pass == 1 ? FIRST_PASS_LEAD_MS : 0);
    return left <= times * (pass->bytes_per_s * ms / 1000);
}

/* Whether the moment is near enough to look often (every few tens of ms
 * rather than a few times a second). */
bool
migr_pause_near(const struct migr_pause *p, const struct migr_pass *pass,
                long long int now)
{
    return (migr_pause_holding(p)
            || (p->state == MIGR_PAUSE_WATCHING && fits(p, pass, now, 2)));
}

/* Moves 'p' to 'state' at 'now', in the pass QEMU is in. */
static void
enter(struct migr_pause *p, enum migr_pause_state state, long long int now)
{
    p->state = state;
    p->since = now;
    p->open_pass = p->pass;
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
            enter(p, MIGR_PAUSE_HOLDING, now);
            return MIGR_PAUSE_HOLD;
        }
        break;
    case MIGR_PAUSE_HOLDING:
        if (held && !p->held_at) {
            p->held_at = now;
        }
        /* Without the hold, QEMU is not kept waiting long, nor past the
         * end of the pass: it would go on pass after pass with its 1 ms
         * target. */
        if ((p->held_at && now >= p->held_at + MIGR_PAUSE_SETTLE_MS)
            || !guest_runs || p->pass > p->open_pass
            || now >= p->since + MIGR_PAUSE_HOLD_TIMEOUT_MS) {
            enter(p, MIGR_PAUSE_OPEN, now);
            return MIGR_PAUSE_LET_PAUSE;
        }
        break;
    case MIGR_PAUSE_OPEN:
        if (now < p->since + MIGR_PAUSE_QEMU_LAG_MS) {
            /* QEMU may still go on with its old target. */
            p->open_pass = p->pass;
        } else if (!guest_runs || p->pass <= p->open_pass) {
            p->went_on_at = 0;
        } else if (!p->went_on_at) {
            p->went_on_at = now;
        }
        if ((p->went_on_at && now >= p->went_on_at + WENT_ON_MS)
            || (guest_runs && now >= p->since + MIGR_PAUSE_OPEN_TIMEOUT_MS)) {
            /* With the real target, QEMU found more to copy than it allows
             * and went on with the guest running, or it still runs. */
            p->state = MIGR_PAUSE_LEFT_TO_QEMU;
            return MIGR_PAUSE_RELEASE;
        }
        break;
    case MIGR_PAUSE_LEFT_TO_QEMU:
        break;
    }
    return MIGR_PAUSE_NONE;
}

/* Whether the packets are to be held now. */
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
