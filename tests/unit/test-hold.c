/* Unit tests for overlay/hold.c: a hold's flows, and the flows that count
 * it, through its start, its end, a full translation and its settling. */

#include <config.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "openvswitch/hmap.h"
#include "overlay/desired.h"
#include "overlay/flow.h"
#include "overlay/hold.h"
#include "overlay/pipeline.h"
#include "util.h"

/* The flows of 'd' in 'table' at the hold's priority. */
static size_t
n_hold_flows(const struct overlay_desired *d, enum overlay_table table)
{
    size_t n = 0;
    const struct overlay_flow *f;
    HMAP_FOR_EACH (f, node, &d->flows) {
        n += f->table_id == table && f->priority == 127;
    }
    return n;
}

static const struct overlay_redirect nics[] = {
    { 5001, "02:00:00:00:50:01", "10.0.2.11" },
    { 5002, "02:00:00:00:50:02", "10.0.2.11" },
};

/* A hold sends both NICs' packets on and counts them; when it ends, only
 * the counting flows stay, until they settle OVERLAY_HOLD_SETTLE_MS
 * later, in the request the caller gives. */
static void
test_hold_ends_then_settles(void **state OVS_UNUSED)
{
    struct overlay_desired d;
    overlay_desired_init(&d);
    struct overlay_holds *h = overlay_holds_create();

    assert_true(overlay_holds_next_wake(h) == LLONG_MAX);
    overlay_holds_start(h, &d, 1, "web-1", nics, 2);
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_FORWARD), 2);
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_HELD), 2);
    assert_true(overlay_holds_next_wake(h) == LLONG_MAX);
    assert_false(overlay_holds_settle(h, &d, 1000000, 7));

    overlay_holds_end(h, &d, "web-1", 1000);
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_FORWARD), 0);
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_HELD), 2);
    assert_true(overlay_holds_next_wake(h) == 1000 + OVERLAY_HOLD_SETTLE_MS);

    assert_false(overlay_holds_settle(h, &d, 999 + OVERLAY_HOLD_SETTLE_MS,
                                      7));
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_HELD), 2);
    assert_true(overlay_holds_settle(h, &d, 1000 + OVERLAY_HOLD_SETTLE_MS,
                                     7));
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_HELD), 0);
    assert_true(overlay_holds_next_wake(h)
                == 1000 + OVERLAY_HOLD_SETTLE_MS + OVERLAY_HOLD_REPORT_MS);
    assert_false(overlay_holds_settle(h, &d, 1000000, 8));

    overlay_holds_destroy(h);
    overlay_desired_destroy(&d);
}

/* A full translation starts from no flows: the holds come back from what
 * they remember, a hold that ended with its counting flows only, and one
 * whose counting flows settled not at all. */
static void
test_hold_reapplied_after_full_translation(void **state OVS_UNUSED)
{
    struct overlay_desired d;
    overlay_desired_init(&d);
    struct overlay_holds *h = overlay_holds_create();

    overlay_holds_start(h, &d, 1, "web-1", nics, 1);
    overlay_holds_start(h, &d, 1, "web-2", nics + 1, 1);
    overlay_holds_start(h, &d, 1, "web-3", nics, 0);
    overlay_holds_end(h, &d, "web-2", 1000);
    overlay_desired_clear(&d);
    overlay_holds_reapply(h, &d, 1);
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_FORWARD), 1);
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_HELD), 2);

    assert_true(overlay_holds_settle(h, &d, 1000 + OVERLAY_HOLD_SETTLE_MS,
                                     3));
    overlay_desired_clear(&d);
    overlay_holds_reapply(h, &d, 1);
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_FORWARD), 1);
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_HELD), 1);

    overlay_holds_destroy(h);
    overlay_desired_destroy(&d);
}

/* A hold that begins again before its counting flows settled keeps them:
 * its end and its settling start afresh. */
static void
test_hold_again_before_it_settled(void **state OVS_UNUSED)
{
    struct overlay_desired d;
    overlay_desired_init(&d);
    struct overlay_holds *h = overlay_holds_create();

    overlay_holds_start(h, &d, 1, "web-1", nics, 1);
    overlay_holds_end(h, &d, "web-1", 1000);
    overlay_holds_start(h, &d, 1, "web-1", nics, 1);
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_FORWARD), 1);
    assert_int_equal(n_hold_flows(&d, OVERLAY_T_HELD), 1);
    assert_false(overlay_holds_settle(h, &d, 1000000, 4));
    assert_true(overlay_holds_next_wake(h) == LLONG_MAX);

    overlay_holds_destroy(h);
    overlay_desired_destroy(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hold_ends_then_settles),
        cmocka_unit_test(test_hold_reapplied_after_full_translation),
        cmocka_unit_test(test_hold_again_before_it_settled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
