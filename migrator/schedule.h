/* The migration queue: which queued migrations may start now.
 *
 * As Hyper-V does it: a host runs at most max_migrations migrations at once
 * (incoming and outgoing), storage migrations also count against
 * max_storage_migrations, and for a pair of hosts the lower of the two
 * limits holds.  The rest wait in the order they were queued: once a
 * migration must wait, later ones that involve either of its hosts wait
 * behind it, so none starves.  Pure logic, no I/O. */

#ifndef MIGRATOR_SCHEDULE_H
#define MIGRATOR_SCHEDULE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrator/fsm.h"

struct migr_host_limits {
    const char *name;
    int64_t max_migrations;
    int64_t max_storage_migrations;
};

struct migr_entry {
    const char *source;
    const char *destination;    /* NULL: not chosen yet; cannot start. */
    bool copy_storage;
    enum migr_state state;
    int64_t queued_at;          /* Ties broken by position. */
    bool start;                 /* Output: may start now. */
};

#define MIGR_DEFAULT_MAX_MIGRATIONS 2
#define MIGR_DEFAULT_MAX_STORAGE_MIGRATIONS 1

size_t migr_schedule(struct migr_entry *, size_t n,
                     const struct migr_host_limits *, size_t n_hosts);

#endif /* migrator/schedule.h */
