/* Unit tests of a plan's progress (migrator/plan.c): each VM's item from
 * its migration, and the plan's state from its items. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "migrator/plan.h"
#include "util.h"

static void
test_item_follows_its_migration(void **state OVS_UNUSED)
{
    assert_int_equal(migr_item_state(false, MIGR_QUEUED), MIGR_ITEM_BLOCKED);
    assert_int_equal(migr_item_state(true, MIGR_QUEUED), MIGR_ITEM_QUEUED);
    for (enum migr_state s = MIGR_PREPARING; s <= MIGR_CLEANUP; s++) {
        assert_int_equal(migr_item_state(true, s), MIGR_ITEM_MOVING);
    }
    assert_int_equal(migr_item_state(true, MIGR_ROLLING_BACK),
                     MIGR_ITEM_MOVING);
    assert_int_equal(migr_item_state(true, MIGR_DONE), MIGR_ITEM_DONE);
    assert_int_equal(migr_item_state(true, MIGR_FAILED), MIGR_ITEM_FAILED);
    assert_int_equal(migr_item_state(true, MIGR_CANCELLED),
                     MIGR_ITEM_CANCELLED);
    assert_string_equal(migr_item_state_name(MIGR_ITEM_BLOCKED), "blocked");
}

/* A plan runs while anything is queued or moving, and then never waits
 * on a VM that cannot move: it ends blocked. */
static void
test_plan_state(void **state OVS_UNUSED)
{
    size_t c[MIGR_N_ITEM_STATES] = { 0 };
    c[MIGR_ITEM_DONE] = 3;
    assert_string_equal(migr_plan_state(c, false), "done");
    assert_true(migr_plan_is_over(c));

    c[MIGR_ITEM_BLOCKED] = 1;
    assert_string_equal(migr_plan_state(c, false), "blocked");

    c[MIGR_ITEM_QUEUED] = 1;
    assert_string_equal(migr_plan_state(c, false), "running");
    assert_string_equal(migr_plan_state(c, true), "running");
    assert_false(migr_plan_is_over(c));

    memset(c, 0, sizeof c);
    c[MIGR_ITEM_MOVING] = 1;
    assert_string_equal(migr_plan_state(c, false), "running");
    c[MIGR_ITEM_MOVING] = 0;
    c[MIGR_ITEM_CANCELLED] = 2;
    c[MIGR_ITEM_DONE] = 1;
    assert_string_equal(migr_plan_state(c, true), "cancelled");
    assert_string_equal(migr_plan_state(c, false), "blocked");

    memset(c, 0, sizeof c);
    assert_string_equal(migr_plan_state(c, false), "done");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_follows_its_migration),
        cmocka_unit_test(test_plan_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
