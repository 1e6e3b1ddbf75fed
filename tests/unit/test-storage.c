/* Unit tests of the storage proof (migrator/storage.c): the probe files
 * a source writes and a destination checks, in a scratch directory, the
 * probe's encoding in the Migration row, and the decision from the
 * operator's mode and the destination's verdict. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "migrator/storage.h"
#include "sset.h"
#include "util.h"

struct scratch {
    char dir[64];
    struct sset disks;
};

static int
setup(void **state)
{
    struct scratch *s = xzalloc(sizeof *s);
    strcpy(s->dir, "/tmp/vmroam-storage.XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    sset_init(&s->disks);
    for (int i = 0; i < 2; i++) {
        char *disk = xasprintf("%s/vm-%d.qcow2", s->dir, i);
        FILE *f = fopen(disk, "w");
        assert_non_null(f);
        fclose(f);
        sset_add_and_free(&s->disks, disk);
    }
    *state = s;
    return 0;
}

static int
teardown(void **state)
{
    struct scratch *s = *state;
    char *cmd = xasprintf("rm -rf %s", s->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    sset_destroy(&s->disks);
    free(s);
    return 0;
}

/* Probe files in 'dir' (hidden ones included), other than the disks. */
static int
count_probes(const char *dir)
{
    char *cmd = xasprintf("ls -A %s | grep -c vmroam-probe", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    free(cmd);
    return n;
}

static void
test_probe_seen_with_its_token(void **state)
{
    struct scratch *s = *state;
    assert_null(migr_storage_probe_write(&s->disks, "token-1"));
    assert_int_equal(count_probes(s->dir), 2);
    assert_null(migr_storage_probe_check(&s->disks, "token-1"));
    migr_storage_probe_remove(&s->disks, "token-1");
    assert_int_equal(count_probes(s->dir), 0);
}

/* Writes 'token' into the probe file of a vmroam before probes were named
 * for their token, beside each of 's''s disks. */
static void
write_old_probes(const struct scratch *s, const char *token)
{
    const char *disk;
    SSET_FOR_EACH (disk, &s->disks) {
        char *dir = dir_name(disk), *base = base_name(disk);
        char *probe = xasprintf("%s/.%s.vmroam-probe", dir, base);
        FILE *f = fopen(probe, "w");
        assert_non_null(f);
        fputs(token, f);
        fclose(f);
        free(probe);
        free(base);
        free(dir);
    }
}

/* Another migration's probe is not this one's, whatever its name: the
 * disk is another file, or the probe went astray. */
static void
test_probe_with_another_token_is_another_disk(void **state)
{
    struct scratch *s = *state;
    assert_null(migr_storage_probe_write(&s->disks, "token-1"));
    char *why = migr_storage_probe_check(&s->disks, "token-2");
    char *want = xasprintf("disk %s/vm-0.qcow2: not the source's file (the "
                           "probe the source wrote beside it is missing "
                           "here)", s->dir);
    assert_string_equal(why, want);
    free(want);
    free(why);
    migr_storage_probe_remove(&s->disks, "token-1");

    write_old_probes(s, "token-1");
    why = migr_storage_probe_check(&s->disks, "token-2");
    want = xasprintf("disk %s/vm-0.qcow2: a different file at the same "
                     "path", s->dir);
    assert_string_equal(why, want);
    free(want);
    free(why);
}

/* A source of an older vmroam names its probe files without the token: a
 * destination still finds them. */
static void
test_probe_of_an_older_source_is_seen(void **state)
{
    struct scratch *s = *state;
    write_old_probes(s, "token-1");
    assert_null(migr_storage_probe_check(&s->disks, "token-1"));
}

/* Removing one migration's probes leaves the next one's: a removal that
 * comes late (from a thread) cannot make shared disks look unshared. */
static void
test_removal_leaves_the_next_probe(void **state)
{
    struct scratch *s = *state;
    assert_null(migr_storage_probe_write(&s->disks, "token-1"));
    assert_null(migr_storage_probe_write(&s->disks, "token-2"));
    migr_storage_probe_remove(&s->disks, "token-1");
    assert_int_equal(count_probes(s->dir), 2);
    assert_null(migr_storage_probe_check(&s->disks, "token-2"));
    migr_storage_probe_remove(&s->disks, "token-2");
    assert_int_equal(count_probes(s->dir), 0);
}

static void
test_missing_probe_names_the_disk(void **state)
{
    struct scratch *s = *state;
    char *why = migr_storage_probe_check(&s->disks, "token-1");
    char *want = xasprintf("disk %s/vm-0.qcow2: not the source's file (the "
                           "probe the source wrote beside it is missing "
                           "here)", s->dir);
    assert_string_equal(why, want);
    free(want);
    free(why);
}

/* A disk that is a link here may lead anywhere: never shared. */
static void
test_link_is_not_the_same_disk(void **state)
{
    struct scratch *s = *state;
    char *link = xasprintf("%s/link.qcow2", s->dir);
    const char *disk = SSET_FIRST(&s->disks);
    assert_int_equal(symlink(disk, link), 0);
    struct sset disks = SSET_INITIALIZER(&disks);
    sset_add(&disks, link);
    char *why = migr_storage_probe_check(&disks, "token-1");
    char *want = xasprintf("disk %s: leads to %s here, another file than "
                           "the source's", link, disk);
    assert_string_equal(why, want);
    free(want);
    free(why);

    /* The source resolves the link before it probes. */
    migr_storage_resolve(&disks);
    assert_string_equal(SSET_FIRST(&disks), disk);
    sset_destroy(&disks);
    free(link);
}

/* A link planted where the probe goes is replaced, never written
 * through. */
static void
test_probe_never_follows_a_link(void **state)
{
    struct scratch *s = *state;
    char *target = xasprintf("%s/victim", s->dir);
    FILE *f = fopen(target, "w");
    fputs("precious", f);
    fclose(f);
    const char *disk = SSET_FIRST(&s->disks);
    char *dir = dir_name(disk), *base = base_name(disk);
    char *probe = xasprintf("%s/.%s.vmroam-probe-token-1", dir, base);
    assert_int_equal(symlink(target, probe), 0);
    assert_null(migr_storage_probe_write(&s->disks, "token-1"));
    f = fopen(target, "r");
    char buf[16] = "";
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "precious");
    assert_null(migr_storage_probe_check(&s->disks, "token-1"));
    migr_storage_probe_remove(&s->disks, "token-1");
    free(probe);
    free(dir);
    free(base);
    free(target);
}

static void
test_unwritable_probe_leaves_nothing(void **state)
{
    struct scratch *s = *state;
    struct sset disks = SSET_INITIALIZER(&disks);
    sset_add(&disks, SSET_FIRST(&s->disks));
    sset_add(&disks, "/nonexistent-dir/vm.qcow2");
    char *error = migr_storage_probe_write(&disks, "token-1");
    assert_non_null(error);
    assert_non_null(strstr(error, "/nonexistent-dir/.vm.qcow2.vmroam-probe"));
    assert_non_null(strstr(error, "beside disk /nonexistent-dir/vm.qcow2"));
    free(error);
    assert_int_equal(count_probes(s->dir), 0);
    sset_destroy(&disks);
}

static void
test_probe_encoding_round_trip(void **state)
{
    struct scratch *s = *state;
    char *probe = migr_storage_probe_encode("t0k3n", &s->disks);
    struct sset disks = SSET_INITIALIZER(&disks);
    char *token;
    assert_null(migr_storage_probe_decode(probe, &token, &disks));
    assert_string_equal(token, "t0k3n");
    assert_true(sset_equals(&disks, &s->disks));
    free(token);
    free(probe);
    sset_destroy(&disks);
}

static void
test_bad_probe_is_an_error(void **state OVS_UNUSED)
{
    static const char *const bad[] = {
        "not json", "[]", "{\"token\": 1, \"disks\": []}",
        "{\"token\": \"t\"}", "{\"token\": \"t\", \"disks\": [1]}",
        "{\"token\": \"\", \"disks\": []}",
        "{\"token\": \"../../etc/passwd\", \"disks\": []}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct sset disks = SSET_INITIALIZER(&disks);
        char *token;
        char *error = migr_storage_probe_decode(bad[i], &token, &disks);
        assert_non_null(error);
        assert_null(token);
        free(error);
        sset_destroy(&disks);
    }
}

/* Every mode against every kind of verdict. */
static void
test_decide(void **state OVS_UNUSED)
{
    static const struct {
        enum migr_storage_mode mode;
        const char *verdict;
        bool copy;
        const char *error;
    } cases[] = {
        { MIGR_STORAGE_AUTO, "yes", false, NULL },
        { MIGR_STORAGE_AUTO, "disk /d: a different file at the same path",
          true, NULL },
        { MIGR_STORAGE_AUTO, NULL, true, NULL },
        { MIGR_STORAGE_COPY, "yes", true, NULL },
        { MIGR_STORAGE_COPY, NULL, true, NULL },
        { MIGR_STORAGE_SHARED, "yes", false, NULL },
        { MIGR_STORAGE_SHARED, "disk /d: a different file at the same path",
          true, "storage of vm1 is not shared with hv2 (disk /d: a "
          "different file at the same path); migrate with --storage copy "
          "or auto to copy the disks" },
        { MIGR_STORAGE_SHARED, NULL, true, "storage of vm1 is not shared "
          "with hv2 (no verdict); migrate with --storage copy or auto to "
          "copy the disks" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        bool copy = !cases[i].copy;
        char *error = migr_storage_decide(cases[i].mode, "vm1", "hv2",
                                          cases[i].verdict, &copy);
        if (cases[i].error) {
            assert_non_null(error);
            assert_string_equal(error, cases[i].error);
        } else {
            assert_null(error);
            assert_int_equal(copy, cases[i].copy);
        }
        free(error);
    }
}

static void
test_mode_names(void **state OVS_UNUSED)
{
    enum migr_storage_mode mode;
    assert_true(migr_storage_mode_parse("auto", &mode));
    assert_int_equal(mode, MIGR_STORAGE_AUTO);
    assert_true(migr_storage_mode_parse("copy", &mode));
    assert_int_equal(mode, MIGR_STORAGE_COPY);
    assert_true(migr_storage_mode_parse("shared", &mode));
    assert_int_equal(mode, MIGR_STORAGE_SHARED);
    assert_false(migr_storage_mode_parse("Shared", &mode));
    assert_false(migr_storage_mode_parse("", &mode));
    assert_string_equal(migr_storage_mode_name(MIGR_STORAGE_SHARED),
                        "shared");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probe_seen_with_its_token,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_probe_with_another_token_is_another_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_of_an_older_source_is_seen,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal_leaves_the_next_probe,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_probe_names_the_disk,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_probe_leaves_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_is_not_the_same_disk,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_never_follows_a_link,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_encoding_round_trip,
                                        setup, teardown),
        cmocka_unit_test(test_bad_probe_is_an_error),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_mode_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
