/* Unit tests of which user QEMU runs as (migrator/seclabel.c): the DAC
 * label of a running domain and the base label of a host, among the other
 * security drivers' labels, and the parse of "USER:GROUP". */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "migrator/seclabel.h"
#include "util.h"

/* As libvirt 9.0 describes a running domain under AppArmor and DAC. */
static const char domain[] =
    "<domain type='kvm' id='3'><name>a1</name><devices/>"
    "<seclabel type='dynamic' model='apparmor' relabel='yes'>"
    "  <label>libvirt-4a1f</label><imagelabel>libvirt-4a1f</imagelabel>"
    "</seclabel>"
    "<seclabel type='dynamic' model='dac' relabel='yes'>"
    "  <label>+64055:+64056</label><imagelabel>+64055:+64056</imagelabel>"
    "</seclabel></domain>";

/* As "virsh capabilities" shows a host without MAC driver. */
static const char capabilities[] =
    "<capabilities><host><uuid>3b2c</uuid>"
    "<secmodel><model>none</model><doi>0</doi></secmodel>"
    "<secmodel><model>dac</model><doi>0</doi>"
    "  <baselabel type='kvm'>+64055:+108</baselabel>"
    "  <baselabel type='qemu'>+64055:+108</baselabel>"
    "</secmodel></host><guest/></capabilities>";

static void
test_label_of_domain(void **state OVS_UNUSED)
{
    char *label = migr_seclabel_of_domain(domain);
    assert_string_equal(label, "+64055:+64056");
    free(label);
    assert_null(migr_seclabel_of_domain("<domain><name>a1</name></domain>"));
    assert_null(migr_seclabel_of_domain("not xml"));
}

static void
test_label_of_host(void **state OVS_UNUSED)
{
    char *label = migr_seclabel_of_host(capabilities);
    assert_string_equal(label, "+64055:+108");
    free(label);
    assert_null(migr_seclabel_of_host("<capabilities><host><secmodel>"
                                      "<model>none</model></secmodel>"
                                      "</host></capabilities>"));
}

static void
test_parse_numbers_and_names(void **state OVS_UNUSED)
{
    uid_t uid = 1;
    gid_t gid = 1;
    assert_null(migr_seclabel_parse("+64055:+108", &uid, &gid));
    assert_int_equal(uid, 64055);
    assert_int_equal(gid, 108);
    assert_null(migr_seclabel_parse("root:root", &uid, &gid));
    assert_int_equal(uid, 0);
    assert_int_equal(gid, 0);
}

static void
test_parse_refuses_what_is_not_a_label(void **state OVS_UNUSED)
{
    static const struct {
        const char *label, *error;
    } cases[] = {
        { "+64055", "DAC label \"+64055\" is not USER:GROUP" },
        { "+64x:+1", "DAC label \"+64x:+1\": no user \"+64x\"" },
        { "+:+1", "DAC label \"+:+1\": no user \"+\"" },
        { "+1:", "DAC label \"+1:\": no group \"\"" },
        { "vmroam-nobody:root",
          "DAC label \"vmroam-nobody:root\": no user \"vmroam-nobody\"" },
        { "+1:+4294967295", "DAC label \"+1:+4294967295\": no group "
          "\"+4294967295\"" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uid_t uid = 7;
        gid_t gid = 7;
        char *error = migr_seclabel_parse(cases[i].label, &uid, &gid);
        assert_string_equal(error, cases[i].error);
        assert_int_equal(uid, 7);
        assert_int_equal(gid, 7);
        free(error);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_of_domain),
        cmocka_unit_test(test_label_of_host),
        cmocka_unit_test(test_parse_numbers_and_names),
        cmocka_unit_test(test_parse_refuses_what_is_not_a_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
