/* Unit tests of the pure migration logic: the state machine of one
 * migration (migrator/fsm.c) and the queue that decides which migrations
 * may start (migrator/schedule.c).
 *
 * The state machine is checked exhaustively: every (state, event) pair for
 * every combination of flags, against a table written out here rather than
 * derived from the code.  Error messages are compared exactly: they reach
 * the user through "vmroam migrate".
 *
 * The scheduler is checked by simulation: 100 migrations over a few hosts
 * with different limits, driven through the state machine step by step,
 * with the limits and the queue order checked after every step. */

#include <config.h>

#include <stdbool.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "migrator/fsm.h"
#include "migrator/schedule.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Helpers.                                                           */
/* ------------------------------------------------------------------ */

/* The names, written out independently of fsm.c. */
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

static const struct migr_flags all_flags[4] = {
    { .copy_storage = false, .cancel_requested = false },
    { .copy_storage = false, .cancel_requested = true },
    { .copy_storage = true, .cancel_requested = false },
    { .copy_storage = true, .cancel_requested = true },
};

/* Feeds 'e' in 's', expects it to be valid and lead to 'expected'. */
static enum migr_state
step_ok(enum migr_state s, enum migr_event e, const struct migr_flags *flags,
        enum migr_state expected)
{
    char *error = (char *) "not touched";
    enum migr_state next = migr_next(s, e, flags, &error);
    if (error) {
        fail_msg("%s --%s--> unexpected error: %s", state_names[s],
                 event_names[e], error);
    }
    if (next != expected) {
        fail_msg("%s --%s--> %s, expected %s (copy_storage=%d, "
                 "cancel_requested=%d)", state_names[s], event_names[e],
                 next < MIGR_N_STATES ? state_names[next] : "?",
                 state_names[expected], flags->copy_storage,
                 flags->cancel_requested);
    }
    return next;
}

/* Feeds 'e' in 's', expects it to be rejected with the exact message. */
static void
step_invalid(enum migr_state s, enum migr_event e,
             const struct migr_flags *flags)
{
    char *error = NULL;
    enum migr_state next = migr_next(s, e, flags, &error);
    char *expected = xasprintf("event %s is not valid in state %s",
                               event_names[e], state_names[s]);
    if (!error) {
        fail_msg("%s --%s--> %s, expected \"%s\"", state_names[s],
                 event_names[e],
                 next < MIGR_N_STATES ? state_names[next] : "?", expected);
    }
    assert_string_equal(error, expected);
    assert_int_equal(next, s);
    free(expected);
    free(error);
}

/* ------------------------------------------------------------------ */
/* The state machine.                                                 */
/* ------------------------------------------------------------------ */

/* Table cells: a state, or one of these. */
enum {
    X = -1,                     /* Invalid: same state and an error. */
    P = -2,                     /* Storage if copy_storage, else memory. */
    R = -3,                     /* Cancelled if cancel_requested, else
                                 * failed. */
};

#define ROW(START, PREPARED, STORAGE_DONE, MEMORY_DONE, RESUMED, CLEANED, \
            FAILED, CANCEL, ROLLED_BACK)                                  \
    { [MIGR_EV_START] = START, [MIGR_EV_PREPARED] = PREPARED,             \
      [MIGR_EV_STORAGE_DONE] = STORAGE_DONE,                              \
      [MIGR_EV_MEMORY_DONE] = MEMORY_DONE, [MIGR_EV_RESUMED] = RESUMED,   \
      [MIGR_EV_CLEANED] = CLEANED, [MIGR_EV_FAILED] = FAILED,             \
      [MIGR_EV_CANCEL] = CANCEL, [MIGR_EV_ROLLED_BACK] = ROLLED_BACK }

static const int fsm_table[MIGR_N_STATES][MIGR_N_EVENTS] = {
    /*                  start           prepared  storage-done
     *                  memory-done     resumed   cleaned
     *                  failed          cancel    rolled-back */
    [MIGR_QUEUED] = ROW(MIGR_PREPARING, X,        X,
                        X,              X,        X,
                        MIGR_FAILED,    MIGR_CANCELLED, X),
    [MIGR_PREPARING] = ROW(X,           P,        X,
                        X,              X,        X,
                        MIGR_ROLLING_BACK, MIGR_ROLLING_BACK, X),
    [MIGR_STORAGE] = ROW(X,             X,        MIGR_MEMORY,
                        X,              X,        X,
                        MIGR_ROLLING_BACK, MIGR_ROLLING_BACK, X),
    /* libvirt may finish the whole memory phase between two polls. */
    [MIGR_MEMORY] = ROW(X,              X,        X,
                        MIGR_SWITCHOVER, MIGR_CLEANUP, X,
                        MIGR_ROLLING_BACK, MIGR_ROLLING_BACK, X),
    [MIGR_SWITCHOVER] = ROW(X,          X,        X,
                        X,              MIGR_CLEANUP, X,
                        MIGR_ROLLING_BACK, MIGR_ROLLING_BACK, X),
    /* The VM runs on the destination: neither a failure nor a cancel can
     * bring it back. */
    [MIGR_CLEANUP] = ROW(X,             X,        X,
                        X,              X,        MIGR_DONE,
                        MIGR_DONE,      MIGR_DONE, X),
    [MIGR_DONE] = ROW(X, X, X, X, X, X, X, X, X),
    [MIGR_ROLLING_BACK] = ROW(X,        X,        X,
                        X,              X,        X,
                        X,              X,        R),
    [MIGR_FAILED] = ROW(X, X, X, X, X, X, X, X, X),
    [MIGR_CANCELLED] = ROW(X, X, X, X, X, X, X, X, X),
};

static void
test_fsm_every_pair(void **state OVS_UNUSED)
{
    int n_valid = 0, n_invalid = 0;
    for (size_t f = 0; f < ARRAY_SIZE(all_flags); f++) {
        const struct migr_flags *flags = &all_flags[f];
        for (int s = 0; s < MIGR_N_STATES; s++) {
            for (int e = 0; e < MIGR_N_EVENTS; e++) {
                int expected = fsm_table[s][e];
                if (expected == P) {
                    expected = flags->copy_storage ? MIGR_STORAGE
                                                   : MIGR_MEMORY;
                } else if (expected == R) {
                    expected = flags->cancel_requested ? MIGR_CANCELLED
                                                       : MIGR_FAILED;
                }
                if (expected == X) {
                    step_invalid(s, e, flags);
                    n_invalid++;
                } else {
                    step_ok(s, e, flags, expected);
                    n_valid++;
                }
            }
        }
    }
    /* 10 states x 9 events x 4 flag combinations. */
    assert_int_equal(n_valid + n_invalid, 4 * 90);
    assert_int_equal(n_valid, 4 * 20);
}

/* An event out of range is rejected like any invalid one. */
static void
test_fsm_event_out_of_range(void **state OVS_UNUSED)
{
    struct migr_flags flags = { false, false };
    for (int s = 0; s < MIGR_N_STATES; s++) {
        char *error = NULL;
        enum migr_state next = migr_next(s, MIGR_N_EVENTS, &flags, &error);
        char *expected = xasprintf("event ? is not valid in state %s",
                                   state_names[s]);
        assert_non_null(error);
        assert_string_equal(error, expected);
        assert_int_equal(next, s);
        free(expected);
        free(error);
    }
    assert_string_equal(migr_event_name(MIGR_N_EVENTS), "?");
}

/* Drives 'path' (events and the states they lead to) from 'from'. */
struct hop {
    enum migr_event event;
    enum migr_state to;
};

static enum migr_state
drive(enum migr_state from, const struct hop *path, size_t n,
      const struct migr_flags *flags)
{
    enum migr_state s = from;
    for (size_t i = 0; i < n; i++) {
        s = step_ok(s, path[i].event, flags, path[i].to);
    }
    return s;
}

static const struct hop happy_path[] = {
    { MIGR_EV_START, MIGR_PREPARING },
    { MIGR_EV_PREPARED, MIGR_MEMORY },
    { MIGR_EV_MEMORY_DONE, MIGR_SWITCHOVER },
    { MIGR_EV_RESUMED, MIGR_CLEANUP },
    { MIGR_EV_CLEANED, MIGR_DONE },
};

static const struct hop happy_path_storage[] = {
    { MIGR_EV_START, MIGR_PREPARING },
    { MIGR_EV_PREPARED, MIGR_STORAGE },
    { MIGR_EV_STORAGE_DONE, MIGR_MEMORY },
    { MIGR_EV_MEMORY_DONE, MIGR_SWITCHOVER },
    { MIGR_EV_RESUMED, MIGR_CLEANUP },
    { MIGR_EV_CLEANED, MIGR_DONE },
};

static void
test_fsm_happy_paths(void **state OVS_UNUSED)
{
    for (int cancel = 0; cancel < 2; cancel++) {
        struct migr_flags flags = { .copy_storage = false,
                                    .cancel_requested = cancel };
        assert_int_equal(drive(MIGR_QUEUED, happy_path,
                               ARRAY_SIZE(happy_path), &flags), MIGR_DONE);

        flags.copy_storage = true;
        assert_int_equal(drive(MIGR_QUEUED, happy_path_storage,
                               ARRAY_SIZE(happy_path_storage), &flags),
                         MIGR_DONE);
    }

    /* Along the way the VM is on the source until it resumes. */
    struct migr_flags flags = { .copy_storage = true };
    enum migr_state s = MIGR_QUEUED;
    for (size_t i = 0; i < ARRAY_SIZE(happy_path_storage); i++) {
        assert_false(migr_state_vm_on_destination(s));
        s = step_ok(s, happy_path_storage[i].event, &flags,
                    happy_path_storage[i].to);
        if (happy_path_storage[i].event == MIGR_EV_RESUMED) {
            assert_true(migr_state_vm_on_destination(s));
            break;
        }
    }
    assert_int_equal(s, MIGR_CLEANUP);
}

/* memory -> cleanup directly when libvirt reports the VM resumed. */
static void
test_fsm_memory_straight_to_cleanup(void **state OVS_UNUSED)
{
    static const struct hop path[] = {
        { MIGR_EV_START, MIGR_PREPARING },
        { MIGR_EV_PREPARED, MIGR_MEMORY },
        { MIGR_EV_RESUMED, MIGR_CLEANUP },
        { MIGR_EV_CLEANED, MIGR_DONE },
    };
    struct migr_flags flags = { false, false };
    assert_int_equal(drive(MIGR_QUEUED, path, ARRAY_SIZE(path), &flags),
                     MIGR_DONE);
}

/* Every failure or cancel before the VM resumes on the destination leads
 * to rolling-back, then failed or (if a cancel was requested) cancelled;
 * the VM never counts as on the destination on that way. */
static void
test_fsm_failures_before_resume_roll_back(void **state OVS_UNUSED)
{
    static const enum migr_event bad[] = { MIGR_EV_FAILED, MIGR_EV_CANCEL };
    int n_checked = 0;

    for (size_t f = 0; f < ARRAY_SIZE(all_flags); f++) {
        const struct migr_flags *flags = &all_flags[f];
        const struct hop *path = flags->copy_storage ? happy_path_storage
                                                     : happy_path;
        size_t n = flags->copy_storage ? ARRAY_SIZE(happy_path_storage)
                                       : ARRAY_SIZE(happy_path);

        /* Each prefix of the happy path that ends before "resumed": the
         * VM is still on the source (queued is handled below: nothing to
         * roll back there). */
        for (size_t k = 1; k < n && path[k - 1].to != MIGR_CLEANUP; k++) {
            for (size_t b = 0; b < ARRAY_SIZE(bad); b++) {
                enum migr_state s = drive(MIGR_QUEUED, path, k, flags);
                assert_true(migr_state_is_active(s));
                assert_false(migr_state_vm_on_destination(s));

                s = step_ok(s, bad[b], flags, MIGR_ROLLING_BACK);
                assert_true(migr_state_is_active(s));
                assert_false(migr_state_vm_on_destination(s));

                /* Nothing but "rolled-back" gets it out of there. */
                for (int e = 0; e < MIGR_N_EVENTS; e++) {
                    if (e != MIGR_EV_ROLLED_BACK) {
                        step_invalid(s, e, flags);
                    }
                }

                s = step_ok(s, MIGR_EV_ROLLED_BACK, flags,
                            flags->cancel_requested ? MIGR_CANCELLED
                                                    : MIGR_FAILED);
                assert_true(migr_state_is_final(s));
                assert_false(migr_state_vm_on_destination(s));
                n_checked++;
            }
        }
    }
    /* preparing, memory, switchover without storage; preparing, storage,
     * memory, switchover with; each for 2 events and 2 cancel flags. */
    assert_int_equal(n_checked, 2 * 2 * (3 + 4));

    /* In queued there is nothing to roll back: straight to final. */
    for (size_t f = 0; f < ARRAY_SIZE(all_flags); f++) {
        step_ok(MIGR_QUEUED, MIGR_EV_FAILED, &all_flags[f], MIGR_FAILED);
        step_ok(MIGR_QUEUED, MIGR_EV_CANCEL, &all_flags[f], MIGR_CANCELLED);
    }
}

/* Once the VM runs on the destination, a failure in cleanup is reported
 * elsewhere but the migration is done: it stays there. */
static void
test_fsm_failure_in_cleanup_is_done(void **state OVS_UNUSED)
{
    for (size_t f = 0; f < ARRAY_SIZE(all_flags); f++) {
        const struct migr_flags *flags = &all_flags[f];
        const struct hop *path = flags->copy_storage ? happy_path_storage
                                                     : happy_path;
        size_t n = flags->copy_storage ? ARRAY_SIZE(happy_path_storage)
                                       : ARRAY_SIZE(happy_path);
        enum migr_state s = drive(MIGR_QUEUED, path, n - 1, flags);
        assert_int_equal(s, MIGR_CLEANUP);
        assert_true(migr_state_vm_on_destination(s));

        enum migr_state t = step_ok(s, MIGR_EV_FAILED, flags, MIGR_DONE);
        assert_true(migr_state_vm_on_destination(t));
        assert_true(migr_state_is_final(t));

        t = step_ok(s, MIGR_EV_CANCEL, flags, MIGR_DONE);
        assert_true(migr_state_vm_on_destination(t));

        /* No rollback from there. */
        step_invalid(s, MIGR_EV_ROLLED_BACK, flags);
        step_invalid(MIGR_DONE, MIGR_EV_FAILED, flags);
        step_invalid(MIGR_DONE, MIGR_EV_CANCEL, flags);
        step_invalid(MIGR_DONE, MIGR_EV_ROLLED_BACK, flags);
    }
}

/* migr_next() clears '*errorp' on success, whatever was there. */
static void
test_fsm_error_cleared_on_success(void **state OVS_UNUSED)
{
    struct migr_flags flags = { false, false };
    char *error = (char *) "stale";
    assert_int_equal(migr_next(MIGR_QUEUED, MIGR_EV_START, &flags, &error),
                     MIGR_PREPARING);
    assert_null(error);
}

static void
test_state_names(void **state OVS_UNUSED)
{
    for (int s = 0; s < MIGR_N_STATES; s++) {
        assert_string_equal(migr_state_name(s), state_names[s]);

        enum migr_state back = MIGR_N_STATES;
        assert_true(migr_state_from_name(state_names[s], &back));
        assert_int_equal(back, s);
        assert_true(migr_state_from_name(migr_state_name(s), &back));
        assert_int_equal(back, s);
    }
    assert_string_equal(migr_state_name(MIGR_N_STATES), "?");

    static const char *const unknown[] = {
        "", "?", "Queued", "QUEUED", "queued ", " queued", "rolling_back",
        "rollingback", "canceled", "fail", "doneX", "bogus",
    };
    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
        enum migr_state s = MIGR_SWITCHOVER;
        if (migr_state_from_name(unknown[i], &s)) {
            fail_msg("\"%s\" is taken for a state", unknown[i]);
        }
        assert_int_equal(s, MIGR_SWITCHOVER);   /* Left alone. */
    }

    for (int e = 0; e < MIGR_N_EVENTS; e++) {
        assert_string_equal(migr_event_name(e), event_names[e]);
    }
}

static void
test_state_predicates(void **state OVS_UNUSED)
{
    static const struct {
        bool final, active, on_destination;
    } expected[MIGR_N_STATES] = {
        [MIGR_QUEUED] = { false, false, false },
        [MIGR_PREPARING] = { false, true, false },
        [MIGR_STORAGE] = { false, true, false },
        [MIGR_MEMORY] = { false, true, false },
        [MIGR_SWITCHOVER] = { false, true, false },
        [MIGR_CLEANUP] = { false, true, true },
        [MIGR_DONE] = { true, false, true },
        [MIGR_ROLLING_BACK] = { false, true, false },
        [MIGR_FAILED] = { true, false, false },
        [MIGR_CANCELLED] = { true, false, false },
    };
    for (int s = 0; s < MIGR_N_STATES; s++) {
        if (migr_state_is_final(s) != expected[s].final
            || migr_state_is_active(s) != expected[s].active
            || migr_state_vm_on_destination(s)
               != expected[s].on_destination) {
            fail_msg("%s: final=%d active=%d on_destination=%d, expected "
                     "%d %d %d", state_names[s], migr_state_is_final(s),
                     migr_state_is_active(s),
                     migr_state_vm_on_destination(s), expected[s].final,
                     expected[s].active, expected[s].on_destination);
        }
    }

    /* A final state accepts no event at all. */
    for (int s = 0; s < MIGR_N_STATES; s++) {
        if (migr_state_is_final(s)) {
            for (int e = 0; e < MIGR_N_EVENTS; e++) {
                step_invalid(s, e, &all_flags[0]);
            }
        }
    }
}

/* Progress never goes back along a happy path, stays within [0, 100],
 * starts at 0 and ends at 100. */
static void
check_progress_path(const struct hop *path, size_t n, bool copy_storage)
{
    static const double fractions[] = {
        0, 0.01, 0.1, 0.25, 1.0 / 3, 0.5, 0.75, 0.9, 0.99, 1,
    };
    enum migr_state states[8];
    size_t n_states = 0;
    states[n_states++] = MIGR_QUEUED;
    for (size_t i = 0; i < n; i++) {
        states[n_states++] = path[i].to;
    }

    int last = -1;
    for (size_t i = 0; i < n_states; i++) {
        for (size_t j = 0; j < ARRAY_SIZE(fractions); j++) {
            int p = migr_progress(states[i], copy_storage, fractions[j]);
            if (p < 0 || p > 100 || p < last) {
                fail_msg("progress %d in %s at %.2f (storage=%d) after %d",
                         p, state_names[states[i]], fractions[j],
                         copy_storage, last);
            }
            last = p;
        }
    }
    assert_int_equal(migr_progress(MIGR_QUEUED, copy_storage, 0.5), 0);
    assert_int_equal(migr_progress(MIGR_DONE, copy_storage, 0), 100);
    assert_int_equal(last, 100);
}

static void
test_progress(void **state OVS_UNUSED)
{
    check_progress_path(happy_path, ARRAY_SIZE(happy_path), false);
    check_progress_path(happy_path_storage, ARRAY_SIZE(happy_path_storage),
                        true);

    /* memory straight to cleanup. */
    assert_true(migr_progress(MIGR_MEMORY, false, 1)
                <= migr_progress(MIGR_CLEANUP, false, 0));

    /* Out-of-range fractions are clamped, and every state stays within
     * [0, 100]. */
    static const double odd[] = { -1e300, -1, -0.001, 1.001, 2, 1e300 };
    for (int s = 0; s < MIGR_N_STATES; s++) {
        for (int storage = 0; storage < 2; storage++) {
            for (size_t i = 0; i < ARRAY_SIZE(odd); i++) {
                int p = migr_progress(s, storage, odd[i]);
                int clamped = migr_progress(s, storage, odd[i] < 0 ? 0 : 1);
                assert_int_equal(p, clamped);
                assert_in_range(p, 0, 100);
            }
        }
    }

    /* The storage phase weighs more than the rest of a shared-nothing
     * migration's memory phase. */
    assert_int_equal(migr_progress(MIGR_PREPARING, true, 1),
                     migr_progress(MIGR_STORAGE, true, 0));
    assert_int_equal(migr_progress(MIGR_STORAGE, true, 1),
                     migr_progress(MIGR_MEMORY, true, 0));
    assert_int_equal(migr_progress(MIGR_PREPARING, false, 1),
                     migr_progress(MIGR_MEMORY, false, 0));
}

/* ------------------------------------------------------------------ */
/* The scheduler: helpers.                                            */
/* ------------------------------------------------------------------ */

static int64_t
limit_of(const struct migr_host_limits *hosts, size_t n_hosts,
         const char *name, bool storage)
{
    for (size_t i = 0; i < n_hosts; i++) {
        if (!strcmp(hosts[i].name, name)) {
            return storage ? hosts[i].max_storage_migrations
                           : hosts[i].max_migrations;
        }
    }
    return storage ? MIGR_DEFAULT_MAX_STORAGE_MIGRATIONS
                   : MIGR_DEFAULT_MAX_MIGRATIONS;
}

static bool
on_host(const struct migr_entry *e, const char *host)
{
    return !strcmp(e->source, host)
           || (e->destination && !strcmp(e->destination, host));
}

static bool
share_host(const struct migr_entry *a, const struct migr_entry *b)
{
    return on_host(a, b->source)
           || (b->destination && on_host(a, b->destination));
}

/* True if entries[a] is ahead of entries[b] in the queue. */
static bool
queued_before(const struct migr_entry *entries, size_t a, size_t b)
{
    return (entries[a].queued_at < entries[b].queued_at
            || (entries[a].queued_at == entries[b].queued_at && a < b));
}

static struct migr_entry
entry(const char *source, const char *destination, bool copy_storage,
      int64_t queued_at)
{
    return (struct migr_entry) {
        .source = source,
        .destination = destination,
        .copy_storage = copy_storage,
        .state = MIGR_QUEUED,
        .queued_at = queued_at,
        .start = false,
    };
}

/* Runs the scheduler and checks what every caller may rely on: the result
 * counts the entries marked, only startable queued entries are marked, and
 * none is marked while an earlier-queued one that shares a host with it
 * stays queued. */
static size_t
schedule(struct migr_entry *entries, size_t n,
         const struct migr_host_limits *hosts, size_t n_hosts)
{
    size_t started = migr_schedule(entries, n, hosts, n_hosts);
    size_t marked = 0;
    for (size_t i = 0; i < n; i++) {
        const struct migr_entry *e = &entries[i];
        if (!e->start) {
            continue;
        }
        marked++;
        assert_int_equal(e->state, MIGR_QUEUED);
        assert_non_null(e->destination);
        for (size_t j = 0; j < n; j++) {
            const struct migr_entry *o = &entries[j];
            if (j != i && o->state == MIGR_QUEUED && !o->start
                && o->destination && queued_before(entries, j, i)
                && share_host(e, o)) {
                fail_msg("#%zu (%s->%s, queued at %"PRId64") starts before "
                         "#%zu (%s->%s, queued at %"PRId64")", i, e->source,
                         e->destination, e->queued_at, j, o->source,
                         o->destination, o->queued_at);
            }
        }
    }
    assert_int_equal(started, marked);
    return started;
}

/* Moves every entry marked to start into "preparing". */
static void
mark_started(struct migr_entry *entries, size_t n)
{
    struct migr_flags flags = { false, false };
    for (size_t i = 0; i < n; i++) {
        if (entries[i].start) {
            entries[i].state = step_ok(entries[i].state, MIGR_EV_START,
                                       &flags, MIGR_PREPARING);
        }
    }
}

/* Checks that no host in 'names' runs more than its limit of migrations,
 * storage migrations, or migrations with any one other host. */
static void
check_limits(const struct migr_entry *entries, size_t n,
             const struct migr_host_limits *hosts, size_t n_hosts,
             const char *const *names, size_t n_names)
{
    for (size_t h = 0; h < n_names; h++) {
        int64_t all = 0, storage = 0;
        for (size_t i = 0; i < n; i++) {
            if (migr_state_is_active(entries[i].state)
                && on_host(&entries[i], names[h])) {
                all++;
                storage += entries[i].copy_storage;
            }
        }
        int64_t max = limit_of(hosts, n_hosts, names[h], false);
        int64_t max_storage = limit_of(hosts, n_hosts, names[h], true);
        if (all > max || storage > max_storage) {
            fail_msg("%s runs %"PRId64" migrations (limit %"PRId64"), "
                     "%"PRId64" with storage (limit %"PRId64")", names[h],
                     all, max, storage, max_storage);
        }

        for (size_t g = h + 1; g < n_names; g++) {
            int64_t pair = 0;
            for (size_t i = 0; i < n; i++) {
                const struct migr_entry *e = &entries[i];
                if (migr_state_is_active(e->state)
                    && on_host(e, names[h]) && on_host(e, names[g])) {
                    pair++;
                }
            }
            int64_t pair_max = MIN(max, limit_of(hosts, n_hosts, names[g],
                                                 false));
            if (pair > pair_max) {
                fail_msg("%s and %s run %"PRId64" migrations together "
                         "(lower limit %"PRId64")", names[h], names[g], pair,
                         pair_max);
            }
        }
    }
}

static size_t
count_active(const struct migr_entry *entries, size_t n)
{
    size_t active = 0;
    for (size_t i = 0; i < n; i++) {
        active += migr_state_is_active(entries[i].state);
    }
    return active;
}

static size_t
count_queued(const struct migr_entry *entries, size_t n)
{
    size_t queued = 0;
    for (size_t i = 0; i < n; i++) {
        queued += entries[i].state == MIGR_QUEUED;
    }
    return queued;
}

/* ------------------------------------------------------------------ */
/* The scheduler: 100 migrations.                                     */
/* ------------------------------------------------------------------ */

#define N_SIM 100

static const char *const sim_hosts[] = {
    "hv0", "hv1", "hv2", "hv3", "hv4", "hv5", "hv6", "hv7",
};

/* hv0, hv1: 1 at a time; hv2, hv3: 3 (2 with storage); hv4: 3 (1 with
 * storage); hv5..hv7 are not listed and get the defaults. */
static const struct migr_host_limits mixed_limits[] = {
    { "hv0", 1, 1 },
    { "hv1", 1, 1 },
    { "hv2", 3, 2 },
    { "hv3", 3, 2 },
    { "hv4", 3, 1 },
};

/* Advances active migration 'i' by one event (or not, on some steps);
 * a few fail, are cancelled, or skip the switchover phase. */
static void
sim_advance(struct migr_entry *e, struct migr_flags *flags, size_t i,
            int step)
{
    if ((i * 7 + step) % 4 == 0) {
        return;                 /* Not this time. */
    }
    enum migr_event ev;
    switch (e->state) {
    case MIGR_PREPARING:
        ev = i % 17 == 3 ? MIGR_EV_FAILED : MIGR_EV_PREPARED;
        break;
    case MIGR_STORAGE:
        ev = i % 9 == 8 ? MIGR_EV_FAILED : MIGR_EV_STORAGE_DONE;
        break;
    case MIGR_MEMORY:
        if (i % 11 == 4) {
            flags->cancel_requested = true;
            ev = MIGR_EV_CANCEL;
        } else {
            ev = i % 5 == 1 ? MIGR_EV_RESUMED : MIGR_EV_MEMORY_DONE;
        }
        break;
    case MIGR_SWITCHOVER:
        ev = i % 19 == 6 ? MIGR_EV_FAILED : MIGR_EV_RESUMED;
        break;
    case MIGR_CLEANUP:
        ev = i % 13 == 7 ? MIGR_EV_FAILED : MIGR_EV_CLEANED;
        break;
    case MIGR_ROLLING_BACK:
        ev = MIGR_EV_ROLLED_BACK;
        break;
    case MIGR_QUEUED:
    case MIGR_DONE:
    case MIGR_FAILED:
    case MIGR_CANCELLED:
    case MIGR_N_STATES:
    default:
        fail_msg("#%zu is not active (%s)", i, migr_state_name(e->state));
        return;
    }
    char *error;
    e->state = migr_next(e->state, ev, flags, &error);
    if (error) {
        fail_msg("#%zu: %s", i, error);
    }
}

static void
simulate(const struct migr_host_limits *hosts, size_t n_hosts)
{
    struct migr_entry entries[N_SIM];
    struct migr_flags flags[N_SIM];
    int started_at[N_SIM];
    const size_t n_names = ARRAY_SIZE(sim_hosts);

    for (size_t i = 0; i < N_SIM; i++) {
        size_t src = (i * 5 + 1) % n_names;
        size_t dst = (i * 3 + 2) % n_names;
        if (dst == src) {
            dst = (dst + 1) % n_names;
        }
        /* Out of array order, with ties (broken by position). */
        entries[i] = entry(sim_hosts[src], sim_hosts[dst], i % 4 == 0,
                           (int64_t) (i * 37 % N_SIM) / 2);
        flags[i] = (struct migr_flags) {
            .copy_storage = entries[i].copy_storage,
        };
        started_at[i] = -1;
    }

    int step;
    size_t max_active = 0;
    for (step = 0; step < 10000; step++) {
        size_t queued = count_queued(entries, N_SIM);
        size_t active = count_active(entries, N_SIM);
        if (!queued && !active) {
            break;
        }

        size_t started = schedule(entries, N_SIM, hosts, n_hosts);
        if (queued && !active) {
            /* Nothing runs: the head of the queue must go. */
            assert_true(started > 0);
        }
        for (size_t i = 0; i < N_SIM; i++) {
            if (entries[i].start) {
                started_at[i] = step;
            }
        }
        mark_started(entries, N_SIM);
        check_limits(entries, N_SIM, hosts, n_hosts, sim_hosts, n_names);
        max_active = MAX(max_active, count_active(entries, N_SIM));

        /* Running again without any change starts nothing more. */
        assert_int_equal(schedule(entries, N_SIM, hosts, n_hosts), 0);

        for (size_t i = 0; i < N_SIM; i++) {
            if (migr_state_is_active(entries[i].state)) {
                sim_advance(&entries[i], &flags[i], i, step);
            }
        }
        check_limits(entries, N_SIM, hosts, n_hosts, sim_hosts, n_names);
    }
    assert_true(step < 10000);

    /* All finished, every way there was taken, and some ran in
     * parallel. */
    int n_final[MIGR_N_STATES] = { 0 };
    for (size_t i = 0; i < N_SIM; i++) {
        assert_true(migr_state_is_final(entries[i].state));
        assert_true(started_at[i] >= 0);
        n_final[entries[i].state]++;
    }
    assert_true(n_final[MIGR_DONE] > 0);
    assert_true(n_final[MIGR_FAILED] > 0);
    assert_true(n_final[MIGR_CANCELLED] > 0);
    assert_int_equal(n_final[MIGR_DONE] + n_final[MIGR_FAILED]
                     + n_final[MIGR_CANCELLED], N_SIM);
    assert_true(max_active > 1);

    /* Over the whole run: none started before an earlier-queued one that
     * shares a host with it. */
    for (size_t i = 0; i < N_SIM; i++) {
        for (size_t j = 0; j < N_SIM; j++) {
            if (i != j && queued_before(entries, j, i)
                && share_host(&entries[i], &entries[j])
                && started_at[j] > started_at[i]) {
                fail_msg("#%zu started at step %d, before #%zu (queued "
                         "earlier) at step %d", i, started_at[i], j,
                         started_at[j]);
            }
        }
    }
}

static void
test_schedule_100_default_limits(void **state OVS_UNUSED)
{
    simulate(NULL, 0);
}

static void
test_schedule_100_mixed_limits(void **state OVS_UNUSED)
{
    simulate(mixed_limits, ARRAY_SIZE(mixed_limits));
}

/* ------------------------------------------------------------------ */
/* The scheduler: small cases.                                        */
/* ------------------------------------------------------------------ */

/* 10 VMs from A to B with the default limit of 2: 2 start, and as each
 * finishes the next in queue order starts. */
static void
test_schedule_ten_from_a_to_b(void **state OVS_UNUSED)
{
    struct migr_entry e[10];
    /* Queue order differs from array order: #i is queued at (i*3)%10,
     * so the queue is #0, #7, #4, #1, #8, #5, #2, #9, #6, #3. */
    static const size_t order[10] = { 0, 7, 4, 1, 8, 5, 2, 9, 6, 3 };
    for (size_t i = 0; i < 10; i++) {
        e[i] = entry("A", "B", false, (int64_t) (i * 3 % 10));
    }

    assert_int_equal(schedule(e, 10, NULL, 0), 2);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(e[i].start, i == order[0] || i == order[1]);
    }
    mark_started(e, 10);
    assert_int_equal(schedule(e, 10, NULL, 0), 0);

    /* Finish them, alternately the older and the newer running one. */
    size_t next = 2;
    size_t running[2] = { order[0], order[1] };
    for (int round = 0; next < 10; round++) {
        size_t k = round % 2;
        e[running[k]].state = round % 3 ? MIGR_DONE : MIGR_FAILED;

        assert_int_equal(schedule(e, 10, NULL, 0), 1);
        for (size_t i = 0; i < 10; i++) {
            assert_int_equal(e[i].start, i == order[next]);
        }
        mark_started(e, 10);
        running[k] = order[next++];
        assert_int_equal(count_active(e, 10), 2);
    }
    e[running[0]].state = MIGR_DONE;
    e[running[1]].state = MIGR_DONE;
    assert_int_equal(schedule(e, 10, NULL, 0), 0);
    assert_int_equal(count_active(e, 10) + count_queued(e, 10), 0);
}

/* The same queued_at: array position decides. */
static void
test_schedule_ties_by_position(void **state OVS_UNUSED)
{
    struct migr_entry e[4];
    for (size_t i = 0; i < 4; i++) {
        e[i] = entry("A", "B", false, 5);
    }
    assert_int_equal(schedule(e, 4, NULL, 0), 2);
    assert_true(e[0].start && e[1].start && !e[2].start && !e[3].start);
}

/* Direction does not matter: incoming and outgoing both count. */
static void
test_schedule_incoming_and_outgoing_count(void **state OVS_UNUSED)
{
    struct migr_entry e[] = {
        entry("A", "B", false, 1),
        entry("C", "A", false, 2),
        entry("A", "D", false, 3),      /* A has 2 already. */
        entry("E", "F", false, 4),      /* Unrelated. */
    };
    assert_int_equal(schedule(e, 4, NULL, 0), 3);
    assert_true(e[0].start && e[1].start && !e[2].start && e[3].start);
}

/* Only active migrations count: queued and final ones do not, one rolling
 * back does. */
static void
test_schedule_counts_active_states_only(void **state OVS_UNUSED)
{
    for (int s = 0; s < MIGR_N_STATES; s++) {
        struct migr_entry e[] = {
            entry("A", "B", false, 1),
            entry("A", "B", false, 2),
            entry("A", "B", false, 3),
        };
        e[0].state = s;
        e[0].start = true;      /* Stale output: ignored and cleared. */
        size_t expected = migr_state_is_active(s) ? 1 : 2;
        assert_int_equal(schedule(e, 3, NULL, 0), expected);
        if (s == MIGR_QUEUED) {
            assert_true(e[0].start && e[1].start && !e[2].start);
        } else {
            assert_false(e[0].start);
            assert_true(e[1].start);
            assert_int_equal(e[2].start, !migr_state_is_active(s));
        }
    }
}

/* The pair limit is the lower of both hosts' limits. */
static void
test_schedule_pair_limit_is_lower(void **state OVS_UNUSED)
{
    static const struct migr_host_limits limits[] = {
        { "big", 3, 3 },
        { "big2", 3, 3 },
        { "small", 1, 1 },
    };
    for (int dir = 0; dir < 2; dir++) {
        struct migr_entry e[5];
        for (size_t i = 0; i < 5; i++) {
            e[i] = dir ? entry("small", "big", false, i)
                       : entry("big", "small", false, i);
        }
        assert_int_equal(schedule(e, 5, limits, 3), 1);
        assert_true(e[0].start);
    }

    /* Between two hosts of 3: 3. */
    struct migr_entry e[5];
    for (size_t i = 0; i < 5; i++) {
        e[i] = entry("big", "big2", false, i);
    }
    assert_int_equal(schedule(e, 5, limits, 3), 3);
    assert_true(e[0].start && e[1].start && e[2].start);

    /* A host of 3 with an unlisted one (default 2): 2. */
    struct migr_entry f[4];
    for (size_t i = 0; i < 4; i++) {
        f[i] = entry(i % 2 ? "X" : "big", i % 2 ? "big" : "X", false, i);
    }
    assert_int_equal(schedule(f, 4, limits, 3), 2);
    assert_true(f[0].start && f[1].start && !f[2].start && !f[3].start);
}

/* Storage migrations also count against max_storage_migrations. */
static void
test_schedule_storage_limit(void **state OVS_UNUSED)
{
    /* Default: 1 storage migration, 2 in all. */
    struct migr_entry e[] = {
        entry("A", "B", true, 1),
        entry("A", "C", false, 2),
        entry("C", "B", true, 3),       /* B has a storage one. */
        entry("D", "E", true, 4),
    };
    assert_int_equal(schedule(e, 4, NULL, 0), 3);
    assert_true(e[0].start && e[1].start && !e[2].start && e[3].start);

    /* Storage limits 2 on both, 3 in all. */
    static const struct migr_host_limits limits[] = {
        { "A", 3, 2 },
        { "B", 3, 2 },
    };
    struct migr_entry f[] = {
        entry("A", "B", true, 1),
        entry("A", "B", true, 2),
        entry("A", "B", true, 3),
        entry("A", "B", false, 4),
    };
    assert_int_equal(schedule(f, 4, limits, 2), 2);
    assert_true(f[0].start && f[1].start && !f[2].start && !f[3].start);

    /* When a storage one finishes, the third storage one goes, and the
     * non-storage one behind it (3 in all). */
    mark_started(f, 4);
    f[0].state = MIGR_DONE;
    assert_int_equal(schedule(f, 4, limits, 2), 2);
    assert_true(f[2].start && f[3].start);

    /* A storage limit of 1 on one end holds for the pair. */
    static const struct migr_host_limits g_limits[] = {
        { "A", 3, 3 },
        { "B", 3, 1 },
    };
    struct migr_entry g[] = {
        entry("A", "B", true, 1),
        entry("A", "B", true, 2),
    };
    assert_int_equal(schedule(g, 2, g_limits, 2), 1);
    assert_true(g[0].start);
}

/* Once a migration must wait, later ones on either of its hosts wait
 * behind it, even if they would fit, and so on: a later one that waits
 * holds up its own hosts in turn. */
static void
test_schedule_fifo_blocks_later(void **state OVS_UNUSED)
{
    struct migr_entry e[] = {
        entry("A", "B", true, 1),
        entry("A", "B", true, 2),       /* Storage limit: waits. */
        entry("A", "C", false, 3),      /* Would fit, waits behind #1. */
        entry("D", "B", false, 4),      /* Would fit, waits behind #1. */
        entry("D", "E", false, 5),      /* Waits behind #3. */
        entry("F", "G", false, 6),      /* Unrelated: goes. */
    };
    assert_int_equal(schedule(e, 6, NULL, 0), 2);
    assert_true(e[0].start && !e[1].start && !e[2].start && !e[3].start
                && !e[4].start && e[5].start);

    /* When #0 finishes, #1 goes, and the others that fit behind it. */
    mark_started(e, 6);
    e[0].state = MIGR_DONE;
    assert_int_equal(schedule(e, 6, NULL, 0), 4);
    assert_true(e[1].start && e[2].start && e[3].start && e[4].start);
}

/* A migration without a destination never starts, and does not hold up
 * the others on its source. */
static void
test_schedule_null_destination(void **state OVS_UNUSED)
{
    struct migr_entry e[] = {
        entry("A", NULL, false, 1),
        entry("A", NULL, true, 2),
        entry("B", NULL, false, 3),
    };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(schedule(e, 3, NULL, 0), 0);
        for (size_t j = 0; j < 3; j++) {
            assert_false(e[j].start);
        }
    }

    struct migr_entry f[] = {
        entry("A", NULL, false, 1),
        entry("A", "B", false, 2),
        entry("A", NULL, false, 3),
        entry("A", "C", false, 4),
        entry("A", "D", false, 5),
    };
    assert_int_equal(schedule(f, 5, NULL, 0), 2);
    assert_true(!f[0].start && f[1].start && !f[2].start && f[3].start
                && !f[4].start);

    /* Once placed, it takes its turn in queue order. */
    mark_started(f, 5);
    f[1].state = MIGR_DONE;
    f[0].destination = "E";
    assert_int_equal(schedule(f, 5, NULL, 0), 1);
    assert_true(f[0].start && !f[2].start && !f[4].start);
}

/* A limit of 0 blocks a host, whichever end it is. */
static void
test_schedule_zero_limits(void **state OVS_UNUSED)
{
    static const struct migr_host_limits limits[] = {
        { "closed", 0, 0 },
        { "nostorage", 2, 0 },
    };
    struct migr_entry e[] = {
        entry("closed", "A", false, 1),
        entry("B", "closed", false, 2),
        entry("closed", "C", true, 3),
    };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(schedule(e, 3, limits, 2), 0);
    }

    struct migr_entry f[] = {
        entry("nostorage", "A", false, 1),
        entry("nostorage", "B", false, 2),
    };
    assert_int_equal(schedule(f, 2, limits, 2), 2);

    struct migr_entry g[] = {
        entry("nostorage", "A", true, 1),
        entry("B", "nostorage", true, 2),
        entry("C", "D", true, 3),
    };
    assert_int_equal(schedule(g, 3, limits, 2), 1);
    assert_true(!g[0].start && !g[1].start && g[2].start);
}

/* Hosts missing from the limits get the defaults. */
static void
test_schedule_unknown_hosts_get_defaults(void **state OVS_UNUSED)
{
    static const struct migr_host_limits limits[] = {
        { "other", 5, 5 },
    };
    for (int with = 0; with < 2; with++) {
        const struct migr_host_limits *h = with ? limits : NULL;
        size_t n_h = with ? 1 : 0;

        struct migr_entry e[5];
        for (size_t i = 0; i < 5; i++) {
            e[i] = entry("A", "B", false, i);
        }
        assert_int_equal(schedule(e, 5, h, n_h),
                         MIGR_DEFAULT_MAX_MIGRATIONS);

        struct migr_entry f[5];
        for (size_t i = 0; i < 5; i++) {
            f[i] = entry("A", "B", true, i);
        }
        assert_int_equal(schedule(f, 5, h, n_h),
                         MIGR_DEFAULT_MAX_STORAGE_MIGRATIONS);

        /* A known host of 5 with an unknown one: the default holds. */
        struct migr_entry g[5];
        for (size_t i = 0; i < 5; i++) {
            g[i] = entry("other", "B", false, i);
        }
        assert_int_equal(schedule(g, 5, h, n_h),
                         MIGR_DEFAULT_MAX_MIGRATIONS);
    }
}

static void
test_schedule_empty(void **state OVS_UNUSED)
{
    assert_int_equal(migr_schedule(NULL, 0, NULL, 0), 0);
    struct migr_entry e[] = { entry("A", "B", false, 0) };
    e[0].state = MIGR_DONE;
    assert_int_equal(schedule(e, 1, NULL, 0), 0);
    assert_false(e[0].start);
}

/* Regressions. */

static void
test_progress_nan_is_phase_start(void **state OVS_UNUSED)
{
    assert_int_equal(migr_progress(MIGR_PREPARING, true, NAN), 0);
    assert_int_equal(migr_progress(MIGR_MEMORY, false, NAN), 5);
}

/* A host being drained (limit 0) takes nothing, but a migration to it must
 * not freeze its other host's queue. */
static void
test_schedule_drained_host_blocks_nobody(void **state OVS_UNUSED)
{
    const struct migr_host_limits hosts[] = { { "Z", 0, 0 } };
    struct migr_entry e[] = {
        entry("A", "Z", false, 1),
        entry("A", "B", false, 2),
    };
    assert_int_equal(migr_schedule(e, 2, hosts, 1), 1);
    assert_false(e[0].start);
    assert_true(e[1].start);
}

/* Each host counts against its own limit: a busy host with limit 3 may
 * still send to an idle host with limit 1. */
static void
test_schedule_limits_are_per_host(void **state OVS_UNUSED)
{
    const struct migr_host_limits hosts[] = {
        { "big", 3, 3 }, { "small", 1, 1 },
    };
    struct migr_entry e[] = {
        entry("big", "X", false, 1),
        entry("big", "small", false, 2),
        entry("Y", "small", false, 3),
    };
    e[0].state = MIGR_MEMORY;
    assert_int_equal(migr_schedule(e, 3, hosts, 2), 1);
    assert_true(e[1].start);
    /* small is full now: its limit of 1 holds for the pair. */
    assert_false(e[2].start);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        /* The state machine. */
        cmocka_unit_test(test_fsm_every_pair),
        cmocka_unit_test(test_fsm_event_out_of_range),
        cmocka_unit_test(test_fsm_happy_paths),
        cmocka_unit_test(test_fsm_memory_straight_to_cleanup),
        cmocka_unit_test(test_fsm_failures_before_resume_roll_back),
        cmocka_unit_test(test_fsm_failure_in_cleanup_is_done),
        cmocka_unit_test(test_fsm_error_cleared_on_success),
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_state_predicates),
        cmocka_unit_test(test_progress),

        /* The scheduler. */
        cmocka_unit_test(test_schedule_100_default_limits),
        cmocka_unit_test(test_schedule_100_mixed_limits),
        cmocka_unit_test(test_schedule_ten_from_a_to_b),
        cmocka_unit_test(test_schedule_ties_by_position),
        cmocka_unit_test(test_schedule_incoming_and_outgoing_count),
        cmocka_unit_test(test_schedule_counts_active_states_only),
        cmocka_unit_test(test_schedule_pair_limit_is_lower),
        cmocka_unit_test(test_schedule_storage_limit),
        cmocka_unit_test(test_schedule_fifo_blocks_later),
        cmocka_unit_test(test_schedule_null_destination),
        cmocka_unit_test(test_schedule_zero_limits),
        cmocka_unit_test(test_schedule_unknown_hosts_get_defaults),
        cmocka_unit_test(test_schedule_empty),

        /* Regressions. */
        cmocka_unit_test(test_progress_nan_is_phase_start),
        cmocka_unit_test(test_schedule_drained_host_blocks_nobody),
        cmocka_unit_test(test_schedule_limits_are_per_host),
    };
    return cmocka_run_group_tests_name("migrator", tests, NULL, NULL);
}
