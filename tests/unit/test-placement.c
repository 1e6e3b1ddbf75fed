/* Unit tests of placement (migrator/placement.c): which host a VM goes to
 * and how every other host's refusal or standing is explained. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "migrator/placement.h"
#include "openvswitch/dynamic-string.h"
#include "smap.h"
#include "util.h"

/* No footprint asked for, the default headroom. */
static const struct migr_placement_rules any = {
    .headroom_pct = MIGR_HEADROOM_DEFAULT,
};

struct world {
    struct smap v72, v71, v80;
};

static int
setup(void **state)
{
    struct world *w = xzalloc(sizeof *w);
    smap_init(&w->v72);
    smap_init(&w->v71);
    smap_init(&w->v80);
    smap_add(&w->v72, "qemu", "7.2.0");
    smap_add(&w->v71, "qemu", "7.1.0");
    smap_add(&w->v80, "qemu", "8.0");
    *state = w;
    return 0;
}

static int
teardown(void **state)
{
    struct world *w = *state;
    smap_destroy(&w->v72);
    smap_destroy(&w->v71);
    smap_destroy(&w->v80);
    free(w);
    return 0;
}

static void
test_most_free_slots_then_fewest_vms_then_name(void **state)
{
    struct world *w = *state;
    struct migr_candidate hosts[] = {
        { .name = "hv1", .versions = &w->v72, .free_slots = 2, .n_vms = 3 },
        { .name = "hv4", .versions = &w->v72, .free_slots = 1, .n_vms = 0 },
        { .name = "hv3", .versions = &w->v80, .free_slots = 2, .n_vms = 1 },
        { .name = "hv2", .versions = &w->v72, .free_slots = 2, .n_vms = 1 },
    };
    struct migr_placement_vm vm = {
        .name = "web-1", .chassis = "hv1", .versions = &w->v72,
    };
    struct ds why = DS_EMPTY_INITIALIZER;
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &any, &why), 3);
    assert_string_equal(ds_cstr(&why),
                        "  hv4: 1 free migration slot, 0 VMs\n"
                        "  hv3: 2 free migration slots, 1 VM\n"
                        "  hv2: 2 free migration slots, 1 VM\n");
    ds_destroy(&why);
}

/* Of hosts with as many free slots, the one with fewest VMs. */
static void
test_fewest_vms_breaks_a_tie(void **state)
{
    struct world *w = *state;
    struct migr_candidate hosts[] = {
        { .name = "hv2", .versions = &w->v72, .free_slots = 2, .n_vms = 4 },
        { .name = "hv3", .versions = &w->v72, .free_slots = 2, .n_vms = 1 },
        { .name = "hv4", .versions = &w->v72, .free_slots = 2, .n_vms = 3 },
    };
    struct migr_placement_vm vm = {
        .name = "web-1", .chassis = "hv1", .versions = &w->v72,
    };
    struct ds why = DS_EMPTY_INITIALIZER;
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &any, &why), 1);
    ds_destroy(&why);
}

static void
test_every_refusal_is_explained(void **state)
{
    struct world *w = *state;
    char *allowed[] = { "hv1", "hv2", "hv3" };
    struct migr_candidate hosts[] = {
        { .name = "hv1", .versions = &w->v72, .free_slots = 2 },
        { .name = "hv2", .versions = &w->v71, .free_slots = 2 },
        { .name = "hv3", .versions = &w->v80, .free_slots = 2,
          .down = "host hv3 is down" },
        { .name = "hv4", .versions = &w->v80, .free_slots = 2 },
    };
    struct migr_placement_vm vm = {
        .name = "web-1", .chassis = "hv1", .versions = &w->v72,
        .allowed = allowed, .n_allowed = ARRAY_SIZE(allowed),
    };
    struct ds why = DS_EMPTY_INITIALIZER;
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &any, &why),
                     MIGR_PLACE_NONE);
    assert_string_equal(ds_cstr(&why),
        "  hv2: no (hv2 runs qemu 7.1.0, older than 7.2.0 on hv1: a VM "
        "never moves to an older host)\n"
        "  hv3: no (host hv3 is down)\n"
        "  hv4: no (web-1 may not run there (VM allowed_chassis))\n");
    ds_destroy(&why);
}

static void
test_a_busy_host_is_still_a_candidate(void **state)
{
    struct world *w = *state;
    struct migr_candidate hosts[] = {
        { .name = "hv2", .versions = &w->v72, .free_slots = 0, .n_vms = 0 },
        { .name = "hv1", .versions = &w->v72, .free_slots = 2 },
    };
    struct migr_placement_vm vm = {
        .name = "web-1", .chassis = "hv1", .versions = &w->v72,
    };
    struct ds why = DS_EMPTY_INITIALIZER;
    /* It waits its turn in the queue there. */
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &any, &why), 0);
    ds_destroy(&why);
}

static void
test_no_hosts(void **state OVS_UNUSED)
{
    struct migr_placement_vm vm = { .name = "web-1", .chassis = "hv1" };
    struct ds why = DS_EMPTY_INITIALIZER;
    assert_int_equal(migr_place(&vm, NULL, 0, &any, &why), MIGR_PLACE_NONE);
    assert_string_equal(ds_cstr(&why), "");
    ds_destroy(&why);
}

/* Memory decides first: the host with the most left after the headroom,
 * and a host where the VM does not fit says by how much. */
static void
test_memory_fits_with_headroom(void **state)
{
    struct world *w = *state;
    struct migr_candidate hosts[] = {
        { .name = "hv2", .versions = &w->v72, .free_slots = 2,
          .memory_kb = 4096 * 1024, .used_kb = 3000 * 1024 },
        { .name = "hv3", .versions = &w->v72, .free_slots = 1,
          .memory_kb = 8192 * 1024, .used_kb = 2048 * 1024 },
        { .name = "hv4", .versions = &w->v72, .free_slots = 2,
          .memory_kb = 8192 * 1024, .used_kb = 1024 * 1024 },
    };
    struct migr_placement_vm vm = {
        .name = "db-1", .chassis = "hv1", .versions = &w->v72,
        .memory_kb = 1024 * 1024,
    };
    struct ds why = DS_EMPTY_INITIALIZER;
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &any, &why),
                     2);
    assert_string_equal(ds_cstr(&why),
        "  hv2: no (db-1 needs 1024 MiB of memory; 686 MiB left of 4096 MiB "
        "less 10% headroom)\n"
        "  hv3: 5324 MiB of memory left, 1 free migration slot, 0 VMs\n"
        "  hv4: 6348 MiB of memory left, 2 free migration slots, 0 VMs\n");
    ds_destroy(&why);

    /* Without headroom, hv2 has room. */
    struct migr_placement_rules none = { .headroom_pct = 0 };
    hosts[2].maintenance = hosts[1].maintenance = true;
    ds_init(&why);
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &none, &why),
                     0);
    ds_destroy(&why);
}

static void
test_disks_fit_and_footprint_and_maintenance(void **state)
{
    struct world *w = *state;
    struct migr_candidate hosts[] = {
        { .name = "old-2", .versions = &w->v72, .footprint = "old",
          .free_slots = 2 },
        { .name = "new-1", .versions = &w->v72, .footprint = "new",
          .free_slots = 2, .free_disk_kb = 1000 * 1024 },
        { .name = "new-2", .versions = &w->v72, .footprint = "new",
          .free_slots = 2, .maintenance = true },
        { .name = "new-3", .versions = &w->v72, .footprint = "new",
          .free_slots = 2, .free_disk_kb = -1 },
    };
    struct migr_placement_vm vm = {
        .name = "web-1", .chassis = "old-1", .versions = &w->v72,
        .disk_kb = 950 * 1024,
    };
    struct migr_placement_rules rules = {
        .headroom_pct = MIGR_HEADROOM_DEFAULT, .footprint = "new",
    };
    struct ds why = DS_EMPTY_INITIALIZER;
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &rules, &why),
                     3);
    assert_string_equal(ds_cstr(&why),
        "  old-2: no (not in footprint new)\n"
        "  new-1: no (web-1's disks need 950 MiB; 1000 MiB free less 10% "
        "headroom)\n"
        "  new-2: no (host new-2 is in maintenance)\n"
        "  new-3: 2 free migration slots, 0 VMs\n");
    ds_destroy(&why);
}

/* A drain: high priority first and largest first; each VM placed on the
 * hosts as the ones before left them, so they spread; one that fits
 * nowhere says why; waves follow the per-host limits. */
static void
test_plan_spreads_orders_and_explains(void **state)
{
    struct world *w = *state;
    struct migr_candidate hosts[] = {
        { .name = "hv1", .versions = &w->v72, .maintenance = true,
          .max_migrations = 2, .memory_kb = 8192 * 1024 },
        { .name = "hv2", .versions = &w->v72, .max_migrations = 1,
          .free_slots = 1, .memory_kb = 4096 * 1024 },
        { .name = "hv3", .versions = &w->v72, .max_migrations = 1,
          .free_slots = 1, .memory_kb = 4096 * 1024 },
    };
    struct migr_placement_vm vms[] = {
        { .name = "a", .chassis = "hv1", .versions = &w->v72,
          .memory_kb = 1024 * 1024, .priority = MIGR_PRIORITY_LOW },
        { .name = "b", .chassis = "hv1", .versions = &w->v72,
          .memory_kb = 2048 * 1024, .priority = MIGR_PRIORITY_MEDIUM },
        { .name = "c", .chassis = "hv1", .versions = &w->v72,
          .memory_kb = 512 * 1024, .priority = MIGR_PRIORITY_HIGH },
        { .name = "d", .chassis = "hv1", .versions = &w->v72,
          .memory_kb = 3072 * 1024, .priority = MIGR_PRIORITY_MEDIUM },
        { .name = "huge", .chassis = "hv1", .versions = &w->v72,
          .memory_kb = 6000 * 1024, .priority = MIGR_PRIORITY_HIGH },
        { .name = "stopped", .chassis = "hv1", .versions = &w->v72,
          .memory_kb = 1, .unmovable = "not running" },
    };
    struct migr_plan_entry e[ARRAY_SIZE(vms)];
    migr_plan(vms, ARRAY_SIZE(vms), hosts, ARRAY_SIZE(hosts), &any, e);

    /* Order: huge (high, nowhere), c (high) -> hv2 (a tie: the name),
     * d (medium, 3072) -> hv3 (most left), b (medium, 2048) -> hv2, a
     * (low) -> hv2 (1126 MiB left there, 614 on hv3). */
    assert_int_equal(e[4].host, MIGR_PLACE_NONE);
    assert_non_null(strstr(e[4].why, "no host can take it:\n"));
    assert_non_null(strstr(e[4].why, "hv2: no (huge needs 6000 MiB"));
    /* A VM that cannot move takes no room and says why. */
    assert_int_equal(e[5].host, MIGR_PLACE_NONE);
    assert_string_equal(e[5].why, "not running");
    assert_int_equal(e[2].host, 1);
    assert_int_equal(e[3].host, 2);
    assert_int_equal(e[1].host, 1);
    assert_int_equal(e[0].host, 1);
    /* hv1 sends two at a time, each destination takes one at a time. */
    assert_int_equal(e[2].wave, 1);
    assert_int_equal(e[3].wave, 1);
    assert_int_equal(e[1].wave, 2);
    assert_int_equal(e[0].wave, 3);
    /* The plan's order: huge, c, stopped (high), d, b (medium), a. */
    assert_int_equal(e[4].rank, 0);
    assert_int_equal(e[2].rank, 1);
    assert_int_equal(e[5].rank, 2);
    assert_int_equal(e[3].rank, 3);
    assert_int_equal(e[1].rank, 4);
    assert_int_equal(e[0].rank, 5);
    assert_int_equal(hosts[1].used_kb, (512 + 2048 + 1024) * 1024);
    assert_int_equal(hosts[2].used_kb, 3072 * 1024);
    for (size_t i = 0; i < ARRAY_SIZE(vms); i++) {
        free(e[i].why);
    }
}

static void
test_priorities_parse(void **state OVS_UNUSED)
{
    enum migr_priority p;
    assert_true(migr_priority_parse("low", &p));
    assert_int_equal(p, MIGR_PRIORITY_LOW);
    assert_string_equal(migr_priority_name(MIGR_PRIORITY_HIGH), "high");
    assert_false(migr_priority_parse("urgent", &p));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_most_free_slots_then_fewest_vms_then_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fewest_vms_breaks_a_tie,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_refusal_is_explained,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_busy_host_is_still_a_candidate,
                                        setup, teardown),
        cmocka_unit_test(test_no_hosts),
        cmocka_unit_test_setup_teardown(test_memory_fits_with_headroom,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_disks_fit_and_footprint_and_maintenance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_spreads_orders_and_explains,
                                        setup, teardown),
        cmocka_unit_test(test_priorities_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
