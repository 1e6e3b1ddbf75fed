/* When a migrating guest makes its last pause.
 *
 * QEMU pauses a guest for its switchover at the first moment that what is
 * left to copy fits the downtime target; whatever reaches the guest's port
 * from then until the network holds its packets is lost.  So vmroam keeps
 * QEMU from pausing (a 1 ms target, which only a guest that dirties next
 * to nothing meets) until the network holds the guest's packets: it
 * watches the migration come near that moment, asks for the hold (the
 * packets go to the destination, whose port keeps them until the guest
 * runs there) and, once the switch has it, gives QEMU the real target.
 * QEMU then pauses the guest when what is left fits, as it would have.
 *
 * In the first pass, how fast the guest dirties memory is not known: the
 * hold is asked for once what is left would take QEMU at most 1.2 s more
 * than the target allows, at the rate it copies.  That leaves time for
 * the switch's acknowledgement and for QEMU to take the new target up (it
 * does when it next measures its bandwidth, up to 100 ms later), even
 * through a run of zero pages, which QEMU skims at many times its copy
 * rate.  From the second pass on, it is asked for once what a pause would
 * leave (what is left, and what the guest dirtied since QEMU last took the
 * dirty pages) fits the target.  Either way the switch's datapath is given
 * 80 ms to take its new flows up before QEMU may pause.
 *
 * If QEMU goes on to another pass instead of pausing (seen for 100 ms,
 * since QEMU counts a pass as it takes the dirty pages for its last look,
 * just before it pauses), or has not paused 3 s after it was let, the guest
 * gets its packets back, and QEMU keeps the real target: from then on it
 * pauses the guest when it will, and the network holds the packets from
 * that pause, as it learns of it.  Keeping QEMU from pausing once more would cost a
 * pass, and every pass past the third risks the guest under QEMU 7.2's TCG
 * (labs/guest/README.md).  vmroam never pauses the guest itself: under
 * that TCG, a guest paused during its migration arrives broken.
 *
 * This file decides; migrator/libvirt.c does what it says. */

#ifndef MIGRATOR_PAUSE_H
#define MIGRATOR_PAUSE_H 1

#include <stdbool.h>
#include <stdint.h>

/* One look at a precopy migration's progress. */
struct migr_pass {
    uint64_t pass;              /* 1 for the first copy of all memory, 0 if
                                 * memory is not moving yet. */
    uint64_t remaining;         /* Bytes left in this pass. */
    uint64_t dirty_per_s;       /* What the guest dirties, bytes a second,
                                 * once a pass has measured it. */
    uint64_t bytes_per_s;       /* How fast QEMU copies, 0 if not known. */
};

enum migr_pause_state {
    MIGR_PAUSE_WATCHING,        /* QEMU kept from pausing. */
    MIGR_PAUSE_HOLDING,         /* The hold is asked for. */
    MIGR_PAUSE_OPEN,            /* QEMU may pause; the hold stays. */
    MIGR_PAUSE_LEFT_TO_QEMU,    /* QEMU went on: it pauses when it will. */
};

struct migr_pause {
    int target_ms;              /* The migration's downtime target. */
    enum migr_pause_state state;
    uint64_t pass;              /* QEMU's pass as last seen... */
    long long int pass_seen;    /* ...since when (ms). */
    long long int since;        /* When 'state' began (ms). */
    long long int held_at;      /* When the switch had the hold, or 0. */
    uint64_t open_pass;         /* The pass in which the hold was asked for,
                                 * then the one in which QEMU was let
                                 * pause. */
    long long int went_on_at;   /* When QEMU was first seen in a later
                                 * pass, the guest running, or 0. */
};

/* What the caller does after migr_pause_run(). */
enum migr_pause_action {
    MIGR_PAUSE_NONE,
    MIGR_PAUSE_HOLD,            /* Ask the network to hold the packets. */
    MIGR_PAUSE_LET_PAUSE,       /* Give QEMU the real target. */
    MIGR_PAUSE_RELEASE,         /* Let the packets go to the guest again. */
};

/* How long vmroam waits for the hold before it lets QEMU pause anyway (a
 * switch or a database that does not answer), unless the pass ends
 * first. */
#define MIGR_PAUSE_HOLD_TIMEOUT_MS 300
/* How long the switch's datapath is given to take the hold up: the
 * switch acknowledges new flows before its datapath stops using the
 * ones it cached, which took up to 40 ms on a busy 2-core host. */
#define MIGR_PAUSE_SETTLE_MS 80
/* How long QEMU may take to come to a new target. */
#define MIGR_PAUSE_QEMU_LAG_MS 150
/* How long the hold stays on, once QEMU may pause, if it does not. */
#define MIGR_PAUSE_OPEN_TIMEOUT_MS 3000

void migr_pause_init(struct migr_pause *, int target_ms);
enum migr_pause_action migr_pause_run(struct migr_pause *,
                                      const struct migr_pass *,
                                      bool held, bool guest_runs,
                                      long long int now);
bool migr_pause_holding(const struct migr_pause *);
int migr_pause_qemu_target_ms(const struct migr_pause *);
bool migr_pause_near(const struct migr_pause *, const struct migr_pass *,
                     long long int now);

#endif /* migrator/pause.h */
