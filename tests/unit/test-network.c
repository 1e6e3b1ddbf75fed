/* Unit tests of the migration network (migrator/network.c): parsing the
 * operator's list and picking the address the channel listens on. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "migrator/network.h"
#include "sset.h"
#include "svec.h"
#include "util.h"

static void
test_parse(void **state OVS_UNUSED)
{
    struct svec nets = SVEC_EMPTY_INITIALIZER;
    assert_null(migr_network_parse("10.9.0.0/16,10.0.1.0/24,fd00::/64",
                                   &nets));
    assert_int_equal(nets.n, 3);
    assert_string_equal(nets.names[0], "10.9.0.0/16");
    assert_string_equal(nets.names[2], "fd00::/64");
    svec_clear(&nets);

    char *error = migr_network_parse("10.9.0.1/16", &nets);
    assert_string_equal(error, "10.9.0.1/16 has host bits set (did you "
                        "mean 10.9.0.0/16?)");
    free(error);
    svec_clear(&nets);

    error = migr_network_parse(",", &nets);
    assert_string_equal(error, "\",\" names no network");
    free(error);
    svec_destroy(&nets);
}

static void
test_pick_first_network_with_an_address(void **state OVS_UNUSED)
{
    struct svec nets = SVEC_EMPTY_INITIALIZER;
    assert_null(migr_network_parse("10.9.0.0/16,10.0.1.0/24", &nets));
    struct sset addrs = SSET_INITIALIZER(&addrs);
    sset_add(&addrs, "127.0.0.1");
    sset_add(&addrs, "10.0.1.7");
    sset_add(&addrs, "10.0.1.3");

    /* The preferred network is absent: the next one, its lowest address. */
    char *pick = migr_network_pick(&nets, &addrs);
    assert_string_equal(pick, "10.0.1.3");
    free(pick);

    /* Once the preferred network is there, it wins. */
    sset_add(&addrs, "10.9.4.4");
    pick = migr_network_pick(&nets, &addrs);
    assert_string_equal(pick, "10.9.4.4");
    free(pick);

    /* None: nothing. */
    sset_clear(&addrs);
    sset_add(&addrs, "192.168.0.1");
    assert_null(migr_network_pick(&nets, &addrs));
    sset_destroy(&addrs);
    svec_destroy(&nets);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_pick_first_network_with_an_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
