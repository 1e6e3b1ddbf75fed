/* Unit tests of storage probes off the main loop (migrator/probeio.c): a
 * write and a check give the storage module's answers and forget removes
 * the probe files; a probe on a file system that does not answer (an ext4
 * image frozen with fsfreeze, as a hung NFS server would) times out while
 * the caller goes on, and its thread cleans up once the file system
 * thaws.  Needs root for the mount. */

#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <cmocka.h>

#include "migrator/probeio.h"
#include "sset.h"
#include "tests/unit/helpers.h"
#include "timeval.h"
#include "util.h"

#define TOKEN "0b5d1c2e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"

struct world {
    char dir[64];
    char *mnt;                  /* The frozen file system's, or NULL. */
    bool frozen;
};

/* Unmounts 'mnt' quietly: 0 if it did. */
static int
system_umount(const char *mnt)
{
    char *cmd = xasprintf("umount %s 2>/dev/null", mnt);
    int status = system(cmd);
    free(cmd);
    return status;
}

static int
setup(void **state)
{
    struct world *w = xzalloc(sizeof *w);
    strcpy(w->dir, "/tmp/vmroam-probeio.XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    *state = w;
    return 0;
}

static int
teardown(void **state)
{
    struct world *w = *state;
    if (w->frozen) {
        run_shell("fsfreeze --unfreeze %s", w->mnt);
    }
    if (w->mnt) {
        /* The probe's thread may still be leaving the file system. */
        for (int i = 0; i < 50 && system_umount(w->mnt); i++) {
            xnanosleep(100 * 1000 * 1000);
        }
        free(w->mnt);
    }
    run_shell("rm -rf %s", w->dir);
    free(w);
    return 0;
}

/* Polls probe 'op' of "m1" until it is over, 5 s at most; returns its
 * result. */
static char *
wait_over(struct migr_probe_io *io, enum migr_probe_op op,
          struct sset *resolved)
{
    char *result = NULL;
    long long int deadline = time_msec() + 5000;
    while (!migr_probe_io_poll(io, op, "m1", resolved, &result)) {
        assert_true(time_msec() < deadline);
        xnanosleep(10 * 1000 * 1000);
    }
    return result;
}

/* The events (IN_CREATE, then IN_DELETE) that the probe file of a1.qcow2
 * met in the directory watched on 'fd', within 2 s. */
static uint32_t
probe_events(int fd)
{
    uint32_t seen = 0;
    long long int deadline = time_msec() + 2000;
    while (seen != (IN_CREATE | IN_DELETE) && time_msec() < deadline) {
        char buf[4096] __attribute__((aligned(8)));
        ssize_t n = read(fd, buf, sizeof buf);
        for (char *p = buf; n > 0 && p < buf + n; ) {
            const struct inotify_event *e = (const void *) p;
            if (e->len && !strcmp(e->name, ".a1.qcow2.vmroam-probe-" TOKEN)) {
                seen |= e->mask & (IN_CREATE | IN_DELETE);
            }
            p += sizeof *e + e->len;
        }
        xnanosleep(10 * 1000 * 1000);
    }
    return seen;
}

static void
test_write_check_forget(void **state)
{
    struct world *w = *state;
    assert_int_equal(run_shell("touch %s/a1.qcow2 && ln -s a1.qcow2 %s/link",
                         w->dir, w->dir), 0);
    char *link = xasprintf("%s/link", w->dir);
    char *disk = xasprintf("%s/a1.qcow2", w->dir);
    char *probe = xasprintf("%s/.a1.qcow2.vmroam-probe-" TOKEN, w->dir);
    struct sset disks = SSET_INITIALIZER(&disks);
    sset_add(&disks, link);

    struct migr_probe_io *io = migr_probe_io_create(5000);
    migr_probe_io_start(io, MIGR_PROBE_WRITE, "m1", &disks, TOKEN);
    struct sset resolved = SSET_INITIALIZER(&resolved);
    assert_null(wait_over(io, MIGR_PROBE_WRITE, &resolved));
    assert_int_equal(sset_count(&resolved), 1);
    assert_true(sset_contains(&resolved, disk));
    assert_int_equal(access(probe, F_OK), 0);

    /* The destination's view: the same token, then another. */
    migr_probe_io_start(io, MIGR_PROBE_CHECK, "m1", &resolved, TOKEN);
    assert_null(wait_over(io, MIGR_PROBE_CHECK, NULL));
    migr_probe_io_forget(io, MIGR_PROBE_CHECK, "m1");
    migr_probe_io_start(io, MIGR_PROBE_CHECK, "m1", &resolved, "other");
    char *why = wait_over(io, MIGR_PROBE_CHECK, NULL);
    char *want = xasprintf("disk %s: not the source's file (the probe the "
                           "source wrote beside it is missing here)", disk);
    assert_string_equal(why, want);
    free(want);
    free(why);
    migr_probe_io_forget(io, MIGR_PROBE_CHECK, "m1");

    migr_probe_io_forget(io, MIGR_PROBE_WRITE, "m1");
    assert_true(file_gone(probe, 2000));
    migr_probe_io_destroy(io);
    sset_destroy(&resolved);
    sset_destroy(&disks);
    free(probe);
    free(disk);
    free(link);
}

static void
test_hung_file_system_times_out(void **state)
{
    struct world *w = *state;
    if (getuid()) {
        skip();                 /* Mounting needs root. */
    }
    w->mnt = xasprintf("%s/mnt", w->dir);
    assert_int_equal(run_shell("cd %s && truncate -s 16M fs.img "
                         "&& mkfs.ext4 -q fs.img && mkdir mnt "
                         "&& mount -o loop fs.img mnt && touch mnt/a1.qcow2",
                         w->dir), 0);
    assert_int_equal(run_shell("fsfreeze --freeze %s", w->mnt), 0);
    w->frozen = true;

    char *disk = xasprintf("%s/a1.qcow2", w->mnt);
    char *probe = xasprintf("%s/.a1.qcow2.vmroam-probe-" TOKEN, w->mnt);
    struct sset disks = SSET_INITIALIZER(&disks);
    sset_add(&disks, disk);
    struct migr_probe_io *io = migr_probe_io_create(300);
    long long int start = time_msec();
    migr_probe_io_start(io, MIGR_PROBE_WRITE, "m1", &disks, TOKEN);
    char *result = NULL;
    assert_false(migr_probe_io_poll(io, MIGR_PROBE_WRITE, "m1", NULL,
                                    &result));
    result = wait_over(io, MIGR_PROBE_WRITE, NULL);
    long long int took = time_msec() - start;
    assert_string_equal(result, "the file system of the disks did not "
                        "answer within 300 ms");
    free(result);
    assert_true(took >= 300 && took < 1000);

    /* Forgotten while its thread waits: once the file system answers, the
     * thread writes the probe and removes it again. */
    migr_probe_io_forget(io, MIGR_PROBE_WRITE, "m1");
    migr_probe_io_destroy(io);
    int fd = inotify_init1(IN_NONBLOCK);
    assert_true(inotify_add_watch(fd, w->mnt, IN_CREATE | IN_DELETE) >= 0);
    assert_int_equal(run_shell("fsfreeze --unfreeze %s", w->mnt), 0);
    w->frozen = false;
    assert_int_equal(probe_events(fd), IN_CREATE | IN_DELETE);
    close(fd);
    assert_int_equal(access(probe, F_OK), -1);
    sset_destroy(&disks);
    free(probe);
    free(disk);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_check_forget, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hung_file_system_times_out,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
