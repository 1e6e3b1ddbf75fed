/* Micro-benchmarks of the migration channel's data path on one core.
 *
 * First the framing alone (migrator/frame.c): encode and decode
 * throughput, in MB/s of stream bytes, and the compression ratio, for
 * memory like a real server's (a quarter zeros, half text and code, a
 * quarter random, mixed page by page) and each kind alone, then for
 * several block sizes.  Then the whole path (migrator/channel.c): a source
 * channel and a destination channel in this process, mutual TLS between
 * them over loopback, unix sockets standing in for the two QEMUs, all
 * pinned to one core, so that stream bytes per second are bytes per core;
 * and the channel's own CPU per GB, both ends, without what the QEMU
 * stand-ins' threads spent; and each end's stream bytes per second of its
 * relay's CPU time, as the channel counts it in its statistics.
 *
 *   frame-bench [-m MB] [-p] [-r ROUNDS] FILE...
 *
 * -p measures the whole path alone.
 *
 * The text and code come from the FILEs, 64 kB of each in turn.  Each
 * figure is the best of ROUNDS, since other work shares the cores. */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "migrator/channel.h"
#include "migrator/checksum.h"
#include "migrator/frame.h"
#include "migrator/pki.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "random.h"
#include "socket-util.h"
#include "util.h"

/* QEMU writes its stream through a 32 kB buffer; a socket read gets about
 * 64 kB at a time. */
#define WRITE_SIZE (32 * 1024)
#define READ_SIZE (64 * 1024)
#define PAGE 4096

static double
now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Fills 'n' bytes of 'p' with 64 kB of each of 'files' in turn, starting
 * over a file at its end. */
static void
fill_text(uint8_t *p, size_t n, char **files, int n_files)
{
    int *fds = xmalloc(n_files * sizeof *fds);
    for (int i = 0; i < n_files; i++) {
        fds[i] = open(files[i], O_RDONLY);
        if (fds[i] < 0) {
            ovs_fatal(errno, "%s", files[i]);
        }
    }
    for (size_t done = 0, i = 0; done < n; i = (i + 1) % n_files) {
        size_t want = MIN(READ_SIZE, n - done);
        ssize_t got = read(fds[i], p + done, want);
        if (got <= 0) {
            lseek(fds[i], 0, SEEK_SET);
            got = read(fds[i], p + done, want);
        }
        if (got <= 0) {
            ovs_fatal(0, "%s: cannot read", files[i]);
        }
        done += got;
    }
    for (int i = 0; i < n_files; i++) {
        close(fds[i]);
    }
    free(fds);
}

/* Page by page, a quarter zeros, half 'text', a quarter 'random', in an
 * order that does not repeat. */
static uint8_t *
make_mixed(const uint8_t *text, const uint8_t *random, size_t n)
{
    uint8_t *p = xmalloc(n);

    random_set_seed(1);
    for (size_t i = 0; i < n; i += PAGE) {
        int kind = random_range(4);
        const uint8_t *src = kind == 0 ? NULL : kind == 3 ? random : text;
        if (src) {
            memcpy(p + i, src + i, MIN(PAGE, n - i));
        } else {
            memset(p + i, 0, MIN(PAGE, n - i));
        }
    }
    return p;
}

struct result {
    double encode_sec, decode_sec;
    struct migr_frame_stats stats;
};

static void
encode(const uint8_t *data, size_t n, enum migr_compress_mode mode,
       size_t block, struct ofpbuf *wire, struct result *r)
{
    struct migr_frame_encoder enc;

    ofpbuf_clear(wire);
    migr_frame_encoder_init(&enc, mode, block);
    double start = now_sec();
    for (size_t i = 0; i < n; i += WRITE_SIZE) {
        migr_frame_encode(&enc, data + i, MIN(WRITE_SIZE, n - i), wire);
    }
    migr_frame_flush(&enc, wire);
    r->encode_sec = now_sec() - start;
    r->stats = enc.stats;
    migr_frame_encoder_destroy(&enc);
}

static void
decode(const struct ofpbuf *wire, const uint8_t *data, size_t n,
       struct ofpbuf *out, struct result *r)
{
    struct migr_frame_decoder dec;
    const uint8_t *p = wire->data;

    ofpbuf_clear(out);
    migr_frame_decoder_init(&dec);
    double start = now_sec();
    for (size_t i = 0; i < wire->size; i += READ_SIZE) {
        migr_frame_decode(&dec, p + i, MIN(READ_SIZE, wire->size - i), out);
    }
    if (migr_frame_decoder_finish(&dec)) {
        ovs_fatal(0, "%s", migr_frame_decoder_error(&dec));
    }
    r->decode_sec = now_sec() - start;
    migr_frame_decoder_destroy(&dec);
    if (out->size != n || memcmp(out->data, data, n)) {
        ovs_fatal(0, "the decoded stream differs from the encoded one");
    }
}

/* Runs 'rounds' rounds and prints the best figures. */
static void
bench(const char *name, const uint8_t *data, size_t n,
      enum migr_compress_mode mode, size_t block, int rounds)
{
    struct ofpbuf wire, out;
    struct result best = { .encode_sec = 1e9, .decode_sec = 1e9 };

    ofpbuf_init(&wire, n + n / 64);
    ofpbuf_init(&out, n);
    for (int i = 0; i < rounds; i++) {
        struct result r;
        encode(data, n, mode, block, &wire, &r);
        decode(&wire, data, n, &out, &r);
        best.encode_sec = MIN(best.encode_sec, r.encode_sec);
        best.decode_sec = MIN(best.decode_sec, r.decode_sec);
        best.stats = r.stats;
    }
    ofpbuf_uninit(&wire);
    ofpbuf_uninit(&out);

    double mb = n / 1e6;
    printf("  %-7s %-4s %3zu kB blocks: encode %6.0f MB/s, decode %6.0f MB/s, "
           "both %5.0f MB/s; ratio %.3f (%"PRIu64" lz4, %"PRIu64" raw)\n",
           name, migr_compress_mode_name(mode), block / 1024,
           mb / best.encode_sec, mb / best.decode_sec,
           mb / (best.encode_sec + best.decode_sec),
           (double) best.stats.wire_bytes / best.stats.stream_bytes,
           best.stats.blocks_lz4, best.stats.blocks_raw);
    fflush(stdout);
}

/* MB/s of 'checksum' alone over 'n' bytes of 'data' in default blocks,
 * and what it summed to (so that the work is not optimized away). */
static double
checksum_speed(ovs_be32 (*checksum)(const uint8_t *, size_t),
               const uint8_t *data, size_t n, int rounds, uint32_t *sum)
{
    double best = 1e9;

    for (int i = 0; i < rounds; i++) {
        double start = now_sec();
        for (size_t j = 0; j < n; j += MIGR_FRAME_DEFAULT_BLOCK) {
            *sum += (OVS_FORCE uint32_t) checksum(
                data + j, MIN(MIGR_FRAME_DEFAULT_BLOCK, n - j));
        }
        best = MIN(best, now_sec() - start);
    }
    return n / 1e6 / best;
}

/* What the checksum alone costs: the frames' (migrator/checksum.h) and
 * lib/crc32c.c's table, which the frames' takes without SSE 4.2. */
static void
bench_crc(const uint8_t *data, size_t n, int rounds)
{
    uint32_t ours = 0, table = 0;
    double ours_mbps = checksum_speed(migr_checksum, data, n, rounds, &ours);
    double table_mbps = checksum_speed(crc32c, data, n, rounds, &table);
    printf("  the checksum alone: %.0f MB/s (lib/crc32c.c's table: %.0f "
           "MB/s)%s\n", ours_mbps, table_mbps,
           ours == table ? "" : ", THE TWO DIFFER");
}

/* Memory of one kind, named. */
struct kind {
    const char *name;
    const uint8_t *data;
};

/* The framing alone: with and without lz4 per kind of memory ('kinds[0]'
 * is the mixed one), the checksum, then lz4 per block size. */
static void
bench_framing(const struct kind kinds[], size_t n_kinds, size_t n,
              size_t mb, int rounds)
{
    printf("framing and lz4 on one core, %zu MiB of each kind, best of %d "
           "(MB/s of stream bytes; ratio = wire bytes / stream bytes):\n",
           mb, rounds);
    size_t bs = MIGR_FRAME_DEFAULT_BLOCK;
    for (size_t i = 0; i < n_kinds; i++) {
        bench(kinds[i].name, kinds[i].data, n, MIGR_COMPRESS_LZ4, bs, rounds);
        bench(kinds[i].name, kinds[i].data, n, MIGR_COMPRESS_NONE, bs,
              rounds);
    }
    bench_crc(kinds[0].data, n, rounds);

    printf("block size, mixed memory:\n");
    for (size_t b = 16 * 1024; b <= MIGR_FRAME_MAX_BLOCK; b *= 2) {
        bench(kinds[0].name, kinds[0].data, n, MIGR_COMPRESS_LZ4, b, rounds);
    }
}

/* The whole path: what one migration stream costs the two channels. */

struct path {
    char dir[64];
    char *src_dir, *dst_dir;    /* The two ends' socket directories. */
    struct migr_channel *src, *dst;
    char *address;
    int n_runs;
};

/* Both channels, with a fresh PKI whose one host certificate both ends
 * present (one process has one certificate). */
static void
path_init(struct path *p)
{
    ovs_strlcpy(p->dir, "/tmp/vmroam-frame-bench.XXXXXX", sizeof p->dir);
    if (!mkdtemp(p->dir)) {
        ovs_fatal(errno, "mkdtemp");
    }
    p->src_dir = xasprintf("%s/src", p->dir);
    p->dst_dir = xasprintf("%s/dst", p->dir);
    if (mkdir(p->src_dir, 0755) || mkdir(p->dst_dir, 0755)) {
        ovs_fatal(errno, "mkdir");
    }
    char *pki = xasprintf("%s/pki", p->dir);
    char *error = migr_pki_init(pki, 1);
    if (!error) {
        error = migr_pki_host(pki, "hv1", 1);
    }
    if (error) {
        ovs_fatal(0, "%s", error);
    }
    migr_pki_use_host(pki, "hv1");
    free(pki);

    p->dst = migr_channel_create("pssl:0:127.0.0.1", &error);
    if (!error) {
        p->src = migr_channel_create(NULL, &error);
    }
    if (error) {
        ovs_fatal(0, "%s", error);
    }
    p->address = migr_channel_address(p->dst, "127.0.0.1");
}

static void
path_destroy(struct path *p)
{
    migr_channel_destroy(p->src);
    migr_channel_destroy(p->dst);
    free(p->address);
    free(p->src_dir);
    free(p->dst_dir);
    char *cmd = xasprintf("rm -rf %s", p->dir);
    ignore(system(cmd));
    free(cmd);
}

/* CPU seconds of this process or thread ('who': RUSAGE_SELF or
 * RUSAGE_THREAD). */
static double
cpu_sec(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
            + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

/* The source's QEMU: writes 'total' bytes of 'data' (of 'n', over again),
 * then hangs up. */
struct feeder {
    int fd;
    const uint8_t *data;
    size_t n, total;
    double cpu;                 /* Its thread's CPU seconds. */
};

static void *
feeder_main(void *f_)
{
    struct feeder *f = f_;
    for (size_t sent = 0; sent < f->total; ) {
        size_t at = sent % f->n;
        ssize_t w = write(f->fd, f->data + at,
                          MIN(WRITE_SIZE, MIN(f->n - at, f->total - sent)));
        if (w <= 0) {
            ovs_fatal(errno, "writing into the channel");
        }
        sent += w;
    }
    close(f->fd);
    f->cpu = cpu_sec(RUSAGE_THREAD);
    return NULL;
}

/* The destination's QEMU: takes one connection on 'fd' and reads it to
 * its end. */
struct drain {
    int fd;
    uint64_t bytes;
    double cpu;                 /* Its thread's CPU seconds. */
};

static void *
drain_main(void *d_)
{
    struct drain *d = d_;
    int conn = accept(d->fd, NULL, NULL);
    uint8_t *buf = xmalloc(READ_SIZE);
    ssize_t n;

    while ((n = read(conn, buf, READ_SIZE)) > 0) {
        d->bytes += n;
    }
    free(buf);
    close(conn);
    d->cpu = cpu_sec(RUSAGE_THREAD);
    return NULL;
}

struct path_result {
    double sec, cpu;
    double qemus;               /* CPU of the QEMU stand-ins, in 'cpu'. */
    struct migr_channel_stats src, dst;     /* Each end's channel. */
};

/* One migration of 'total' bytes of 'data' through the memory stream. */
static void
path_run(struct path *p, const uint8_t *data, size_t n, size_t total,
         enum migr_compress_mode mode, struct path_result *r)
{
    char *id = xasprintf("6a1b5f3e-0d3c-4f5e-9a7b-%012d", p->n_runs++);
    const char *src_paths[MIGR_N_STREAM_KINDS] = { NULL };
    const char *dst_paths[MIGR_N_STREAM_KINDS] = { NULL };
    /* Each end's sockets in a directory of its own, as on two hosts. */
    char *src_path = migr_channel_socket(p->src_dir, id, MIGR_STREAM_MEMORY);
    char *dst_path = migr_channel_socket(p->dst_dir, id, MIGR_STREAM_MEMORY);
    src_paths[MIGR_STREAM_MEMORY] = src_path;
    dst_paths[MIGR_STREAM_MEMORY] = dst_path;

    char *error = migr_channel_expect(p->dst, id, "hv1", dst_paths, getuid(),
                                      getgid());
    if (!error) {
        error = migr_channel_serve(p->src, id, p->address, "hv1", src_paths,
                                   getuid(), getgid(), mode);
    }
    if (error) {
        ovs_fatal(0, "%s", error);
    }
    struct drain d = { .fd = make_unix_socket(SOCK_STREAM, false, dst_path,
                                              NULL) };
    if (d.fd < 0 || listen(d.fd, 1)) {
        ovs_fatal(0, "%s: cannot listen", dst_path);
    }
    pthread_t drainer = ovs_thread_create("drain", drain_main, &d);

    double start = now_sec(), cpu = cpu_sec(RUSAGE_SELF);
    struct feeder f = { .data = data, .n = n, .total = total,
                        .fd = make_unix_socket(SOCK_STREAM, false, NULL,
                                               src_path) };
    if (f.fd < 0) {
        ovs_fatal(-f.fd, "%s: cannot connect", src_path);
    }
    pthread_t feeder = ovs_thread_create("feed", feeder_main, &f);
    xpthread_join(feeder, NULL);
    xpthread_join(drainer, NULL);
    r->sec = now_sec() - start;
    r->cpu = cpu_sec(RUSAGE_SELF) - cpu;
    r->qemus = f.cpu + d.cpu;
    if (d.bytes != total) {
        ovs_fatal(0, "the destination got %"PRIu64" bytes of %zu",
                  d.bytes, total);
    }
    migr_channel_get(p->src, id, &r->src, &error);
    if (!error) {
        migr_channel_get(p->dst, id, &r->dst, &error);
    }
    if (error) {
        ovs_fatal(0, "%s", error);
    }
    migr_channel_close(p->src, id);
    migr_channel_close(p->dst, id);
    close(d.fd);
    free(src_path);
    free(dst_path);
    free(id);
}

static void
bench_path(struct path *p, const char *name, const uint8_t *data, size_t n,
           enum migr_compress_mode mode, int rounds)
{
    size_t total = 8 * n;
    struct path_result best = { .sec = 0 };

    for (int i = 0; i < rounds; i++) {
        struct path_result r;
        path_run(p, data, n, total, mode, &r);
        if (!best.sec || r.sec < best.sec) {
            best = r;
        }
    }
    double gb = total / 1e9;
    printf("  %-7s %-4s %6.0f MB/s of stream, %5.2f CPU s per GB, of "
           "which the channel's %4.2f (both ends: %4.0f MB/s a core; "
           "sending end %4.0f, receiving end %4.0f), ratio %.3f\n",
           name, migr_compress_mode_name(mode), gb * 1e3 / best.sec,
           best.cpu / gb, (best.cpu - best.qemus) / gb,
           gb * 1e3 / (best.cpu - best.qemus),
           total / (best.src.cpu_ns / 1e3), total / (best.dst.cpu_ns / 1e3),
           (double) best.src.bytes_wire / best.src.bytes_in);
}

/* Keeps this process and the threads it starts on one core. */
static void
pin_to_one_core(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(sched_getcpu(), &set);
    if (sched_setaffinity(0, sizeof set, &set)) {
        ovs_fatal(errno, "sched_setaffinity");
    }
}

int
main(int argc, char *argv[])
{
    size_t mb = 32;
    int rounds = 3;
    int c;

    set_program_name(argv[0]);
    bool path_only = false;
    while ((c = getopt(argc, argv, "m:pr:")) != -1) {
        if (c == 'm') {
            mb = atoi(optarg);
        } else if (c == 'p') {
            path_only = true;
        } else if (c == 'r') {
            rounds = atoi(optarg);
        } else {
            ovs_fatal(0, "usage: %s [-m MB] [-p] [-r ROUNDS] FILE...",
                      argv[0]);
        }
    }
    if (optind >= argc || !mb || rounds < 1) {
        ovs_fatal(0, "usage: %s [-m MB] [-p] [-r ROUNDS] FILE...", argv[0]);
    }

    size_t n = mb * 1024 * 1024;
    uint8_t *zeros = xzalloc(n);
    uint8_t *text = xmalloc(n);
    uint8_t *rnd = xmalloc(n);
    fill_text(text, n, argv + optind, argc - optind);
    random_set_seed(2);
    random_bytes(rnd, n);
    uint8_t *mixed = make_mixed(text, rnd, n);

    const struct kind kinds[] = {
        { "mixed", mixed }, { "zeros", zeros }, { "text", text },
        { "random", rnd },
    };
    if (!path_only) {
        bench_framing(kinds, ARRAY_SIZE(kinds), n, mb, rounds);
    }

    printf("the channel's whole path, both hosts' ends on one core (QEMU's "
           "socket, framing, TLS, loopback, TLS, framing, QEMU's socket), "
           "%zu MiB of each kind 8 times, best of %d:\n", mb, rounds);
    pin_to_one_core();
    /* Each stream's summary, and a channel closed while the two ends
     * still say goodbye, are not figures. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_ERR);
    struct path p = { .n_runs = 0 };
    path_init(&p);
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        if (kinds[i].data != zeros) {
            for (int m = MIGR_COMPRESS_AUTO; m <= MIGR_COMPRESS_NONE; m++) {
                bench_path(&p, kinds[i].name, kinds[i].data, n, m, rounds);
            }
        }
    }
    path_destroy(&p);

    free(zeros);
    free(text);
    free(rnd);
    free(mixed);
    return 0;
}
