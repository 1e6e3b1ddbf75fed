/* Unit tests of the cross-version rule (migrator/version.c): how versions
 * compare, and which moves between hosts it refuses, with the message the
 * operator reads. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "migrator/version.h"
#include "smap.h"
#include "util.h"

static int
sign(int x)
{
    return (x > 0) - (x < 0);
}

static void
test_version_order(void **state OVS_UNUSED)
{
    static const struct {
        const char *a, *b;
        int cmp;
    } cases[] = {
        { "7.2.0", "7.2.0", 0 },
        { "7.2", "7.2.0", 0 },
        { "7.2.0", "7.2", 0 },
        { "7", "7.0.0", 0 },
        { "7.2", "7.2.1", -1 },
        { "7.2.1", "7.2", 1 },
        { "7.2.10", "7.2.9", 1 },
        { "8.0.0", "7.2.10", 1 },
        { "7.2.0", "7.2.0-1+deb12u1", -1 },
        { "7.2", "7.2.0-1", -1 },
        { "9.0.0", "10.0.0", -1 },
        { "", "0", 0 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int got = sign(migr_version_cmp(cases[i].a, cases[i].b));
        if (got != cases[i].cmp) {
            fail_msg("\"%s\" vs \"%s\": %d, expected %d", cases[i].a,
                     cases[i].b, got, cases[i].cmp);
        }
        int back = sign(migr_version_cmp(cases[i].b, cases[i].a));
        if (back != -cases[i].cmp) {
            fail_msg("\"%s\" vs \"%s\": %d, expected %d", cases[i].b,
                     cases[i].a, back, -cases[i].cmp);
        }
    }
}

static void
test_check_versions(void **state OVS_UNUSED)
{
    struct smap src = SMAP_INITIALIZER(&src);
    struct smap dst = SMAP_INITIALIZER(&dst);
    smap_add(&src, "libvirt", "9.0.0");
    smap_add(&src, "qemu", "7.2");
    smap_add(&src, "vmroam", "0.2.0");
    smap_add(&dst, "libvirt", "9.0");
    smap_add(&dst, "qemu", "7.2.0");
    smap_add(&dst, "vmroam", "0.2.0");
    assert_null(migr_check_versions("hv1", &src, "hv2", &dst));

    smap_replace(&dst, "qemu", "7.1.5");
    char *why = migr_check_versions("hv1", &src, "hv2", &dst);
    assert_string_equal(why, "hv2 runs qemu 7.1.5, older than 7.2 on hv1: "
                        "a VM never moves to an older host");
    free(why);

    smap_remove(&dst, "qemu");
    why = migr_check_versions("hv1", &src, "hv2", &dst);
    assert_string_equal(why, "hv2 reports no qemu version (is its agent "
                        "up?); hv1 runs 7.2");
    free(why);
    smap_destroy(&src);
    smap_destroy(&dst);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_order),
        cmocka_unit_test(test_check_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
