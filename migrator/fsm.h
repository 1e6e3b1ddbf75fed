/* The state machine of one migration.
 *
 *   queued -> preparing -> [storage ->] memory -> switchover -> cleanup
 *          -> done
 *
 * "storage" only for shared-nothing migrations (disks copied).  Any failure
 * or cancel before the VM resumes on the destination leads to rolling-back
 * and then failed or cancelled: the VM keeps running on the source.  Once
 * it has resumed on the destination there is no way back: a failure in
 * cleanup is reported but the migration is done.  Pure logic, no I/O. */

#ifndef MIGRATOR_FSM_H
#define MIGRATOR_FSM_H 1

#include <stdbool.h>

enum migr_state {
    MIGR_QUEUED,
    MIGR_PREPARING,
    MIGR_STORAGE,
    MIGR_MEMORY,
    MIGR_SWITCHOVER,
    MIGR_CLEANUP,
    MIGR_DONE,
    MIGR_ROLLING_BACK,
    MIGR_FAILED,
    MIGR_CANCELLED,
    MIGR_N_STATES
};

enum migr_event {
    MIGR_EV_START,              /* The scheduler lets it run. */
    MIGR_EV_PREPARED,           /* Destination ready. */
    MIGR_EV_STORAGE_DONE,       /* Disks mirrored. */
    MIGR_EV_MEMORY_DONE,        /* Remaining dirty memory fits downtime. */
    MIGR_EV_RESUMED,            /* VM runs on the destination. */
    MIGR_EV_CLEANED,            /* Source side removed. */
    MIGR_EV_FAILED,             /* Anything broke. */
    MIGR_EV_CANCEL,             /* The operator asked. */
    MIGR_EV_ROLLED_BACK,        /* Destination side removed. */
    MIGR_N_EVENTS
};

const char *migr_state_name(enum migr_state);
bool migr_state_from_name(const char *, enum migr_state *);
const char *migr_event_name(enum migr_event);

bool migr_state_is_final(enum migr_state);
bool migr_state_is_active(enum migr_state);
bool migr_state_is_under_way(enum migr_state);
bool migr_state_vm_on_destination(enum migr_state);

/* What the state machine needs to know about a migration. */
struct migr_flags {
    bool copy_storage;          /* Shared-nothing: a storage phase. */
    bool cancel_requested;      /* A rollback ends in "cancelled". */
};

/* The state after 'event' in 'state', or 'state' itself with '*errorp' set
 * if the event is not valid there. */
enum migr_state migr_next(enum migr_state, enum migr_event,
                          const struct migr_flags *, char **errorp);

/* Progress to report for 'state' in percent (phases weighted roughly by
 * how long they take); 'fraction' is the progress within the phase. */
int migr_progress(enum migr_state, bool copy_storage, double fraction);

#endif /* migrator/fsm.h */
