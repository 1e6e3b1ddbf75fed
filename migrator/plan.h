/* Where a plan stands (a drain or a footprint evacuation: one item per
 * VM), from where each of its VMs' migrations stands.  Pure.
 *
 * An item is blocked when no host could take its VM (or its VM cannot be
 * migrated live), queued or moving while its migration is, and done,
 * failed or cancelled as its migration ended.  A plan runs while any of
 * its items is queued or moving; then it is done if every item is,
 * cancelled if an operator cancelled it, and blocked otherwise: a VM that
 * cannot move never makes a plan wait forever. */

#ifndef MIGRATOR_PLAN_H
#define MIGRATOR_PLAN_H 1

#include <stdbool.h>
#include <stddef.h>

#include "migrator/fsm.h"

enum migr_item_state {
    MIGR_ITEM_BLOCKED,
    MIGR_ITEM_QUEUED,
    MIGR_ITEM_MOVING,
    MIGR_ITEM_DONE,
    MIGR_ITEM_FAILED,
    MIGR_ITEM_CANCELLED,
    MIGR_N_ITEM_STATES
};

enum migr_item_state migr_item_state(bool has_migration,
                                     enum migr_state migration);
const char *migr_item_state_name(enum migr_item_state);

const char *migr_plan_state(const size_t counts[MIGR_N_ITEM_STATES],
                            bool cancel_requested);
bool migr_plan_is_over(const size_t counts[MIGR_N_ITEM_STATES]);

#endif /* migrator/plan.h */
