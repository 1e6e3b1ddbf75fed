/* vmroam guest workload: the program a lab guest runs as its only job.
 *
 * It makes a live migration observable from outside and checks that it lost
 * nothing:
 *   - TCP port 7 echoes what it gets (a connection that must survive);
 *   - UDP port 7 sends every datagram straight back to its sender, so that
 *     a probe sending at a fixed rate sees packet by packet when a
 *     switchover stopped the VM's traffic and when it came back (TCP would
 *     retransmit and hide the gap);
 *   - TCP port 8 sends one status line at once and then one every second;
 *   - the same status line goes to the console (the guest's ttyS0) every
 *     second;
 *   - a memory checker keeps a region of guest memory filled with a pattern
 *     that names each page and its generation, rewrites pages at the
 *     configured rate (so a migration has dirty pages to chase) and verifies
 *     the whole region every second: a page that a migration lost or
 *     corrupted shows as "memcheck FAIL at page ...";
 *   - a disk checker writes 4 KiB blocks carrying a sequence number around a
 *     ring on the disk (O_DIRECT), reads each one back and re-reads an older
 *     one per write: a block that storage migration lost shows as
 *     "diskcheck FAIL at block ...";
 *   - with --fill, a region that makes the guest's memory look like a
 *     server's for benchmarks (zeros, text and code from the files under
 *     --corpus, random bytes, mixed in 64 KiB chunks, a quarter each unless
 *     --fill-mix says otherwise), whose pages are checked against a hash taken at fill time,
 *     a slice every second: "fillcheck FAIL at page ...".
 *
 * Status line (one per second; " | " separates the parts):
 *   vmroam NAME hb=N t=SECS | memcheck ok R rounds D MB dirtied |
 *   diskcheck ok W writes V verified [| fillcheck ok S sweeps]
 * where a failing checker says "memcheck FAIL ..." / "diskcheck FAIL ..."
 * (sticky: the first failure stays in the line, with the count of bad
 * pages/blocks), and an unused disk says "diskcheck off (REASON)".
 *
 * Built statically (labs/guest/build); it also runs on a Linux host for
 * testing (--echo-port/--status-port to move off ports 7/8, --disk FILE;
 * --echo-port moves both echoes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define WORDS (PAGE / 8u)
#define BLOCK 4096u
#define MAX_CLIENTS 64
#define ECHO_BUF 65536
#define UDP_BURST 64            /* datagrams echoed per wakeup, at most */
#define UDP_BUFFER (8 << 20)    /* bytes of UDP socket buffer each way */
#define LINE_MAX_LEN 512

/* ------------------------------------------------------------ config */

static struct {
    double dirty_mbps;          /* memory dirtied per second, MB (2^20) */
    unsigned mem_mb;            /* size of the checked region */
    const char *disk;           /* block device (or file); NULL: none */
    unsigned disk_mb;           /* size of the ring on the disk */
    unsigned disk_rate;         /* block writes per second */
    const char *name;
    const char *console;        /* NULL: stdout */
    int echo_port, status_port;
    unsigned fill_mb;           /* server-like region; 0: none */
    const char *corpus;         /* its text and code: files "text", "code" */
    unsigned fill_check_mb;     /* of it verified per second */
    unsigned fill_mix[4];       /* parts of zeros, text, code, random */
} cfg = {
    .dirty_mbps = 4, .mem_mb = 32, .disk = NULL, .disk_mb = 8,
    .disk_rate = 20, .name = "guest", .console = NULL,
    .echo_port = 7, .status_port = 8,
    .fill_mb = 0, .corpus = "/corpus", .fill_check_mb = 16,
    .fill_mix = { 1, 1, 1, 1 },
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    struct timespec ts;
    ts.tv_sec = (time_t) t;
    ts.tv_nsec = (long) ((t - (double) ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* Log lines of the workload itself (start, errors) go to the console too. */
static int console_fd = 1;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[LINE_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t) n > sizeof buf - 2)
        n = sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w = write(console_fd, buf, (size_t) n);
    (void) w;
}

/* ------------------------------------------------------------ memory checker */

static struct {
    pthread_mutex_t mu;
    uint64_t rounds;            /* full verification sweeps */
    uint64_t pages_dirtied;
    uint64_t bad_pages;
    char first_fail[200];
} mem = { .mu = PTHREAD_MUTEX_INITIALIZER };

static uint64_t *region;
static uint32_t *gens;
static size_t npages;

/* Word i of page p at generation g.  Word 0 is a readable header. */
static inline uint64_t mem_word(uint32_t p, uint32_t g, uint32_t i)
{
    if (i == 0)
        return (uint64_t) p << 32 | g;
    uint64_t x = ((uint64_t) p << 32 | g) * 0x9E3779B97F4A7C15ull;
    return x ^ ((uint64_t) i * 0xD6E8FEB86659FD93ull) ^ 0xA5A5A5A55A5A5A5Aull;
}

static void mem_fill(uint32_t p)
{
    uint64_t *w = region + (size_t) p * WORDS;
    uint32_t g = gens[p];
    for (uint32_t i = 0; i < WORDS; i++)
        w[i] = mem_word(p, g, i);
}

/* Returns true when page p holds its expected pattern; else records the
 * failure and rewrites the page so that the next sweep checks it afresh. */
static bool mem_verify(uint32_t p)
{
    const uint64_t *w = region + (size_t) p * WORDS;
    uint32_t g = gens[p];
    for (uint32_t i = 0; i < WORDS; i++) {
        uint64_t want = mem_word(p, g, i);
        if (w[i] == want)
            continue;
        pthread_mutex_lock(&mem.mu);
        mem.bad_pages++;
        if (!mem.first_fail[0])
            snprintf(mem.first_fail, sizeof mem.first_fail,
                     "page %" PRIu32 " word %" PRIu32 " want %016" PRIx64
                     " got %016" PRIx64 " (holds page %" PRIu64 " gen %" PRIu64
                     ", want gen %" PRIu32 ")",
                     p, i, want, w[i], w[0] >> 32, w[0] & 0xffffffffu, g);
        pthread_mutex_unlock(&mem.mu);
        mem_fill(p);
        return false;
    }
    return true;
}

static void *mem_thread(void *arg)
{
    (void) arg;
    const double tick = 0.01;
    double bytes_per_tick = cfg.dirty_mbps * 1048576.0 * tick;
    double budget = 0;
    uint32_t cursor = 0;
    double next = now(), next_sweep = next + 1.0;

    for (;;) {
        next += tick;
        sleep_until(next);
        double t = now();
        if (t > next + 1.0)             /* paused (e.g. migration): no catch-up */
            next = t;
        budget += bytes_per_tick;
        if (budget > cfg.dirty_mbps * 1048576.0)
            budget = cfg.dirty_mbps * 1048576.0;
        uint64_t dirtied = 0;
        while (budget >= PAGE) {
            mem_verify(cursor);
            gens[cursor]++;
            mem_fill(cursor);
            dirtied++;
            budget -= PAGE;
            if (++cursor == npages)
                cursor = 0;
        }
        if (t >= next_sweep) {
            for (uint32_t p = 0; p < npages; p++)
                mem_verify(p);
            next_sweep = now() + 1.0;
            pthread_mutex_lock(&mem.mu);
            mem.rounds++;
            pthread_mutex_unlock(&mem.mu);
        }
        if (dirtied) {
            pthread_mutex_lock(&mem.mu);
            mem.pages_dirtied += dirtied;
            pthread_mutex_unlock(&mem.mu);
        }
    }
    return NULL;
}

static int mem_init(void)
{
    npages = (size_t) cfg.mem_mb * (1048576 / PAGE);
    region = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    gens = calloc(npages, sizeof *gens);
    if (region == MAP_FAILED || !gens) {
        say("workload: cannot allocate %u MiB for the memory checker", cfg.mem_mb);
        return -1;
    }
    for (uint32_t p = 0; p < npages; p++) {
        gens[p] = 1;
        mem_fill(p);
    }
    return 0;
}

/* ------------------------------------------------------------ disk checker */

static struct {
    pthread_mutex_t mu;
    bool on;
    uint64_t writes, verified, bad_blocks;
    char off_reason[120];
    char first_fail[200];
} dsk = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int disk_fd = -1;
static uint64_t nblocks;
static uint64_t *last_seq;      /* per block: sequence number written there */
static uint64_t run_id;         /* tells this boot's blocks from older ones */

struct block_hdr {
    char magic[8];              /* "VMROAMDK" */
    uint64_t run_id;
    uint64_t seq;
    uint64_t blockno;
};

static void disk_pattern(uint64_t *w, uint64_t blk, uint64_t seq)
{
    struct block_hdr *h = (struct block_hdr *) w;
    memcpy(h->magic, "VMROAMDK", 8);
    h->run_id = run_id;
    h->seq = seq;
    h->blockno = blk;
    uint64_t x = (seq * 0x9E3779B97F4A7C15ull) ^ (blk << 20) ^ run_id;
    for (size_t i = sizeof *h / 8; i < BLOCK / 8; i++)
        w[i] = x ^ ((uint64_t) i * 0xD6E8FEB86659FD93ull);
}

static void disk_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void disk_fail(const char *fmt, ...)
{
    pthread_mutex_lock(&dsk.mu);
    dsk.bad_blocks++;
    if (!dsk.first_fail[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(dsk.first_fail, sizeof dsk.first_fail, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&dsk.mu);
}

/* Reads block blk and compares it with what was written there last. */
static bool disk_verify(uint64_t blk, uint64_t *buf, uint64_t *want)
{
    uint64_t seq = last_seq[blk];
    ssize_t n = pread(disk_fd, buf, BLOCK, (off_t) (blk * BLOCK));
    if (n != (ssize_t) BLOCK) {
        disk_fail("at block %" PRIu64 ": read: %s", blk,
                  n < 0 ? strerror(errno) : "short read");
        return false;
    }
    disk_pattern(want, blk, seq);
    if (memcmp(buf, want, BLOCK) == 0)
        return true;
    const struct block_hdr *h = (const struct block_hdr *) buf;
    if (memcmp(h->magic, "VMROAMDK", 8) != 0)
        disk_fail("at block %" PRIu64 ": want seq %" PRIu64 ", no header", blk, seq);
    else if (h->run_id != run_id || h->blockno != blk || h->seq != seq)
        disk_fail("at block %" PRIu64 ": want seq %" PRIu64 " got seq %" PRIu64
                  " block %" PRIu64 "%s", blk, seq, h->seq, h->blockno,
                  h->run_id != run_id ? " of another run" : "");
    else
        disk_fail("at block %" PRIu64 " seq %" PRIu64 ": data differs", blk, seq);
    return false;
}

static void *disk_thread(void *arg)
{
    (void) arg;
    uint64_t *buf, *want;
    if (posix_memalign((void **) &buf, BLOCK, BLOCK) ||
        posix_memalign((void **) &want, BLOCK, BLOCK)) {
        say("workload: out of memory");
        return NULL;
    }
    double period = 1.0 / cfg.disk_rate, next = now();
    uint64_t seq = 0, check = 0;
    for (;;) {
        next += period;
        sleep_until(next);
        double t = now();
        if (t > next + 1.0)
            next = t;
        seq++;
        uint64_t blk = (seq - 1) % nblocks;
        last_seq[blk] = seq;
        disk_pattern(buf, blk, seq);
        ssize_t n = pwrite(disk_fd, buf, BLOCK, (off_t) (blk * BLOCK));
        if (n != (ssize_t) BLOCK) {
            disk_fail("at block %" PRIu64 ": write: %s", blk,
                      n < 0 ? strerror(errno) : "short write");
            last_seq[blk] = 0;
            continue;
        }
        uint64_t verified = disk_verify(blk, buf, want);
        /* And two older blocks: a cursor that sweeps over the blocks written
         * so far twice as fast as the writes, so blocks of every age (written
         * before a migration, read after it) get checked. */
        uint64_t written = seq < nblocks ? seq : nblocks;
        for (int k = 0; k < 2; k++) {
            if (++check >= written)
                check = 0;
            if (check != blk && last_seq[check])
                verified += disk_verify(check, buf, want);
        }
        pthread_mutex_lock(&dsk.mu);
        dsk.writes++;
        dsk.verified += verified;
        pthread_mutex_unlock(&dsk.mu);
    }
    return NULL;
}

static void disk_off(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void disk_off(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dsk.off_reason, sizeof dsk.off_reason, fmt, ap);
    va_end(ap);
    say("workload: diskcheck off: %s", dsk.off_reason);
}

static void disk_init(void)
{
    if (!cfg.disk || !cfg.disk[0]) {
        disk_off("no disk configured");
        return;
    }
    /* The device may show up a moment after the module loaded. */
    for (int i = 0; i < 50; i++) {
        disk_fd = open(cfg.disk, O_RDWR | O_DIRECT | O_CLOEXEC);
        if (disk_fd >= 0 || errno != ENOENT)
            break;
        usleep(100000);
    }
    if (disk_fd < 0 && errno == EINVAL)             /* no O_DIRECT (tmpfs) */
        disk_fd = open(cfg.disk, O_RDWR | O_DSYNC | O_CLOEXEC);
    if (disk_fd < 0) {
        disk_off("%s: %s", cfg.disk, strerror(errno));
        return;
    }
    uint64_t size = 0;
    struct stat st;
    if (fstat(disk_fd, &st) == 0 && S_ISBLK(st.st_mode)) {
        if (ioctl(disk_fd, BLKGETSIZE64, &size) < 0)
            size = 0;
    } else if (fstat(disk_fd, &st) == 0) {
        size = (uint64_t) st.st_size;
    }
    nblocks = size / BLOCK;
    if (nblocks > (uint64_t) cfg.disk_mb * (1048576 / BLOCK))
        nblocks = (uint64_t) cfg.disk_mb * (1048576 / BLOCK);
    if (nblocks < 2) {
        disk_off("%s: too small (%" PRIu64 " bytes)", cfg.disk, size);
        close(disk_fd);
        disk_fd = -1;
        return;
    }
    last_seq = calloc(nblocks, sizeof *last_seq);
    if (!last_seq) {
        disk_off("out of memory");
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    run_id = ((uint64_t) ts.tv_sec << 20) ^ (uint64_t) ts.tv_nsec ^ (uint64_t) getpid();
    dsk.on = true;
    say("workload: diskcheck on %s: ring of %" PRIu64 " blocks of %u bytes, "
        "%u writes/s", cfg.disk, nblocks, BLOCK, cfg.disk_rate);
}

/* ------------------------------------------------------------ fill region */

/* Memory that looks like a server's to a migration (and to lz4): 64 KiB
 * chunks of zeros, text, code and random bytes in the proportions --fill-mix
 * (1:1:1:1 by default), in a fixed shuffled order.  Text and code are read from the corpus files
 * CORPUS/text and CORPUS/code (cycled through).  The region is not
 * rewritten; a hash of every page, taken at fill time, is verified a slice
 * (fill_check_mb) per second, so a page a migration corrupted shows within
 * one sweep. */
#define FILL_CHUNK 65536u

static struct {
    pthread_mutex_t mu;
    uint64_t sweeps;            /* complete verifications of the region */
    uint64_t bad_pages;
    char first_fail[200];
    unsigned kinds[4];          /* chunks of zeros, text, code, random */
} fil = { .mu = PTHREAD_MUTEX_INITIALIZER };

static uint8_t *fill_region;
static uint64_t *fill_hash;
static size_t fill_pages;

static uint64_t page_hash(const uint8_t *page)
{
    const uint64_t *w = (const uint64_t *) page;
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < WORDS; i++)
        h = (h ^ w[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Reads CORPUS/name whole; NULL (and says why) if missing or empty. */
static uint8_t *read_corpus(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", cfg.corpus, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < (off_t) FILL_CHUNK) {
        say("workload: fill: %s: %s", path,
            fd < 0 ? strerror(errno) : "shorter than 64 KiB");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    uint8_t *buf = malloc((size_t) st.st_size);
    size_t got = 0;
    while (buf && got < (size_t) st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t) st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    close(fd);
    if (!buf || got != (size_t) st.st_size) {
        say("workload: fill: cannot read %s", path);
        free(buf);
        return NULL;
    }
    *len = got;
    return buf;
}

static int fill_init(void)
{
    size_t tlen = 0, clen = 0;
    uint8_t *text = read_corpus("text", &tlen), *code = read_corpus("code", &clen);
    size_t chunks = (size_t) cfg.fill_mb * (1048576 / FILL_CHUNK);
    fill_pages = chunks * (FILL_CHUNK / PAGE);
    fill_region = mmap(NULL, chunks * FILL_CHUNK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    fill_hash = calloc(fill_pages, sizeof *fill_hash);
    uint8_t *kind = malloc(chunks);
    if (!text || !code || fill_region == MAP_FAILED || !fill_hash || !kind) {
        say("workload: fill: cannot fill %u MiB (no corpus or no memory)",
            cfg.fill_mb);
        return -1;
    }
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    unsigned parts = cfg.fill_mix[0] + cfg.fill_mix[1] + cfg.fill_mix[2] + cfg.fill_mix[3];
    for (size_t i = 0; i < chunks; i++) {
        unsigned r = (unsigned) (i % parts);
        uint8_t k = 0;
        while (r >= cfg.fill_mix[k])
            r -= cfg.fill_mix[k++];
        kind[i] = k;
    }
    for (size_t i = chunks; i > 1; i--) {        /* Fisher-Yates */
        size_t j = (size_t) (xorshift(&rng) % i);
        uint8_t k = kind[i - 1];
        kind[i - 1] = kind[j];
        kind[j] = k;
    }
    size_t toff = 0, coff = 0;
    for (size_t i = 0; i < chunks; i++) {
        uint8_t *c = fill_region + i * FILL_CHUNK;
        fil.kinds[kind[i]]++;
        switch (kind[i]) {
        case 0:
            memset(c, 0, FILL_CHUNK);
            break;
        case 1:
        case 2: {
            const uint8_t *src = kind[i] == 1 ? text : code;
            size_t len = kind[i] == 1 ? tlen : clen, *off = kind[i] == 1 ? &toff : &coff;
            for (size_t done = 0; done < FILL_CHUNK; ) {
                size_t n = len - *off < FILL_CHUNK - done ? len - *off : FILL_CHUNK - done;
                memcpy(c + done, src + *off, n);
                done += n;
                *off = (*off + n) % len;
            }
            break;
        }
        default:
            for (size_t w = 0; w < FILL_CHUNK / 8; w++)
                ((uint64_t *) c)[w] = xorshift(&rng);
        }
        for (size_t p = 0; p < FILL_CHUNK / PAGE; p++)
            fill_hash[i * (FILL_CHUNK / PAGE) + p] = page_hash(c + p * PAGE);
    }
    free(kind);
    free(text);
    free(code);
    say("workload: fill %u MiB: %u chunks of 64 KiB zeros, %u text (%zu bytes "
        "of corpus), %u code (%zu bytes), %u random; checked %u MiB/s",
        cfg.fill_mb, fil.kinds[0], fil.kinds[1], tlen, fil.kinds[2], clen,
        fil.kinds[3], cfg.fill_check_mb);
    return 0;
}

static void *fill_thread(void *arg)
{
    (void) arg;
    size_t per_second = (size_t) cfg.fill_check_mb * (1048576 / PAGE), cursor = 0;
    double next = now();
    for (;;) {
        next += 1.0;
        sleep_until(next);
        double t = now();
        if (t > next + 1.0)
            next = t;
        for (size_t k = 0; k < per_second; k++) {
            const uint8_t *page = fill_region + cursor * PAGE;
            uint64_t h = page_hash(page);
            if (h != fill_hash[cursor]) {
                pthread_mutex_lock(&fil.mu);
                fil.bad_pages++;
                if (!fil.first_fail[0])
                    snprintf(fil.first_fail, sizeof fil.first_fail,
                             "page %zu: hash %016" PRIx64 ", want %016" PRIx64,
                             cursor, h, fill_hash[cursor]);
                pthread_mutex_unlock(&fil.mu);
                fill_hash[cursor] = h;  /* count each corruption once */
            }
            if (++cursor == fill_pages) {
                cursor = 0;
                pthread_mutex_lock(&fil.mu);
                fil.sweeps++;
                pthread_mutex_unlock(&fil.mu);
            }
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ status */

static uint64_t heartbeat;
static double t0;

/* The guest's own network drops, for telling them from the network's:
 * UDP datagrams it could not take in or send (/proc/net/snmp) and what
 * eth0 dropped. */
static long long sys_counter(const char *path)
{
    long long v = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%lld", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v;
}

static int net_drops(char *buf, size_t size)
{
    long long in = 0, noport = 0, inerr = 0, out = 0, rcvbuf = 0, sndbuf = 0;
    char line[512];
    int seen = 0;
    FILE *f = fopen("/proc/net/snmp", "r");
    while (f && fgets(line, sizeof line, f)) {
        /* The second "Udp:" line holds the values. */
        if (!strncmp(line, "Udp:", 4) && seen++)
            sscanf(line + 4, "%lld %lld %lld %lld %lld %lld", &in, &noport,
                   &inerr, &out, &rcvbuf, &sndbuf);
    }
    if (f)
        fclose(f);
    return snprintf(buf, size, " | net udp in %lld out %lld errors %lld "
                    "rcvbuf %lld sndbuf %lld, eth0 dropped rx %lld tx %lld",
                    in, out, inerr, rcvbuf, sndbuf,
                    sys_counter("/sys/class/net/eth0/statistics/rx_dropped"),
                    sys_counter("/sys/class/net/eth0/statistics/tx_dropped"));
}

static int status_line(char *buf, size_t size)
{
    int n = snprintf(buf, size, "vmroam %s hb=%" PRIu64 " t=%.3f | ",
                     cfg.name, heartbeat, now() - t0);
    pthread_mutex_lock(&mem.mu);
    if (mem.bad_pages)
        n += snprintf(buf + n, size - (size_t) n,
                      "memcheck FAIL at %s; %" PRIu64 " bad pages; %" PRIu64 " rounds",
                      mem.first_fail, mem.bad_pages, mem.rounds);
    else
        n += snprintf(buf + n, size - (size_t) n,
                      "memcheck ok %" PRIu64 " rounds %" PRIu64 " MB dirtied",
                      mem.rounds, mem.pages_dirtied * PAGE / 1048576);
    pthread_mutex_unlock(&mem.mu);
    pthread_mutex_lock(&dsk.mu);
    if (!dsk.on)
        n += snprintf(buf + n, size - (size_t) n, " | diskcheck off (%s)",
                      dsk.off_reason);
    else if (dsk.bad_blocks)
        n += snprintf(buf + n, size - (size_t) n,
                      " | diskcheck FAIL %s; %" PRIu64 " bad; %" PRIu64 " writes",
                      dsk.first_fail, dsk.bad_blocks, dsk.writes);
    else
        n += snprintf(buf + n, size - (size_t) n,
                      " | diskcheck ok %" PRIu64 " writes %" PRIu64 " verified",
                      dsk.writes, dsk.verified);
    pthread_mutex_unlock(&dsk.mu);
    if (cfg.fill_mb) {
        pthread_mutex_lock(&fil.mu);
        if (fil.bad_pages)
            n += snprintf(buf + n, size - (size_t) n,
                          " | fillcheck FAIL at %s; %" PRIu64 " bad pages; %"
                          PRIu64 " sweeps", fil.first_fail, fil.bad_pages,
                          fil.sweeps);
        else
            n += snprintf(buf + n, size - (size_t) n,
                          " | fillcheck ok %" PRIu64 " sweeps", fil.sweeps);
        pthread_mutex_unlock(&fil.mu);
    }
    if ((size_t) n < size)
        n += net_drops(buf + n, size - (size_t) n);
    if ((size_t) n > size - 2)
        n = (int) size - 2;
    buf[n++] = '\n';
    buf[n] = 0;
    return n;
}

/* The console gets its lines from its own thread, so that a console that
 * blocks (a pty nobody reads) never stalls the network service; a line
 * that finds the previous one still unwritten replaces it. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char line[LINE_MAX_LEN];
    bool pending;
} con = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *console_thread(void *arg)
{
    (void) arg;
    char line[LINE_MAX_LEN];
    for (;;) {
        pthread_mutex_lock(&con.mu);
        while (!con.pending)
            pthread_cond_wait(&con.cv, &con.mu);
        memcpy(line, con.line, sizeof line);
        con.pending = false;
        pthread_mutex_unlock(&con.mu);
        size_t len = strlen(line), off = 0;
        while (off < len) {
            ssize_t w = write(console_fd, line + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t) w;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ network */

enum kind { ECHO, STATUS };

static struct client {
    int fd;                     /* -1: free */
    enum kind kind;
    char *buf;                  /* echo: bytes read, not yet written back */
    size_t len, off;
} clients[MAX_CLIENTS];

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                               .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(fd, (struct sockaddr *) &sin, sizeof sin) < 0 || listen(fd, 16) < 0) {
        say("workload: port %d: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void drop(struct client *c)
{
    close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->off = 0;
}

static void accept_on(int lfd, enum kind kind, const char *line, size_t len)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct client *c = NULL;
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (clients[i].fd < 0) {
                c = &clients[i];
                break;
            }
        if (!c) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->kind = kind;
        c->len = c->off = 0;
        if (kind == ECHO) {
            c->buf = malloc(ECHO_BUF);
            if (!c->buf)
                drop(c);
        } else if (send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0
                   && errno != EAGAIN) {
            drop(c);
        }
    }
}

static void echo_io(struct client *c, short revents)
{
    if (c->len > c->off && (revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t w = send(c->fd, c->buf + c->off, c->len - c->off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            drop(c);
            return;
        }
        if (w > 0)
            c->off += (size_t) w;
        if (c->off == c->len)
            c->off = c->len = 0;
    }
    if (c->len == 0 && (revents & (POLLIN | POLLERR | POLLHUP))) {
        ssize_t r = recv(c->fd, c->buf, ECHO_BUF, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            drop(c);
            return;
        }
        if (r > 0) {
            c->len = (size_t) r;
            ssize_t w = send(c->fd, c->buf, c->len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                drop(c);
                return;
            }
            if (w > 0)
                c->off = (size_t) w;
            if (c->off == c->len)
                c->off = c->len = 0;
        }
    }
}

static void status_io(struct client *c, short revents)
{
    char junk[512];
    if (revents & (POLLIN | POLLERR | POLLHUP)) {
        ssize_t r = recv(c->fd, junk, sizeof junk, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            drop(c);
    }
}

static int udp_on(int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                               .sin_addr.s_addr = htonl(INADDR_ANY) };
    /* A guest that has just resumed from a migration receives at once what
     * the network held for it during its pause: buffers for some seconds
     * of the probe's 1000 datagrams a second (each takes a few kB of
     * buffer here), so that it does not drop them itself. */
    int bufsize = UDP_BUFFER;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof bufsize);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof bufsize);
    if (bind(fd, (struct sockaddr *) &sin, sizeof sin) < 0) {
        say("workload: udp port %d: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends each waiting datagram back to where it came from, as it is.  A
 * datagram the send buffer cannot take is dropped, as the network would:
 * the probe counts it lost.  At most UDP_BURST per call, so that a flood
 * never starves the TCP clients; poll() calls again at once. */
static void udp_echo(int fd)
{
    static char buf[ECHO_BUF];
    for (int i = 0; i < UDP_BURST; i++) {
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        ssize_t r = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT,
                             (struct sockaddr *) &from, &flen);
        if (r < 0)
            return;
        sendto(fd, buf, (size_t) r, MSG_DONTWAIT, (struct sockaddr *) &from, flen);
    }
}

static void serve(void)
{
    int efd = listen_on(cfg.echo_port), sfd = listen_on(cfg.status_port);
    int ufd = udp_on(cfg.echo_port);
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    char line[LINE_MAX_LEN];
    size_t len = (size_t) status_line(line, sizeof line);
    double next = now() + 1.0;

    for (;;) {
        struct pollfd pfd[MAX_CLIENTS + 3];
        int idx[MAX_CLIENTS + 3];
        int n = 0;
        if (efd >= 0) {
            pfd[n] = (struct pollfd) { .fd = efd, .events = POLLIN };
            idx[n++] = -1;
        }
        if (sfd >= 0) {
            pfd[n] = (struct pollfd) { .fd = sfd, .events = POLLIN };
            idx[n++] = -2;
        }
        if (ufd >= 0) {
            pfd[n] = (struct pollfd) { .fd = ufd, .events = POLLIN };
            idx[n++] = -3;
        }
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            if (c->fd < 0)
                continue;
            short ev = c->kind == ECHO && c->len > c->off ? POLLOUT : POLLIN;
            pfd[n] = (struct pollfd) { .fd = c->fd, .events = ev };
            idx[n++] = i;
        }
        double wait = next - now();
        int ms = wait <= 0 ? 0 : (int) (wait * 1000) + 1;
        int r = poll(pfd, (nfds_t) n, ms);
        if (r < 0 && errno != EINTR) {
            say("workload: poll: %s", strerror(errno));
            sleep(1);
        }
        for (int k = 0; r > 0 && k < n; k++) {
            if (!pfd[k].revents)
                continue;
            if (idx[k] == -1)
                accept_on(efd, ECHO, line, len);
            else if (idx[k] == -2)
                accept_on(sfd, STATUS, line, len);
            else if (idx[k] == -3)
                udp_echo(ufd);
            else if (clients[idx[k]].fd == pfd[k].fd) {
                struct client *c = &clients[idx[k]];
                if (c->kind == ECHO)
                    echo_io(c, pfd[k].revents);
                else
                    status_io(c, pfd[k].revents);
            }
        }
        double t = now();
        if (t >= next) {
            next += 1.0;
            if (next < t)                   /* paused: realign, no burst */
                next = t + 1.0;
            heartbeat++;
            len = (size_t) status_line(line, sizeof line);
            pthread_mutex_lock(&con.mu);
            memcpy(con.line, line, len + 1);
            con.pending = true;
            pthread_cond_signal(&con.cv);
            pthread_mutex_unlock(&con.mu);
            for (int i = 0; i < MAX_CLIENTS; i++) {
                struct client *c = &clients[i];
                if (c->fd >= 0 && c->kind == STATUS &&
                    send(c->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
                    errno != EAGAIN)
                    drop(c);
            }
        }
    }
}

/* ------------------------------------------------------------ main */

static void usage(void)
{
    fprintf(stderr,
            "usage: workload [--dirty MBPS] [--mem MB] [--disk DEV] [--disk-mb MB]\n"
            "                [--disk-rate WRITES_PER_S] [--name NAME] [--console DEV]\n"
            "                [--echo-port N] [--status-port N] [--fill MB]\n"
            "                [--corpus DIR] [--fill-check MB_PER_S]\n"
            "                [--fill-mix ZEROS:TEXT:CODE:RANDOM]\n");
    exit(2);
}

static long num(const char *opt, const char *v, long lo, long hi)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        fprintf(stderr, "workload: %s: %s is not a number in %ld..%ld\n", opt, v, lo, hi);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(o, "--dirty")) {
            char *end;
            cfg.dirty_mbps = strtod(v, &end);
            if (end == v || *end || cfg.dirty_mbps < 0 || cfg.dirty_mbps > 100000) {
                fprintf(stderr, "workload: --dirty: bad rate %s\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--mem"))
            cfg.mem_mb = (unsigned) num(o, v, 1, 65536);
        else if (!strcmp(o, "--disk"))
            cfg.disk = v;
        else if (!strcmp(o, "--disk-mb"))
            cfg.disk_mb = (unsigned) num(o, v, 1, 1 << 20);
        else if (!strcmp(o, "--disk-rate"))
            cfg.disk_rate = (unsigned) num(o, v, 1, 100000);
        else if (!strcmp(o, "--name"))
            cfg.name = v;
        else if (!strcmp(o, "--console"))
            cfg.console = v;
        else if (!strcmp(o, "--echo-port"))
            cfg.echo_port = (int) num(o, v, 1, 65535);
        else if (!strcmp(o, "--status-port"))
            cfg.status_port = (int) num(o, v, 1, 65535);
        else if (!strcmp(o, "--fill"))
            cfg.fill_mb = (unsigned) num(o, v, 0, 65536);
        else if (!strcmp(o, "--corpus"))
            cfg.corpus = v;
        else if (!strcmp(o, "--fill-check"))
            cfg.fill_check_mb = (unsigned) num(o, v, 1, 65536);
        else if (!strcmp(o, "--fill-mix")) {
            unsigned *m = cfg.fill_mix;
            char extra;
            if (sscanf(v, "%u:%u:%u:%u%c", &m[0], &m[1], &m[2], &m[3], &extra) != 4
                || m[0] > 100 || m[1] > 100 || m[2] > 100 || m[3] > 100
                || !(m[0] + m[1] + m[2] + m[3])) {
                fprintf(stderr, "workload: --fill-mix: %s is not Z:T:C:R "
                        "(parts of 0 to 100, not all 0)\n", v);
                return 2;
            }
        }
        else
            usage();
    }
    signal(SIGPIPE, SIG_IGN);
    if (cfg.console) {
        int fd = open(cfg.console, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
            fprintf(stderr, "workload: %s: %s (using stdout)\n", cfg.console,
                    strerror(errno));
        else
            console_fd = fd;
    }
    t0 = now();
    say("workload: start %s: memcheck %u MiB, dirty %g MB/s, echo port %d "
        "(TCP, UDP), status port %d", cfg.name, cfg.mem_mb, cfg.dirty_mbps,
        cfg.echo_port, cfg.status_port);
    if (mem_init() < 0)
        return 1;
    if (cfg.fill_mb && fill_init() < 0)
        return 1;
    disk_init();

    pthread_t th;
    if (pthread_create(&th, NULL, mem_thread, NULL) ||
        pthread_create(&th, NULL, console_thread, NULL) ||
        (dsk.on && pthread_create(&th, NULL, disk_thread, NULL)) ||
        (cfg.fill_mb && pthread_create(&th, NULL, fill_thread, NULL))) {
        say("workload: cannot start threads");
        return 1;
    }
    serve();
    return 0;
}
