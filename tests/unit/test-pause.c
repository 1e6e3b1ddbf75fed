/* Unit tests of when a migrating guest makes its last pause
 * (migrator/pause.c): QEMU is kept from pausing until the network holds
 * the guest's packets, then let pause; a pass that finds more to copy than
 * the target allows gives the packets back to the guest and leaves the
 * pause to QEMU. */

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

/* A first pass with 100 MB left: within the 30 MB the target allows and
 * the 120 MB of the first pass's lead, so the hold is asked for. */
static void
start_holding(struct migr_pause *p)
{
    migr_pause_init(p, TARGET_MS);
    struct migr_pass first = pass(1, 100, 0);
    assert_int_equal(migr_pause_run(p, &first, false, true, 0),
                     MIGR_PAUSE_HOLD);
    assert_true(migr_pause_holding(p));
    assert_int_equal(migr_pause_qemu_target_ms(p), 1);
}

/* When let_pause() gives QEMU the real target. */
#define OPEN_AT (30 + MIGR_PAUSE_SETTLE_MS)

/* That, then the switch has the hold at 30 ms, and QEMU gets the real
 * target once the datapath has had the time to take it up. */
static void
let_pause(struct migr_pause *p)
{
    start_holding(p);
    assert_int_equal(migr_pause_run(p, NULL, true, true, 30),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(p, NULL, true, true, OPEN_AT - 1),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(p, NULL, true, true, OPEN_AT),
                     MIGR_PAUSE_LET_PAUSE);
    assert_int_equal(migr_pause_qemu_target_ms(p), TARGET_MS);
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

    struct migr_pass near = pass(1, 200, 0);
    assert_int_equal(migr_pause_run(&p, &near, false, true, 3000),
                     MIGR_PAUSE_NONE);
    assert_true(migr_pause_near(&p, &near, 3000));

    /* The first pass has 150 MB left, 1.5 s at 100 MB/s: the hold, with
     * 1.2 s to spare. */
    struct migr_pass due = pass(1, 150, 0);
    assert_int_equal(migr_pause_run(&p, &due, false, true, 3800),
                     MIGR_PAUSE_HOLD);
    assert_true(migr_pause_holding(&p));
    assert_int_equal(migr_pause_qemu_target_ms(&p), 1);

    /* QEMU gets the real target once the switch has had the hold for
     * a moment. */
    assert_int_equal(migr_pause_run(&p, NULL, false, true, 3820),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_qemu_target_ms(&p), 1);
    assert_int_equal(migr_pause_run(&p, NULL, true, true, 3840),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(&p, NULL, true, true,
                                    3840 + MIGR_PAUSE_SETTLE_MS - 1),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(&p, NULL, true, true,
                                    3840 + MIGR_PAUSE_SETTLE_MS),
                     MIGR_PAUSE_LET_PAUSE);
    assert_int_equal(migr_pause_qemu_target_ms(&p), TARGET_MS);
    assert_true(migr_pause_holding(&p));

    /* QEMU paused: its last look counts as another pass; the hold
     * stays. */
    struct migr_pass last = pass(2, 3, 4);
    assert_int_equal(migr_pause_run(&p, &last, true, false, 4300),
                     MIGR_PAUSE_NONE);
    assert_true(migr_pause_holding(&p));
}

static void
test_another_pass_leaves_it_to_qemu(void **state OVS_UNUSED)
{
    struct migr_pause p;
    let_pause(&p);

    /* QEMU may end the first pass before it takes the new target up. */
    struct migr_pass second = pass(2, 60, 40);
    assert_int_equal(migr_pause_run(&p, &second, true, true, OPEN_AT + 50),
                     MIGR_PAUSE_NONE);
    struct migr_pass later = pass(2, 50, 40);
    assert_int_equal(migr_pause_run(&p, &later, true, true, OPEN_AT + 200),
                     MIGR_PAUSE_NONE);
    assert_true(migr_pause_holding(&p));

    /* With it, QEMU found too much and went on: the guest still runs in
     * the next pass 100 ms later. */
    struct migr_pass third = pass(3, 40, 40);
    assert_int_equal(migr_pause_run(&p, &third, true, true, OPEN_AT + 250),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(&p, NULL, true, true, OPEN_AT + 349),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(&p, NULL, true, true, OPEN_AT + 350),
                     MIGR_PAUSE_RELEASE);
    assert_false(migr_pause_holding(&p));
    assert_int_equal(migr_pause_qemu_target_ms(&p), TARGET_MS);

    /* QEMU pauses the guest when it will: no second hold. */
    struct migr_pass fits = pass(4, 1, 0);
    assert_int_equal(migr_pause_run(&p, &fits, false, true, 500),
                     MIGR_PAUSE_NONE);
    assert_false(migr_pause_near(&p, &fits, 500));
}

static void
test_a_pass_counted_at_the_pause_keeps_the_hold(void **state OVS_UNUSED)
{
    /* QEMU counts a pass as it takes the dirty pages for its last look,
     * a moment before the guest stops. */
    struct migr_pause p;
    let_pause(&p);
    struct migr_pass last = pass(2, 1, 4);
    assert_int_equal(migr_pause_run(&p, &last, true, true, OPEN_AT + 250),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(&p, NULL, true, false, OPEN_AT + 270),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(&p, NULL, true, false, OPEN_AT + 450),
                     MIGR_PAUSE_NONE);
    assert_true(migr_pause_holding(&p));
}

static void
test_no_pause_in_time_releases_the_hold(void **state OVS_UNUSED)
{
    struct migr_pause p;
    let_pause(&p);
    assert_int_equal(migr_pause_run(&p, NULL, true, true,
                                    OPEN_AT + MIGR_PAUSE_OPEN_TIMEOUT_MS - 1),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(&p, NULL, true, true,
                                    OPEN_AT + MIGR_PAUSE_OPEN_TIMEOUT_MS),
                     MIGR_PAUSE_RELEASE);
    assert_false(migr_pause_holding(&p));
}

static void
test_later_passes_count_what_the_guest_dirtied(void **state OVS_UNUSED)
{
    struct migr_pause p;
    migr_pause_init(&p, TARGET_MS);
    /* 60 MB: more than the 30 MB the target allows, but near. */
    struct migr_pass second = pass(2, 60, 40);
    assert_int_equal(migr_pause_run(&p, &second, false, true, 0),
                     MIGR_PAUSE_NONE);
    assert_true(migr_pause_near(&p, &second, 0));
    /* 10 MB left, but 40 MB/s dirtied for the 600 ms since the pass
     * began: 34 MB. */
    struct migr_pass later = pass(2, 10, 40);
    assert_int_equal(migr_pause_run(&p, &later, false, true, 600),
                     MIGR_PAUSE_NONE);
    /* A new pass: what it has to copy, 25 MB, fits. */
    struct migr_pass third = pass(3, 25, 40);
    assert_int_equal(migr_pause_run(&p, &third, false, true, 650),
                     MIGR_PAUSE_HOLD);
}

static void
test_no_hold_in_time_lets_qemu_pause(void **state OVS_UNUSED)
{
    struct migr_pause p;
    start_holding(&p);
    assert_int_equal(migr_pause_run(&p, NULL, false, true,
                                    MIGR_PAUSE_HOLD_TIMEOUT_MS - 1),
                     MIGR_PAUSE_NONE);
    assert_int_equal(migr_pause_run(&p, NULL, false, true,
                                    MIGR_PAUSE_HOLD_TIMEOUT_MS),
                     MIGR_PAUSE_LET_PAUSE);
    assert_int_equal(migr_pause_qemu_target_ms(&p), TARGET_MS);
}

static void
test_no_hold_by_the_pass_end_lets_qemu_pause(void **state OVS_UNUSED)
{
    /* With its 1 ms target, QEMU would go on pass after pass. */
    struct migr_pause p;
    start_holding(&p);
    struct migr_pass second = pass(2, 3, 4);
    assert_int_equal(migr_pause_run(&p, &second, false, true, 100),
                     MIGR_PAUSE_LET_PAUSE);
    assert_int_equal(migr_pause_qemu_target_ms(&p), TARGET_MS);
}

static void
test_qemu_paused_on_its_own(void **state OVS_UNUSED)
{
    /* A guest that dirties next to nothing meets even the 1 ms target:
     * QEMU pauses it while the hold is on its way. */
    struct migr_pause p;
    start_holding(&p);
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
        cmocka_unit_test(test_another_pass_leaves_it_to_qemu),
        cmocka_unit_test(test_a_pass_counted_at_the_pause_keeps_the_hold),
        cmocka_unit_test(test_no_pause_in_time_releases_the_hold),
        cmocka_unit_test(test_later_passes_count_what_the_guest_dirtied),
        cmocka_unit_test(test_no_hold_in_time_lets_qemu_pause),
        cmocka_unit_test(test_no_hold_by_the_pass_end_lets_qemu_pause),
        cmocka_unit_test(test_qemu_paused_on_its_own),
        cmocka_unit_test(test_nothing_due_without_a_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
