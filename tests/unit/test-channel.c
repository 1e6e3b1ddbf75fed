/* Tests of the migration channel (migrator/channel.c) in one process: a
 * source channel and a destination channel with a real TLS connection
 * between them over loopback, certificates from the host PKI, and plain
 * unix sockets standing in for the two QEMUs.  One process has one
 * certificate, so both ends are host "hv1" here; the integration tests run
 * hosts with certificates of their own. */

#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "migrator/channel.h"
#include "migrator/pki.h"
#include "ovs-thread.h"
#include "random.h"
#include "tests/unit/helpers.h"
#include "timeval.h"
#include "util.h"

#define ID "6a1b5f3e-0d3c-4f5e-9a7b-0123456789ab"

struct world {
    char dir[64];
    struct migr_channel *src, *dst;
    char *address;
    const char *src_paths[MIGR_N_STREAM_KINDS];
    const char *dst_paths[MIGR_N_STREAM_KINDS];
    char *paths[4];
    uid_t uid;                  /* QEMU's user, on both hosts. */
    gid_t gid;
};

/* A unix socket listening at 'path'. */
static int
listen_unix(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    ovs_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(bind(fd, (struct sockaddr *) &sun, sizeof sun), 0);
    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

static int
connect_unix(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    ovs_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    /* A test that waits for an answer fails, not hangs, without one. */
    struct timeval timeout = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    for (int i = 0; i < 100; i++) {
        if (!connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
            return fd;
        }
        xnanosleep(10 * 1000 * 1000);
    }
    fail_msg("cannot connect to %s: %s", path, ovs_strerror(errno));
    return -1;
}

/* The destination's QEMU: takes one connection on 'fd', says hello (the
 * relay carries both ways), and reads it to the end, counting the bytes
 * and their sum. */
struct sink {
    int fd;
    uint64_t bytes, sum;
};

static void *
sink_main(void *s_)
{
    struct sink *s = s_;
    int conn = accept(s->fd, NULL, NULL);
    ignore(write(conn, "hello", 5));
    uint8_t buf[65536];
    ssize_t n;
    while ((n = read(conn, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            s->sum += buf[i];
        }
        s->bytes += n;
    }
    close(conn);
    return NULL;
}

static int
setup(void **state)
{
    struct world *w = xzalloc(sizeof *w);
    w->uid = getuid();
    w->gid = getgid();
    strcpy(w->dir, "/tmp/vmroam-channel.XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    char *pki = xasprintf("%s/pki", w->dir);
    assert_null(migr_pki_init(pki, 1));
    assert_null(migr_pki_host(pki, "hv1", 1));
    migr_pki_use_host(pki, "hv1");
    free(pki);

    char *error = NULL;
    w->dst = migr_channel_create("pssl:0:127.0.0.1", &error);
    assert_null(error);
    w->src = migr_channel_create(NULL, &error);
    assert_null(error);
    w->address = migr_channel_address(w->dst, "10.0.0.1");
    assert_non_null(w->address);
    assert_true(!strncmp(w->address, "ssl:127.0.0.1:", 14));

    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        char *src_dir = xasprintf("%s/src", w->dir);
        char *dst_dir = xasprintf("%s/dst", w->dir);
        w->paths[2 * k] = migr_channel_socket(src_dir, ID, k);
        w->paths[2 * k + 1] = migr_channel_socket(dst_dir, ID, k);
        w->src_paths[k] = w->paths[2 * k];
        w->dst_paths[k] = w->paths[2 * k + 1];
        free(src_dir);
        free(dst_dir);
    }
    char *mk = xasprintf("mkdir -p %s/src %s/dst", w->dir, w->dir);
    assert_int_equal(system(mk), 0);
    free(mk);
    *state = w;
    return 0;
}

static int
teardown(void **state)
{
    struct world *w = *state;
    migr_channel_destroy(w->src);
    migr_channel_destroy(w->dst);
    char *cmd = xasprintf("rm -rf %s", w->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    for (int i = 0; i < 4; i++) {
        free(w->paths[i]);
    }
    free(w->address);
    free(w);
    return 0;
}

/* The destination expects migration ID from 'source'. */
static void
expect(struct world *w, const char *source)
{
    assert_null(migr_channel_expect(w->dst, ID, source, w->dst_paths,
                                    w->uid, w->gid));
}

/* The source serves migration ID to the channel of host 'destination'. */
static char *
serve(struct world *w, const char *destination, enum migr_compress_mode mode)
{
    return migr_channel_serve(w->src, ID, w->address, destination,
                              w->src_paths, w->uid, w->gid, mode);
}

/* Sends 'n' bytes of a mix of zeros and random data on 'fd' and adds their
 * sum to '*sum'. */
static void
send_data(int fd, size_t n, uint64_t *sum)
{
    uint8_t buf[100000];
    size_t sent = 0;
    while (sent < n) {
        size_t len = MIN(sizeof buf, n - sent);
        if ((sent / sizeof buf) % 2) {
            random_bytes(buf, len);
        } else {
            memset(buf, 0, len);
        }
        for (size_t i = 0; i < len; i++) {
            *sum += buf[i];
        }
        size_t done = 0;
        while (done < len) {
            ssize_t w = write(fd, buf + done, len - done);
            assert_true(w > 0);
            done += w;
        }
        sent += len;
    }
}

/* Reads what the sink said on 'fd' until it hangs up or has said hello:
 * "" if the channel refused the connection. */
static void
read_answer(int fd, char *answer, size_t size)
{
    size = MIN(size, 6);
    size_t len = 0;
    ssize_t n;
    while (len < size - 1 && (n = read(fd, answer + len, size - 1 - len))
           > 0) {
        len += n;
    }
    answer[len] = '\0';
}

/* Both streams of a migration cross intact, compressed as 'mode' says, and
 * each end counts the CPU time its relays took; returns the wire bytes per
 * stream byte. */
static double
streams_cross_intact(struct world *w, enum migr_compress_mode mode)
{
    clock_t cpu_before = clock();
    struct sink sinks[MIGR_N_STREAM_KINDS];
    pthread_t threads[MIGR_N_STREAM_KINDS];
    expect(w, "hv1");
    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        sinks[k] = (struct sink) { .fd = listen_unix(w->dst_paths[k]) };
        threads[k] = ovs_thread_create("sink", sink_main, &sinks[k]);
    }
    assert_null(serve(w, "hv1", mode));

    uint64_t sums[MIGR_N_STREAM_KINDS] = { 0 };
    size_t sizes[MIGR_N_STREAM_KINDS] = { 20 * 1000 * 1000, 3 * 1000 * 1000 };
    int fds[MIGR_N_STREAM_KINDS];
    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        char answer[64];
        fds[k] = connect_unix(w->src_paths[k]);
        read_answer(fds[k], answer, sizeof answer);
        assert_string_equal(answer, "hello");
    }
    /* Both streams are through, their handshakes counted. */
    struct migr_channel_stats src0, dst0;
    char *error;
    migr_channel_get(w->src, ID, &src0, &error);
    assert_null(error);
    migr_channel_get(w->dst, ID, &dst0, &error);
    assert_null(error);
    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        send_data(fds[k], sizes[k], &sums[k]);
    }
    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        close(fds[k]);
        xpthread_join(threads[k], NULL);
        close(sinks[k].fd);
        assert_int_equal(sinks[k].bytes, sizes[k]);
        assert_int_equal(sinks[k].sum, sums[k]);
    }

    struct migr_channel_stats st;
    migr_channel_get(w->src, ID, &st, &error);
    assert_null(error);
    assert_int_equal(st.streams, 2);
    assert_int_equal(st.bytes_in, sizes[0] + sizes[1]);
    double ratio = (double) st.bytes_wire / st.bytes_in;
    uint64_t cpu_ns = st.cpu_ns;
    migr_channel_get(w->dst, ID, &st, &error);
    assert_null(error);
    assert_int_equal(st.streams, 2);

    /* Each end counted CPU time for carrying the data, and both ends
     * together no more than this whole process took. */
    assert_true(cpu_ns > src0.cpu_ns && st.cpu_ns > dst0.cpu_ns);
    assert_true(cpu_ns + st.cpu_ns
                <= (clock() - cpu_before) * (1e9 / CLOCKS_PER_SEC));
    return ratio;
}

static void
test_streams_cross_intact_raw(void **state)
{
    /* Every block raw: the codec's and the channel's headers only. */
    double ratio = streams_cross_intact(*state, MIGR_COMPRESS_NONE);
    assert_true(ratio > 1.0 && ratio < 1.001);
}

static void
test_streams_cross_intact_lz4(void **state)
{
    /* Half zeros, half random: lz4 takes the zeros almost away. */
    double ratio = streams_cross_intact(*state, MIGR_COMPRESS_LZ4);
    assert_true(ratio > 0.45 && ratio < 0.55);
}

/* Opens a connection to the source's memory socket, as QEMU would, and
 * asserts that it is hung up on without a word from the destination. */
static void
assert_refused(struct world *w)
{
    int conn = connect_unix(w->src_paths[MIGR_STREAM_MEMORY]);
    char answer[64];
    read_answer(conn, answer, sizeof answer);
    assert_string_equal(answer, "");
    close(conn);
}

/* Waits (1 s at most) for 'ch' to know why migration ID failed; returns
 * why (the caller frees it) and stores its statistics. */
static char *
wait_error(struct migr_channel *ch, struct migr_channel_stats *st)
{
    char *error = NULL;
    for (int i = 0; i < 100 && !error; i++) {
        migr_channel_get(ch, ID, st, &error);
        xnanosleep(10 * 1000 * 1000);
    }
    return error;
}

static void
test_wrong_source_gets_nothing(void **state)
{
    struct world *w = *state;
    expect(w, "hv9");
    int fd = listen_unix(w->dst_paths[MIGR_STREAM_MEMORY]);
    assert_null(serve(w, "hv1", MIGR_COMPRESS_LZ4));
    assert_refused(w);
    close(fd);

    struct migr_channel_stats st;
    char *error = wait_error(w->dst, &st);
    assert_string_equal(error, "hv1 is not the source of migration "
                        "6a1b5f3e");
    assert_int_equal(st.streams, 0);
    free(error);
}

static void
test_unknown_migration_gets_nothing(void **state)
{
    struct world *w = *state;
    assert_null(serve(w, "hv1", MIGR_COMPRESS_LZ4));
    assert_refused(w);

    struct migr_channel_stats st;
    char *error = wait_error(w->src, &st);
    assert_non_null(strstr(error, "ended early"));
    free(error);
}

static void
test_wrong_destination_certificate(void **state)
{
    struct world *w = *state;
    expect(w, "hv1");
    assert_null(serve(w, "hv3", MIGR_COMPRESS_LZ4));
    assert_refused(w);

    struct migr_channel_stats st;
    char *error = wait_error(w->src, &st);
    char *want = xasprintf("the channel at %s presented hv1's certificate, "
                           "not hv3's", w->address);
    assert_string_equal(error, want);
    free(want);
    free(error);
}

static void
test_close_cuts_the_connections(void **state)
{
    struct world *w = *state;
    expect(w, "hv1");
    struct sink sink = { .fd = listen_unix(w->dst_paths[0]) };
    pthread_t thread = ovs_thread_create("sink", sink_main, &sink);
    assert_null(serve(w, "hv1", MIGR_COMPRESS_LZ4));
    int conn = connect_unix(w->src_paths[0]);
    uint64_t sum = 0;
    char answer[64];
    read_answer(conn, answer, sizeof answer);
    assert_string_equal(answer, "hello");
    send_data(conn, 1000000, &sum);
    migr_channel_close(w->src, ID);

    /* QEMU's writes fail soon: the relay hung up. */
    uint8_t buf[65536] = { 0 };
    long long int deadline = time_msec() + 5000;
    while (write(conn, buf, sizeof buf) > 0) {
        assert_true(time_msec() < deadline);
    }
    close(conn);
    xpthread_join(thread, NULL);
    close(sink.fd);
    assert_true(sink.bytes < 1000000 + 5000 * sizeof buf);
    assert_true(access(w->src_paths[0], F_OK) < 0);
}

/* A source older than the migrations' own socket directories gave its
 * QEMU, and so libvirt gave the destination's, the path of that time: the
 * destination delivers there when its QEMU does not listen at the new one. */
static void
test_older_source_path(void **state)
{
    struct world *w = *state;
    expect(w, "hv1");
    char *old = xasprintf("%s/dst/vmroam-%s-memory.sock", w->dir, ID);
    struct sink sink = { .fd = listen_unix(old) };
    pthread_t thread = ovs_thread_create("sink", sink_main, &sink);
    assert_null(serve(w, "hv1", MIGR_COMPRESS_LZ4));
    int conn = connect_unix(w->src_paths[MIGR_STREAM_MEMORY]);
    char answer[64];
    read_answer(conn, answer, sizeof answer);
    assert_string_equal(answer, "hello");
    uint64_t sum = 0;
    send_data(conn, 100000, &sum);
    close(conn);
    xpthread_join(thread, NULL);
    close(sink.fd);
    assert_int_equal(sink.bytes, 100000);
    assert_int_equal(sink.sum, sum);
    free(old);
}

/* Runs 'fn' on 'path' in a child process that has dropped root for 'w''s
 * QEMU user; returns its errno value, 0 if it succeeded. */
static int
as_qemu(const struct world *w, int (*fn)(int, const struct sockaddr *,
                                          socklen_t), const char *path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        ovs_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        int error = (setgroups(0, NULL) || setgid(w->gid) || setuid(w->uid)
                     || fn(fd, (struct sockaddr *) &sun, sizeof sun)
                     ? errno : 0);
        _exit(error);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* A QEMU that is not root may create its incoming socket on the
 * destination and connect to the source's, and no other user may; both
 * go, with their directory, when the migration's channel closes. */
static void
test_sockets_belong_to_qemus_user(void **state)
{
    struct world *w = *state;
    if (getuid()) {
        skip();                 /* Giving files away needs root. */
    }
    w->uid = 64055;
    w->gid = 64056;
    /* As /run/libvirt/qemu: anyone may look up names in it. */
    assert_int_equal(chmod(w->dir, 0755), 0);
    expect(w, "hv1");
    assert_null(serve(w, "hv1", MIGR_COMPRESS_LZ4));
    char *dirs[2] = { dir_name(w->src_paths[0]), dir_name(w->dst_paths[0]) };
    for (int i = 0; i < 2; i++) {
        struct stat st;
        assert_int_equal(stat(dirs[i], &st), 0);
        assert_int_equal(st.st_uid, w->uid);
        assert_int_equal(st.st_gid, w->gid);
        assert_int_equal(st.st_mode & 07777, 0700);
    }
    assert_int_equal(as_qemu(w, bind, w->dst_paths[0]), 0);
    assert_int_equal(as_qemu(w, connect, w->src_paths[0]), 0);

    struct world other = *w;
    other.uid = w->uid + 1;
    assert_int_equal(as_qemu(&other, connect, w->src_paths[0]), EACCES);

    migr_channel_close(w->src, ID);
    migr_channel_close(w->dst, ID);
    for (int i = 0; i < 2; i++) {
        assert_true(file_gone(dirs[i], 1000));
        free(dirs[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_streams_cross_intact_raw,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_streams_cross_intact_lz4,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_source_gets_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_migration_gets_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_destination_certificate,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_cuts_the_connections,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sockets_belong_to_qemus_user,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_source_path, setup,
                                        teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
