#include <config.h>

#include "migrator/fsm.h"

#include <string.h>

#include "util.h"

static const char *const state_names[MIGR_N_STATES] = {
    [MIGR_QUEUED] = "queued",
    [MIGR_PREPARING] = "preparing",
    [MIGR_STORAGE] = "storage",
    [MIGR_MEMORY] = "memory",
    [MIGR_SWITCHOVER] = "switchover",
    [MIGR_CLEANUP] = "cleanup",
    [MIGR_DONE] = "done",
    [MIGR_ROLLING_BACK] = "rolling-back",
    [MIGR_FAILED] = "failed",
    [MIGR_CANCELLED] = "cancelled",
};

static const char *const event_names[MIGR_N_EVENTS] = {
    [MIGR_EV_START] = "start",
    [MIGR_EV_PREPARED] = "prepared",
    [MIGR_EV_STORAGE_DONE] = "storage-done",
    [MIGR_EV_MEMORY_DONE] = "memory-done",
    [MIGR_EV_RESUMED] = "resumed",
    [MIGR_EV_CLEANED] = "cleaned",
    [MIGR_EV_FAILED] = "failed",
    [MIGR_EV_CANCEL] = "cancel",
    [MIGR_EV_ROLLED_BACK] = "rolled-back",
};

const char *
migr_state_name(enum migr_state s)
{
    return s < MIGR_N_STATES ? state_names[s] : "?";
}

bool
migr_state_from_name(const char *name, enum migr_state *s)
{
    for (int i = 0; i < MIGR_N_STATES; i++) {
        if (!strcmp(name, state_names[i])) {
            *s = i;
            return true;
        }
    }
    return false;
}

const char *
migr_event_name(enum migr_event e)
{
    return e < MIGR_N_EVENTS ? event_names[e] : "?";
}

bool
migr_state_is_final(enum migr_state s)
{
    return s == MIGR_DONE || s == MIGR_FAILED || s == MIGR_CANCELLED;
}

/* Counts against the hosts' limits. */
bool
migr_state_is_active(enum migr_state s)
{
    return s != MIGR_QUEUED && !migr_state_is_final(s);
}

/* Active and not rolling back: the VM is on its way to the destination. */
bool
migr_state_is_under_way(enum migr_state s)
{
    return migr_state_is_active(s) && s != MIGR_ROLLING_BACK;
}

/* True once the VM runs on the destination (no rollback possible). */
bool
migr_state_vm_on_destination(enum migr_state s)
{
    return s == MIGR_CLEANUP || s == MIGR_DONE;
}

enum migr_state
migr_next(enum migr_state s, enum migr_event e,
          const struct migr_flags *flags, char **errorp)
{
    *errorp = NULL;
    switch (e) {
    case MIGR_EV_START:
        if (s == MIGR_QUEUED) {
            return MIGR_PREPARING;
        }
        break;
    case MIGR_EV_PREPARED:
        if (s == MIGR_PREPARING) {
            return flags->copy_storage ? MIGR_STORAGE : MIGR_MEMORY;
        }
        break;
    case MIGR_EV_STORAGE_DONE:
        if (s == MIGR_STORAGE) {
            return MIGR_MEMORY;
        }
        break;
    case MIGR_EV_MEMORY_DONE:
        if (s == MIGR_MEMORY) {
            return MIGR_SWITCHOVER;
        }
        break;
    case MIGR_EV_RESUMED:
        /* libvirt may finish the whole memory phase between two polls. */
        if (s == MIGR_SWITCHOVER || s == MIGR_MEMORY) {
            return MIGR_CLEANUP;
        }
        break;
    case MIGR_EV_CLEANED:
        if (s == MIGR_CLEANUP) {
            return MIGR_DONE;
        }
        break;
    case MIGR_EV_FAILED:
    case MIGR_EV_CANCEL:
        if (s == MIGR_QUEUED) {
            return e == MIGR_EV_CANCEL ? MIGR_CANCELLED : MIGR_FAILED;
        }
        if (s == MIGR_CLEANUP) {
            /* The VM runs on the destination already: it stays there. */
            return MIGR_DONE;
        }
        if (migr_state_is_under_way(s)) {
            return MIGR_ROLLING_BACK;
        }
        break;
    case MIGR_EV_ROLLED_BACK:
        if (s == MIGR_ROLLING_BACK) {
            return flags->cancel_requested ? MIGR_CANCELLED : MIGR_FAILED;
        }
        break;
    case MIGR_N_EVENTS:
    default:
        break;
    }
    *errorp = xasprintf("event %s is not valid in state %s",
                        migr_event_name(e), migr_state_name(s));
    return s;
}

int
migr_progress(enum migr_state s, bool copy_storage, double fraction)
{
    /* Where each phase starts, in percent. */
    int start, end;
    fraction = !(fraction >= 0) ? 0 : fraction > 1 ? 1 : fraction;
    switch (s) {
    case MIGR_QUEUED: return 0;
    case MIGR_PREPARING: start = 0; end = 5; break;
    case MIGR_STORAGE: start = 5; end = 50; break;
    case MIGR_MEMORY: start = copy_storage ? 50 : 5; end = 95; break;
    case MIGR_SWITCHOVER: start = 95; end = 98; break;
    case MIGR_CLEANUP: start = 98; end = 100; break;
    case MIGR_DONE: return 100;
    case MIGR_ROLLING_BACK:
    case MIGR_FAILED:
    case MIGR_CANCELLED:
    case MIGR_N_STATES:
    default:
        return 0;
    }
    return start + (int) ((end - start) * fraction);
}
