/* Unit tests of the switch's tunnel routes (overlay/routes.c): the routes a
 * PA lease calls for, the parse of "ovs/route/show" as ovs-vswitchd 3.1
 * prints it, and the plan that turns what the switch holds into them. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "overlay/routes.h"
#include "util.h"

static void
assert_route(const struct overlay_route *r, const char *prefix,
             const char *dev, const char *gw)
{
    assert_string_equal(r->prefix, prefix);
    assert_string_equal(r->dev, dev);
    if (gw) {
        assert_non_null(r->gw);
        assert_string_equal(r->gw, gw);
    } else {
        assert_null(r->gw);
    }
}

static void
test_routes_of_an_ipv4_pa(void **state OVS_UNUSED)
{
    struct overlay_routes rs;
    assert_null(overlay_routes_for_pa("10.0.2.77/24", "10.0.2.1", "br-phy",
                                      &rs));
    assert_int_equal(rs.n, 2);
    assert_route(&rs.routes[0], "10.0.2.0/24", "br-phy", NULL);
    assert_route(&rs.routes[1], "0.0.0.0/0", "br-phy", "10.0.2.1");
    overlay_routes_destroy(&rs);

    assert_null(overlay_routes_for_pa("172.16.5.9/20", NULL, "eth1", &rs));
    assert_int_equal(rs.n, 1);
    assert_route(&rs.routes[0], "172.16.0.0/20", "eth1", NULL);
    overlay_routes_destroy(&rs);
}

static void
test_routes_of_an_ipv6_pa(void **state OVS_UNUSED)
{
    struct overlay_routes rs;
    assert_null(overlay_routes_for_pa("fd00:0:0:2:ab::7/64", "fd00:0:0:2::1",
                                      "br-phy", &rs));
    assert_int_equal(rs.n, 2);
    assert_route(&rs.routes[0], "fd00:0:0:2::/64", "br-phy", NULL);
    assert_route(&rs.routes[1], "::/0", "br-phy", "fd00:0:0:2::1");
    overlay_routes_destroy(&rs);
}

static void
test_bad_pa_or_gateway(void **state OVS_UNUSED)
{
    static const struct {
        const char *pa, *gw, *error;
    } cases[] = {
        { "10.0.2.300/24", NULL, "PA 10.0.2.300/24: 10.0.2.300 is not an address" },
        { "10.0.2.7", NULL, "PA 10.0.2.7: no prefix length of 0 to 32" },
        { "10.0.2.7/33", NULL, "PA 10.0.2.7/33: no prefix length of 0 to 32" },
        { "10.0.2.7/24x", NULL, "PA 10.0.2.7/24x: no prefix length of 0 to 32" },
        { "fd00::7/129", NULL, "PA fd00::7/129: no prefix length of 0 to 128" },
        { "10.0.2.7/24", "fd00::1", "gateway fd00::1 is not an IPv4 address" },
        { "fd00::7/64", "10.0.2.1", "gateway 10.0.2.1 is not an IPv6 address" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct overlay_routes rs;
        char *error = overlay_routes_for_pa(cases[i].pa, cases[i].gw,
                                            "br-phy", &rs);
        assert_non_null(error);
        assert_string_equal(error, cases[i].error);
        assert_int_equal(rs.n, 0);
        free(error);
        overlay_routes_destroy(&rs);
    }
}

/* As ovs-vswitchd 3.1 answers "ovs/route/show". */
static const char with_system[] =
    "Route Table:\n"
    "Cached: 10.0.2.2/32 dev br-phy SRC 10.0.2.2 local\n"
    "Cached: 10.0.2.0/24 dev br-phy SRC 10.0.2.2\n"
    "User: 10.0.2.0/24 dev br-phy SRC 10.0.2.2\n"
    "Cached: 0.0.0.0/0 dev br-phy GW 10.0.2.1 SRC 10.0.2.2\n";
static const char user_only[] =
    "Route Table:\n"
    "User: 10.0.9.0/24 MARK 7 dev br-phy SRC 10.0.9.2\n"
    "User: 10.0.2.0/24 dev br-phy SRC 10.0.2.2\n"
    "User: 0.0.0.0/0 dev br-phy GW 10.0.2.1 SRC 10.0.2.2\n"
    "User: 192.168.7.0/24 dev eth9 SRC 192.168.7.1\n";

static void
test_parse_show(void **state OVS_UNUSED)
{
    struct overlay_routes rs;
    overlay_routes_parse(with_system, &rs);
    assert_true(rs.system);
    assert_int_equal(rs.n, 1);
    assert_route(&rs.routes[0], "10.0.2.0/24", "br-phy", NULL);
    overlay_routes_destroy(&rs);

    overlay_routes_parse(user_only, &rs);
    assert_false(rs.system);
    assert_int_equal(rs.n, 3);          /* Not the marked one. */
    assert_route(&rs.routes[0], "10.0.2.0/24", "br-phy", NULL);
    assert_route(&rs.routes[1], "0.0.0.0/0", "br-phy", "10.0.2.1");
    assert_route(&rs.routes[2], "192.168.7.0/24", "eth9", NULL);
    overlay_routes_destroy(&rs);

    overlay_routes_parse("Route Table:\n", &rs);
    assert_false(rs.system);
    assert_int_equal(rs.n, 0);
    overlay_routes_destroy(&rs);
}

static void
plan(const char *show, const char *pa, const char *gw,
     struct overlay_routes *del, struct overlay_routes *add)
{
    struct overlay_routes installed, desired;
    overlay_routes_parse(show, &installed);
    overlay_routes_init(&desired);
    if (pa) {
        assert_null(overlay_routes_for_pa(pa, gw, "br-phy", &desired));
    }
    overlay_routes_plan(&installed, &desired, "br-phy", del, add);
    overlay_routes_destroy(&installed);
    overlay_routes_destroy(&desired);
}

static void
test_plan_nothing_when_in_place(void **state OVS_UNUSED)
{
    struct overlay_routes del, add;
    plan(user_only, "10.0.2.2/24", "10.0.2.1", &del, &add);
    assert_int_equal(del.n, 0);
    assert_int_equal(add.n, 0);
    overlay_routes_destroy(&del);
    overlay_routes_destroy(&add);
}

static void
test_plan_adds_what_is_missing(void **state OVS_UNUSED)
{
    struct overlay_routes del, add;
    plan("Route Table:\nUser: 10.0.2.0/24 dev br-phy SRC 10.0.2.2\n",
         "10.0.2.2/24", "10.0.2.1", &del, &add);
    assert_int_equal(del.n, 0);
    assert_int_equal(add.n, 1);
    assert_route(&add.routes[0], "0.0.0.0/0", "br-phy", "10.0.2.1");
    overlay_routes_destroy(&del);
    overlay_routes_destroy(&add);
}

/* A new PA in another subnet: the old routes out of br-phy go (not the one
 * out of eth9), and since a deletion makes the switch forget that br-phy
 * ends tunnels, both new ones are added after. */
static void
test_plan_new_pa(void **state OVS_UNUSED)
{
    struct overlay_routes del, add;
    plan(user_only, "10.0.3.2/24", "10.0.3.1", &del, &add);
    assert_int_equal(del.n, 2);
    assert_route(&del.routes[0], "10.0.2.0/24", "br-phy", NULL);
    assert_route(&del.routes[1], "0.0.0.0/0", "br-phy", "10.0.2.1");
    assert_int_equal(add.n, 2);
    assert_route(&add.routes[0], "10.0.3.0/24", "br-phy", NULL);
    assert_route(&add.routes[1], "0.0.0.0/0", "br-phy", "10.0.3.1");
    overlay_routes_destroy(&del);
    overlay_routes_destroy(&add);

    /* Only the gateway changed: the subnet's route is added again too. */
    plan(user_only, "10.0.2.2/24", "10.0.2.254", &del, &add);
    assert_int_equal(del.n, 1);
    assert_route(&del.routes[0], "0.0.0.0/0", "br-phy", "10.0.2.1");
    assert_int_equal(add.n, 2);
    overlay_routes_destroy(&del);
    overlay_routes_destroy(&add);
}

static void
test_plan_no_pa_deletes(void **state OVS_UNUSED)
{
    struct overlay_routes del, add;
    plan(user_only, NULL, NULL, &del, &add);
    assert_int_equal(del.n, 2);
    assert_int_equal(add.n, 0);
    overlay_routes_destroy(&del);
    overlay_routes_destroy(&add);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_of_an_ipv4_pa),
        cmocka_unit_test(test_routes_of_an_ipv6_pa),
        cmocka_unit_test(test_bad_pa_or_gateway),
        cmocka_unit_test(test_parse_show),
        cmocka_unit_test(test_plan_nothing_when_in_place),
        cmocka_unit_test(test_plan_adds_what_is_missing),
        cmocka_unit_test(test_plan_new_pa),
        cmocka_unit_test(test_plan_no_pa_deletes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
