#include <config.h>

#include "migrator/plan.h"

static const char *const item_names[MIGR_N_ITEM_STATES] = {
    [MIGR_ITEM_BLOCKED] = "blocked",
    [MIGR_ITEM_QUEUED] = "queued",
    [MIGR_ITEM_MOVING] = "moving",
    [MIGR_ITEM_DONE] = "done",
    [MIGR_ITEM_FAILED] = "failed",
    [MIGR_ITEM_CANCELLED] = "cancelled",
};

/* The state of an item whose VM's migration is in state 'migration', if
 * it has one. */
enum migr_item_state
migr_item_state(bool has_migration, enum migr_state migration)
{
    if (!has_migration) {
        return MIGR_ITEM_BLOCKED;
    }
    switch (migration) {
    case MIGR_QUEUED:
        return MIGR_ITEM_QUEUED;
    case MIGR_DONE:
        return MIGR_ITEM_DONE;
    case MIGR_FAILED:
        return MIGR_ITEM_FAILED;
    case MIGR_CANCELLED:
        return MIGR_ITEM_CANCELLED;
    default:
        return MIGR_ITEM_MOVING;
    }
}

const char *
migr_item_state_name(enum migr_item_state s)
{
    return item_names[s];
}

bool
migr_plan_is_over(const size_t counts[MIGR_N_ITEM_STATES])
{
    return !counts[MIGR_ITEM_QUEUED] && !counts[MIGR_ITEM_MOVING];
}

const char *
migr_plan_state(const size_t counts[MIGR_N_ITEM_STATES],
                bool cancel_requested)
{
    size_t n = 0;
    for (int i = 0; i < MIGR_N_ITEM_STATES; i++) {
        n += counts[i];
    }
    return (!migr_plan_is_over(counts) ? "running"
            : cancel_requested ? "cancelled"
            : counts[MIGR_ITEM_DONE] == n ? "done"
            : "blocked");
}
