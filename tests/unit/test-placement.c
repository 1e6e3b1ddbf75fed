/* Unit tests of placement (migrator/placement.c): which host a VM goes to
 * and how every other host's refusal or standing is explained. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "migrator/placement.h"
#include "openvswitch/dynamic-string.h"
#include "smap.h"
#include "util.h"

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
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &why), 3);
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
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &why), 1);
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
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &why),
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
    assert_int_equal(migr_place(&vm, hosts, ARRAY_SIZE(hosts), &why), 0);
    ds_destroy(&why);
}

static void
test_no_hosts(void **state OVS_UNUSED)
{
    struct migr_placement_vm vm = { .name = "web-1", .chassis = "hv1" };
    struct ds why = DS_EMPTY_INITIALIZER;
    assert_int_equal(migr_place(&vm, NULL, 0, &why), MIGR_PLACE_NONE);
    assert_string_equal(ds_cstr(&why), "");
    ds_destroy(&why);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
