/* Unit tests of when a migrating guest makes its last pause
 * (migrator/pause.c): QEMU is kept from pausing until the network holds
 * the guest's packets, then let pause; a pass that finds more to copy than
 * the target allows gives the packets back to the guest. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "migrator/pause.h"
#include "util.h"

#define MB (1024 * 1024)
#define TARGET_MS 300

/* A pass at 100 MB/s: the target allows 30 MB. */
static struct migr_pass
pass(uint64_t n, uint64_t remaining_mb, uint64_t dirty_mb_per_s)
{
    return (struct migr_pass) {
        .pass = n,
        .remaining = remaining_mb * MB,
        .dirty_per_s = dirty_mb_per_s * MB,
        .bytes_per_s = 100 * MB,
    };
}

static void
test_qemu_kept_from_pausing_until_held(void **state OVS_UNUSED)
{
    struct migr_pause p;
    migr_pause_init(&p, TARGET_MS);
    assert_int_equal(migr_pause_qemu_target_ms(&p), 1);
    assert_false(migr_pause_holding(&p));

    struct migr_pass far = pass(1, 500, 0);
    assert_int_equal(migr_pause_run(&p, &far, false, true, 0),
                     MIGR_PAUSE_NONE);
    assert_false(migr_pause_near(&p, &far, 0));

    struct migr_pass near = pass(1, 100, 0);
    assert_int_equal(migr_pause_run(&p, &near, false, true, 4000),
                     MIGR_PAUSE_NONE);
    assert_true(migr_pause_near(&p, &near, 4000));

    /* The end of the first pass comes within the target. */
    struct migr_pass due = pass(1, 29, 0);
    assert_int_equal(migr_pause_run(&p, &due, false, true, 4700),
                     MIGR_PAUSE_HOLD);
    assert_true(migr_pause_holding(&p));
    assert_int_equal(migr_pause_qemu_target_ms(&p), 1);

    /* No pause until the switch has the hold. */
    assert_int_equal(migr_pause_run(&p, NULL, false, true, 4720),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_qemu_target_ms(&p), 1);
    assert_int_equal(migr_pause_run(&p, NULL, true, true, 4740),
                     MIGR_PAUSE_LET_PAUSE);
    assert_int_equal(migr_pause_qemu_target_ms(&p), TARGET_MS);
    assert_true(migr_pause_holding(&p));

    /* QEMU paused: its last pass counts as another, the hold stays. */
    struct migr_pass last = pass(2, 3, 4);
    assert_int_equal(migr_pause_run(&p, &last, true, false, 4800),
                     MIGR_PAUSE_NONE);
    assert_true(migr_pause_holding(&p));
    assert_int_equal(migr_pause_qemu_target_ms(&p), TARGET_MS);
}

static void
test_another_pass_releases_the_hold(void **state OVS_UNUSED)
{
    struct migr_pause p;
    migr_pause_init(&p, TARGET_MS);
    struct migr_pass due = pass(1, 20, 0);
    assert_int_equal(migr_pause_run(&p, &due, false, true, 0),
                     MIGR_PAUSE_HOLD);
    assert_int_equal(migr_pause_run(&p, NULL, true, true, 30),
                     MIGR_PAUSE_LET_PAUSE);

    /* The first pass left 60 MB dirty: QEMU went on, the guest runs. */
    struct migr_pass second = pass(2, 60, 40);
    assert_int_equal(migr_pause_run(&p, &second, true, true, 250),
                     MIGR_PAUSE_RELEASE);
    assert_false(migr_pause_holding(&p));
    assert_int_equal(migr_pause_qemu_target_ms(&p), 1);

    /* From the second pass on the dirty rate counts: 10 MB left, but
     * 40 MB/s dirtied for 600 ms since the pass began is 34 MB. */
    struct migr_pass later = pass(2, 10, 40);
    assert_int_equal(migr_pause_run(&p, &later, false, true, 850),
                     MIGR_PAUSE_NONE);
    assert_true(migr_pause_near(&p, &later, 850));
    /* A new pass: what it left, 25 MB, fits. */
    struct migr_pass third = pass(3, 25, 40);
    assert_int_equal(migr_pause_run(&p, &third, false, true, 900),
                     MIGR_PAUSE_HOLD);
}

static void
test_no_hold_in_time_lets_qemu_pause(void **state OVS_UNUSED)
{
    struct migr_pause p;
    migr_pause_init(&p, TARGET_MS);
    struct migr_pass due = pass(1, 10, 0);
    assert_int_equal(migr_pause_run(&p, &due, false, true, 0),
                     MIGR_PAUSE_HOLD);
    assert_int_equal(migr_pause_run(&p, NULL, false, true,
                                    MIGR_PAUSE_HOLD_TIMEOUT_MS - 1),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(&p, NULL, false, true,
                                    MIGR_PAUSE_HOLD_TIMEOUT_MS),
                     MIGR_PAUSE_LET_PAUSE);
    assert_int_equal(migr_pause_qemu_target_ms(&p), TARGET_MS);
}

static void
test_qemu_paused_on_its_own(void **state OVS_UNUSED)
{
    /* A guest that dirties next to nothing meets even the 1 ms target:
     * QEMU pauses it while the hold is on its way. */
    struct migr_pause p;
    migr_pause_init(&p, TARGET_MS);
    struct migr_pass due = pass(1, 10, 0);
    assert_int_equal(migr_pause_run(&p, &due, false, true, 0),
                     MIGR_PAUSE_HOLD);
    assert_int_equal(migr_pause_run(&p, NULL, false, false, 20),
                     MIGR_PAUSE_LET_PAUSE);
    assert_true(migr_pause_holding(&p));
}

static void
test_nothing_due_without_a_rate(void **state OVS_UNUSED)
{
    struct migr_pause p;
    migr_pause_init(&p, TARGET_MS);
    struct migr_pass unknown = pass(1, 1, 0);
    unknown.bytes_per_s = 0;
    assert_int_equal(migr_pause_run(&p, &unknown, false, true, 0),
                     MIGR_PAUSE_NONE);
    /* Disks still copying: memory has not begun to move. */
    struct migr_pass disks = pass(0, 0, 0);
    assert_int_equal(migr_pause_run(&p, &disks, false, true, 10),
                     MIGR_PAUSE_NONE);
    assert_false(migr_pause_near(&p, &disks, 10));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_kept_from_pausing_until_held),
        cmocka_unit_test(test_another_pass_releases_the_hold),
        cmocka_unit_test(test_no_hold_in_time_lets_qemu_pause),
        cmocka_unit_test(test_qemu_paused_on_its_own),
        cmocka_unit_test(test_nothing_due_without_a_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
