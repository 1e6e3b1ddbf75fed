#include <config.h>

#include "migrator/channel.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "latch.h"
#include "migrator/frame.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "stream.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(migr_channel);

static const char *const kind_names[MIGR_N_STREAM_KINDS] = {
    [MIGR_STREAM_MEMORY] = "memory",
    [MIGR_STREAM_DISKS] = "disks",
};

/* How long a relay waits for its peer to connect or to finish. */
#define CONNECT_TIMEOUT_MS 10000
/* How often a relay looks whether its migration's channel was closed. */
#define CLOSED_CHECK_MS 100
/* A relay's buffer for each direction. */
#define RELAY_BUFSIZE (256 * 1024)
/* How often a relay tells the compression policy how fast the link
 * drains. */
#define LINK_WINDOW_NS (100 * 1000 * 1000)
/* The greeting a source sends first, at most this long. */
#define GREETING_MAX 200

/* One migration's channel on this host. */
struct route {
    struct hmap_node node;      /* In channel's 'routes', by id. */
    struct ovs_refcount ref;
    char *id;
    bool source;                /* Serving QEMU's sockets, or expecting. */
    char *peer;                 /* Source: the destination's channel. */
    char *host;                 /* Whose certificate the peer must show. */
    char *paths[MIGR_N_STREAM_KINDS];
    enum migr_compress_mode compression;    /* Source: toward the peer. */
    struct pstream *listeners[MIGR_N_STREAM_KINDS];     /* Source only;
                                                         * acceptor's. */
    atomic_bool closed;
    atomic_bool failed;         /* One stream failed: so do the others, or
                                 * QEMU may wait on them forever. */

    /* QEMU 7.2 tells a migration's main connection from its multifd ones
     * by the order they arrive in: the destination connects to its QEMU in
     * the order the source's QEMU connected.  Guarded by the mutex. */
    unsigned int accepted[MIGR_N_STREAM_KINDS];     /* Source: so far. */
    unsigned int delivered[MIGR_N_STREAM_KINDS];    /* Destination. */

    /* Guarded by the channel's mutex. */
    struct migr_channel_stats stats;
    char *error;                /* The first failure, or NULL. */
    char *refused;              /* The first peer turned away, or NULL. */
};

struct migr_channel {
    struct pstream *listener;   /* Destination's TLS listener, or NULL;
                                 * the acceptor's. */
    struct ovs_mutex mutex;
    struct pstream *next_listener OVS_GUARDED;  /* To replace it. */
    bool replace_listener OVS_GUARDED;
    struct hmap routes OVS_GUARDED;
    struct latch wake;          /* Tells the acceptor to look again. */
    atomic_bool exiting;
    pthread_t acceptor;
    atomic_count n_relays;      /* Relay threads running. */
    atomic_count n_unproven;    /* Of them, destination relays whose peer
                                 * has not been admitted yet. */
};

/* At most this many connections wait to prove who they are: a flood from
 * anyone who reaches the port costs no more than that. */
#define MAX_UNPROVEN 32

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* ---------------------------------------------------------------- routes */

static struct route *
route_ref(struct route *r)
{
    if (r) {
        ovs_refcount_ref(&r->ref);
    }
    return r;
}

static void
route_unref(struct route *r)
{
    if (r && ovs_refcount_unref(&r->ref) == 1) {
        for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
            free(r->paths[k]);
            pstream_close(r->listeners[k]);
        }
        free(r->id);
        free(r->peer);
        free(r->host);
        free(r->error);
        free(r->refused);
        free(r);
    }
}

static bool
route_closed(const struct route *r)
{
    bool closed;
    atomic_read(&CONST_CAST(struct route *, r)->closed, &closed);
    return closed;
}

/* True if 'r''s relays must stop: its migration's channel was closed, or
 * one of its streams failed. */
static bool
route_over(const struct route *r)
{
    bool failed;
    atomic_read(&CONST_CAST(struct route *, r)->failed, &failed);
    return failed || route_closed(r);
}

static struct route *
find_route(const struct migr_channel *ch, const char *id)
    OVS_REQUIRES(ch->mutex)
{
    struct route *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash_string(id, 0), &ch->routes) {
        if (!strcmp(r->id, id) && !route_closed(r)) {
            return r;
        }
    }
    return NULL;
}

/* Records 'error' (which it takes over) as the route's cause of failure,
 * unless it has one already. */
static void
route_fail(struct migr_channel *ch, struct route *r, char *error)
{
    VLOG_WARN_RL(&rl, "migration %s: %s", r->id, error);
    atomic_store(&r->failed, true);
    ovs_mutex_lock(&ch->mutex);
    if (!r->error) {
        r->error = error;
        error = NULL;
    }
    ovs_mutex_unlock(&ch->mutex);
    free(error);
}

/* Adds to 'r''s statistics 'streams' connections carried, 'in' bytes
 * from QEMU that went out as 'wire' bytes, and 'cpu_ns' of a relay's CPU
 * time. */
static void
route_count(struct migr_channel *ch, struct route *r, unsigned int streams,
            size_t in, size_t wire, long long int cpu_ns)
{
    ovs_mutex_lock(&ch->mutex);
    r->stats.streams += streams;
    r->stats.bytes_in += in;
    r->stats.bytes_wire += wire;
    r->stats.cpu_ns += MAX(cpu_ns, 0);
    ovs_mutex_unlock(&ch->mutex);
}


/* Makes the directory of a migration's sockets 'paths', owned by QEMU's
 * user 'uid' and group 'gid' (who may create sockets there; nobody else but
 * root may look in).  Returns an error or NULL. */
static char *
make_socket_dir(const char *paths[MIGR_N_STREAM_KINDS], uid_t uid,
                gid_t gid)
{
    char *dir = dir_name(paths[MIGR_STREAM_MEMORY]);
    char *error = NULL;
    struct stat st;
    if (mkdir(dir, 0700) && errno != EEXIST) {
        error = xasprintf("cannot create %s (%s)", dir, ovs_strerror(errno));
    } else if (lstat(dir, &st) || !S_ISDIR(st.st_mode)) {
        error = xasprintf("%s is not a directory", dir);
    } else if (chown(dir, uid, gid)) {
        error = xasprintf("cannot give %s to QEMU's user %lu:%lu (%s)", dir,
                          (unsigned long) uid, (unsigned long) gid,
                          ovs_strerror(errno));
        rmdir(dir);
    }
    free(dir);
    return error;
}

static struct route *
add_route(struct migr_channel *ch, const char *id, bool source,
          const char *host, const char *paths[MIGR_N_STREAM_KINDS])
    OVS_REQUIRES(ch->mutex)
{
    struct route *r = xzalloc(sizeof *r);
    ovs_refcount_init(&r->ref);
    r->id = xstrdup(id);
    r->source = source;
    r->host = xstrdup(host);
    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        r->paths[k] = nullable_xstrdup(paths[k]);
    }
    atomic_init(&r->closed, false);
    atomic_init(&r->failed, false);
    hmap_insert(&ch->routes, &r->node, hash_string(id, 0));
    return r;
}

/* Removes the sockets 'paths' of a migration, ours or QEMU's, and their
 * directory. */
static void
remove_socket_dir(const char *paths[MIGR_N_STREAM_KINDS])
{
    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        if (paths[k]) {
            unlink(paths[k]);
        }
    }
    char *dir = dir_name(paths[MIGR_STREAM_MEMORY]);
    rmdir(dir);
    free(dir);
}

/* Removes closed route 'r' from 'ch': its QEMU sockets, ours and the
 * destination QEMU's, go now with their directory; its relays end on
 * their own. */
static void
route_remove(struct migr_channel *ch, struct route *r)
    OVS_REQUIRES(ch->mutex)
{
    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        pstream_close(r->listeners[k]);
        r->listeners[k] = NULL;
    }
    remove_socket_dir((const char **) r->paths);
    hmap_remove(&ch->routes, &r->node);
    route_unref(r);
}

/* ---------------------------------------------------------------- frames */

/* On the wire, after the greeting, both ways: frames of a small header and
 * a payload.  DATA carries the stream's bytes as the frame codec encodes
 * them (migrator/frame.h: blocks, lz4 when it pays, a checksum each); END
 * says its sender will send no more, which its receiver acknowledges with
 * ACK, so that a relay closes only once what it sent has arrived (closing
 * a TLS stream drops what it has not sent yet). */
enum frame_type {
    FRAME_DATA = 1,
    FRAME_END = 2,
    FRAME_ACK = 3,
};

struct frame_header {
    uint8_t type;
    uint8_t pad[3];
    ovs_be32 len;
};
BUILD_ASSERT_DECL(sizeof(struct frame_header) == 8);

/* A DATA frame carries what the codec made of one read from QEMU: at most
 * RELAY_BUFSIZE bytes, and a codec header for each block. */
#define FRAME_MAX (2 * RELAY_BUFSIZE)

static void
put_frame(struct ofpbuf *b, enum frame_type type, const void *data,
          size_t len)
{
    struct frame_header h = { .type = type, .len = htonl(len) };
    ofpbuf_put(b, &h, sizeof h);
    ofpbuf_put(b, data, len);
}

/* ---------------------------------------------------------------- relays */

/* One connection carried between QEMU (local, a unix socket) and the
 * peer's channel (remote, TLS), by a thread of its own. */
struct relay {
    struct migr_channel *ch;
    struct route *route;        /* Known on a destination only once the
                                 * greeting names it. */
    enum migr_stream_kind kind;
    unsigned int seq;           /* Order of its connection, of its kind. */
    struct stream *local;
    struct stream *remote;
    struct ofpbuf up;           /* Frames for the peer, not sent yet. */
    struct ofpbuf rx;           /* From the peer, not a whole frame yet. */
    struct ofpbuf down;         /* For QEMU, not sent yet. */
    uint8_t *scratch;           /* A read from QEMU, RELAY_BUFSIZE. */
    struct migr_frame_encoder encoder;
    struct migr_frame_decoder decoder;

    /* How fast the link drains, for "auto" compression. */
    long long int window_start; /* ns. */
    uint64_t window_wire;       /* Bytes sent in the window. */
    bool window_backlogged;     /* A send waited in the window. */
    bool local_eof;             /* QEMU closed its side. */
    bool sent_end, got_end, got_ack, remote_eof;

    long long int cpu_counted;  /* This thread's CPU time (ns) counted in
                                 * its route's statistics. */
};


static struct relay *
relay_create(struct migr_channel *ch, struct route *route,
             enum migr_stream_kind kind, struct stream *local,
             struct stream *remote)
{
    struct relay *r = xzalloc(sizeof *r);
    r->ch = ch;
    r->route = route_ref(route);
    r->kind = kind;
    r->local = local;
    r->remote = remote;
    ofpbuf_init(&r->up, 2 * FRAME_MAX);
    ofpbuf_init(&r->rx, 2 * FRAME_MAX);
    ofpbuf_init(&r->down, FRAME_MAX);
    r->scratch = xmalloc(RELAY_BUFSIZE);
    /* Toward the destination the migration's mode; back, the little that
     * comes (NBD's answers) goes raw. */
    migr_frame_encoder_init(&r->encoder,
                            (route && route->source ? route->compression
                             : MIGR_COMPRESS_NONE),
                            MIGR_FRAME_DEFAULT_BLOCK);
    migr_frame_decoder_init(&r->decoder);
    r->window_start = time_usec() * 1000;
    atomic_count_inc(&ch->n_relays);
    return r;
}

/* Logs what a source's connection carried and how "auto" judged it, so
 * that an operator can see why a migration was or was not compressed. */
static void
relay_log_summary(const struct relay *r)
{
    const struct migr_frame_stats *s = &r->encoder.stats;
    const struct migr_compress *c = &r->encoder.policy;

    if (!r->route || !r->route->source || !s->stream_bytes) {
        return;
    }
    VLOG_INFO("migration %s: %s stream %u carried %.1f MB as %.1f MB "
              "(%"PRIu64" blocks lz4, %"PRIu64" raw, %.2f s in lz4; "
              "lz4 %.0f MB/s at ratio %.2f, link %.0f MB/s)",
              r->route->id, kind_names[r->kind], r->seq,
              s->stream_bytes / 1e6, s->wire_bytes / 1e6, s->blocks_lz4,
              s->blocks_raw, s->lz4_ns / 1e9, migr_compress_lz4_bps(c) / 1e6,
              migr_compress_ratio(c), c->link_bps / 1e6);
}

/* The calling thread's CPU time, in ns. */
static long long int
thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Adds to the statistics of 'r''s migration, once it is known, 'streams'
 * connections, 'in' bytes from QEMU sent as 'wire' bytes, and the CPU time
 * that 'r''s thread took since it last counted. */
static void
relay_count(struct relay *r, unsigned int streams, size_t in, size_t wire)
{
    if (r->route) {
        long long int cpu = thread_cpu_ns();
        route_count(r->ch, r->route, streams, in, wire,
                    cpu - r->cpu_counted);
        r->cpu_counted = cpu;
    }
}

static void
relay_destroy(struct relay *r)
{
    relay_count(r, 0, 0, 0);
    relay_log_summary(r);
    stream_close(r->local);
    stream_close(r->remote);
    ofpbuf_uninit(&r->up);
    ofpbuf_uninit(&r->rx);
    ofpbuf_uninit(&r->down);
    free(r->scratch);
    migr_frame_encoder_destroy(&r->encoder);
    migr_frame_decoder_destroy(&r->decoder);
    route_unref(r->route);
    atomic_count_dec(&r->ch->n_relays);
    free(r);
}

/* Fails 'r''s migration with 'error' (which it takes over), or only logs
 * it before the route is known. */
static void
relay_fail(struct relay *r, char *error)
{
    if (r->route) {
        route_fail(r->ch, r->route, error);
    } else {
        VLOG_WARN_RL(&rl, "%s", error);
        free(error);
    }
}

/* True if 'r' must stop: its channel is going away, or its migration's
 * channel was closed or failed. */
static bool
relay_over(const struct relay *r)
{
    bool exiting;
    atomic_read(&r->ch->exiting, &exiting);
    return exiting || (r->route && route_over(r->route));
}

/* Waits until 'stream' of 'r' has connected (or, accepted, finished its
 * handshake).  Returns 0 or an errno value. */
static int
connect_stream(struct relay *r, struct stream *stream)
{
    long long int deadline = time_msec() + CONNECT_TIMEOUT_MS;
    for (;;) {
        int error = stream_connect(stream);
        if (error != EAGAIN) {
            return error;
        }
        if (time_msec() >= deadline || relay_over(r)) {
            return ETIMEDOUT;
        }
        stream_connect_wait(stream);
        poll_timer_wait_until(MIN(deadline, time_msec() + CLOSED_CHECK_MS));
        poll_block();
    }
}

/* Moves what 'b' holds to the start of its buffer, so that what was
 * pulled off its front is room again. */
static void
compact(struct ofpbuf *b)
{
    size_t headroom = ofpbuf_headroom(b);
    if (!b->size) {
        ofpbuf_clear(b);
    } else if (headroom) {
        ofpbuf_shift(b, -(int) headroom);
    }
}

/* Reads from QEMU into a DATA frame, or notes its end with an END. */
static void
pump_up(struct relay *r)
{
    if (r->up.size || r->local_eof || !r->local) {
        return;
    }
    int n = stream_recv(r->local, r->scratch, RELAY_BUFSIZE);
    if (n == -EAGAIN) {
        return;
    } else if (n < 0) {
        /* Not an end the peer should take for a whole stream. */
        r->local_eof = true;
        relay_fail(r, xasprintf("%s stream from QEMU: %s",
                                kind_names[r->kind], ovs_strerror(-n)));
        return;
    } else if (!n) {
        r->local_eof = true;
        if (!r->sent_end) {
            put_frame(&r->up, FRAME_END, NULL, 0);
            r->sent_end = true;
        }
        return;
    }
    /* Flushed at once: QEMU may wait for an answer to what it sent. */
    compact(&r->up);
    struct frame_header *h = ofpbuf_put_uninit(&r->up, sizeof *h);
    size_t start = r->up.size;
    migr_frame_encode(&r->encoder, r->scratch, n, &r->up);
    migr_frame_flush(&r->encoder, &r->up);
    h = r->up.data;
    size_t len = r->up.size - start;
    *h = (struct frame_header) { .type = FRAME_DATA, .len = htonl(len) };
    relay_count(r, 0, n, len + sizeof *h);
}

/* Takes the whole frames out of 'r->rx'.  Returns NULL or an error. */
static char *
take_frames(struct relay *r)
{
    while (r->rx.size >= sizeof(struct frame_header)) {
        struct frame_header hdr;
        memcpy(&hdr, r->rx.data, sizeof hdr);
        const struct frame_header *h = &hdr;
        const uint8_t *payload = (const uint8_t *) r->rx.data + sizeof hdr;
        size_t len = ntohl(h->len);
        if (len > FRAME_MAX || (h->type != FRAME_DATA && len)) {
            return xasprintf("bad frame from the peer (type %d, %"PRIuSIZE
                             " bytes)", h->type, len);
        }
        if (r->rx.size < sizeof *h + len) {
            return NULL;
        }
        switch (h->type) {
        case FRAME_DATA:
            if (migr_frame_decode(&r->decoder, payload, len, &r->down)) {
                return xasprintf("the peer's %s stream: %s",
                                 kind_names[r->kind],
                                 migr_frame_decoder_error(&r->decoder));
            }
            break;
        case FRAME_END:
            if (migr_frame_decoder_finish(&r->decoder)) {
                return xasprintf("the peer's %s stream: %s",
                                 kind_names[r->kind],
                                 migr_frame_decoder_error(&r->decoder));
            }
            r->got_end = true;
            put_frame(&r->up, FRAME_ACK, NULL, 0);
            break;
        case FRAME_ACK:
            r->got_ack = true;
            break;
        default:
            return xasprintf("unknown frame type %d from the peer", h->type);
        }
        ofpbuf_pull(&r->rx, sizeof *h + len);
    }
    return NULL;
}

/* Why the peer's channel connection ended before its END: 'error', or 0
 * if it was closed.  Which side notices first, reading or writing, depends
 * on timing, so both say the same. */
static char *
ended_early(int error)
{
    return xasprintf("the peer's channel connection ended early (%s)",
                     error ? ovs_strerror(error) : "closed");
}

/* Reads frames from the peer, once QEMU has taken what came before. */
static char *
pump_down(struct relay *r)
{
    if (r->down.size || r->remote_eof) {
        return NULL;
    }
    compact(&r->rx);
    ofpbuf_prealloc_tailroom(&r->rx, FRAME_MAX);
    int n = stream_recv(r->remote, ofpbuf_tail(&r->rx), FRAME_MAX);
    if (n == -EAGAIN) {
        return NULL;
    } else if (n <= 0) {
        r->remote_eof = true;
        return r->got_end ? NULL : ended_early(n ? -n : 0);
    }
    r->rx.size += n;
    char *error = take_frames(r);
    if (r->down.size) {
        /* Once a frame of QEMU's bytes, not once a TLS record: the
         * clock is a system call. */
        relay_count(r, 0, 0, 0);
    }
    return error;
}

/* Sends what is pending in 'b' to 'stream', adding to '*sent' what it
 * sent and noting in '*waited' whether it had to wait.  Returns 0 or an
 * errno value. */
static int
flush(struct stream *stream, struct ofpbuf *b, uint64_t *sent, bool *waited)
{
    while (b->size) {
        int n = stream_send(stream, b->data, b->size);
        if (n == -EAGAIN) {
            *waited = true;
            return 0;
        } else if (n < 0) {
            return -n;
        }
        ofpbuf_pull(b, n);
        *sent += n;
    }
    ofpbuf_clear(b);
    return 0;
}

/* Tells the compression policy how fast the link drained of late. */
static void
measure_link(struct relay *r)
{
    long long int now = time_usec() * 1000;
    long long int elapsed = now - r->window_start;
    if (elapsed >= LINK_WINDOW_NS) {
        migr_compress_note_link(&r->encoder.policy, r->window_wire, elapsed,
                                r->window_backlogged);
        r->window_start = now;
        r->window_wire = 0;
        r->window_backlogged = false;
    }
}

static void
relay_wait(struct relay *r)
{
    stream_run_wait(r->remote);
    if (r->up.size) {
        stream_send_wait(r->remote);
    } else if (r->local && !r->local_eof) {
        stream_recv_wait(r->local);
    }
    if (r->down.size && r->local) {
        stream_send_wait(r->local);
    } else if (!r->remote_eof) {
        stream_recv_wait(r->remote);
    }
    poll_timer_wait(CLOSED_CHECK_MS);
}

/* Carries the connection both ways until both ends have ended and each has
 * received the other's END. */
static void
relay_pump(struct relay *r)
{
    /* What came with the greeting. */
    char *early = take_frames(r);
    if (early) {
        relay_fail(r, early);
        return;
    }
    for (;;) {
        stream_run(r->remote);
        char *error = pump_down(r);
        uint64_t unused = 0;
        bool waited = false;
        int e_remote = (error ? 0 : flush(r->remote, &r->up,
                                          &r->window_wire,
                                          &r->window_backlogged));
        int e_local = 0;
        if (!error && !e_remote && r->local) {
            e_local = flush(r->local, &r->down, &unused, &waited);
        }
        if (!error && !e_remote && !e_local) {
            pump_up(r);
            e_remote = flush(r->remote, &r->up, &r->window_wire,
                             &r->window_backlogged);
        }
        measure_link(r);
        if (!error && e_remote) {
            error = ended_early(e_remote);
        } else if (!error && e_local) {
            error = xasprintf("%s stream: %s", kind_names[r->kind],
                              ovs_strerror(e_local));
        }
        if (error) {
            relay_fail(r, error);
            return;
        }
        if (r->got_end && !r->down.size && r->local) {
            /* The peer's QEMU ended: so does ours, which then has nothing
             * more to say either. */
            stream_close(r->local);
            r->local = NULL;
            if (!r->sent_end) {
                put_frame(&r->up, FRAME_END, NULL, 0);
                r->sent_end = true;
            }
        }
        if (r->got_end && !r->down.size && r->sent_end
            && (r->got_ack || r->remote_eof)) {
            return;
        }
        if (relay_over(r)) {
            return;
        }
        relay_wait(r);
        poll_block();
    }
}

/* A source's connection from QEMU: to the destination's channel, whose
 * certificate must name the destination, then a greeting, then relay. */
static void *
source_relay_main(void *r_)
{
    struct relay *r = r_;
    const struct route *route = r->route;
    /* stream-ssl initializes itself on first use, unguarded. */
    static struct ovs_mutex open_mutex = OVS_MUTEX_INITIALIZER;
    ovs_mutex_lock(&open_mutex);
    int error = stream_open(route->peer, &r->remote, DSCP_DEFAULT);
    ovs_mutex_unlock(&open_mutex);
    if (!error) {
        error = connect_stream(r, r->remote);
    }
    const char *cn = error ? NULL : stream_get_peer_id(r->remote);
    if (error) {
        relay_fail(r, xasprintf(
                       "cannot reach the channel of %s at %s (%s): is it "
                       "listening, and are both hosts' certificates signed "
                       "by the vmroam CA and not expired?", route->host,
                       route->peer,
                       ovs_strerror(error)));
    } else if (!cn || strcmp(cn, route->host)) {
        relay_fail(r, xasprintf("the channel at %s presented %s's "
                                "certificate, not %s's", route->peer,
                                cn ? cn : "a nameless", route->host));
    } else {
        relay_count(r, 1, 0, 0);
        char *greeting = xasprintf("VMROAM-CHANNEL 1 %s %s %u\n", route->id,
                                   kind_names[r->kind], r->seq);
        ofpbuf_put(&r->up, greeting, strlen(greeting));
        free(greeting);
        relay_pump(r);
    }
    relay_destroy(r);
    return NULL;
}

/* Parses the greeting at the start of 'r->rx' into its migration id and
 * stream kind, and pulls it off.  Returns 0, EAGAIN if it is not all
 * there yet, or EPROTO. */
static int
take_greeting(struct relay *r, char id[64], enum migr_stream_kind *kind)
{
    const char *nl = memchr(r->rx.data, '\n', r->rx.size);
    if (!nl) {
        return r->rx.size > GREETING_MAX ? EPROTO : EAGAIN;
    }
    char *line = xmemdup0(r->rx.data, nl - (const char *) r->rx.data);
    ofpbuf_pull(&r->rx, nl + 1 - (const char *) r->rx.data);
    char kind_s[16];
    int ok = ovs_scan(line, "VMROAM-CHANNEL 1 %63s %15s %u", id, kind_s,
                      &r->seq);
    free(line);
    for (int k = 0; ok && k < MIGR_N_STREAM_KINDS; k++) {
        if (!strcmp(kind_s, kind_names[k])) {
            *kind = k;
            return 0;
        }
    }
    return EPROTO;
}

/* Reads the greeting from the peer.  Returns 0 or an errno value. */
static int
read_greeting(struct relay *r, char id[64], enum migr_stream_kind *kind)
{
    long long int deadline = time_msec() + CONNECT_TIMEOUT_MS;
    for (;;) {
        int error = take_greeting(r, id, kind);
        if (error != EAGAIN) {
            return error;
        }
        ofpbuf_prealloc_tailroom(&r->rx, GREETING_MAX);
        int n = stream_recv(r->remote, ofpbuf_tail(&r->rx), GREETING_MAX);
        if (n > 0) {
            r->rx.size += n;
        } else if (n != -EAGAIN) {
            return n ? -n : EPROTO;
        } else if (time_msec() >= deadline || relay_over(r)) {
            return ETIMEDOUT;
        } else {
            stream_recv_wait(r->remote);
            poll_timer_wait_until(MIN(deadline,
                                      time_msec() + CLOSED_CHECK_MS));
            poll_block();
        }
    }
}

/* Finds the route that 'r''s greeting names and checks that the peer is
 * its source.  Returns an error or NULL. */
static char *
admit(struct relay *r, const char *id, const char *cn)
{
    struct migr_channel *ch = r->ch;
    char *why = NULL;
    ovs_mutex_lock(&ch->mutex);
    struct route *route = find_route(ch, id);
    if (!route || route->source) {
        why = xasprintf("refused a channel connection from %s for migration "
                        "%s, which this host does not expect", cn, id);
    } else if (strcmp(cn, route->host)) {
        /* Noted, but an impostor must not fail the real source's
         * streams: its words count only if the migration fails. */
        why = xasprintf("%s is not the source of migration %.8s", cn, id);
        if (!route->refused) {
            route->refused = xstrdup(why);
        }
    } else {
        r->route = route_ref(route);
    }
    ovs_mutex_unlock(&ch->mutex);
    return why;
}

/* Waits until the connections of 'r''s kind that the source's QEMU opened
 * before it have reached QEMU here.  Returns 0 or an errno value. */
static int
wait_turn(struct relay *r)
{
    long long int deadline = time_msec() + CONNECT_TIMEOUT_MS;
    for (;;) {
        ovs_mutex_lock(&r->ch->mutex);
        bool turn = r->route->delivered[r->kind] == r->seq;
        ovs_mutex_unlock(&r->ch->mutex);
        if (turn) {
            return 0;
        } else if (time_msec() >= deadline || relay_over(r)) {
            return ETIMEDOUT;
        }
        xnanosleep(1000 * 1000);
    }
}

/* Opens 'r''s connection to the destination QEMU's socket '*name'
 * ("unix:PATH").  A source older than the migrations' own socket
 * directories gave its QEMU, and so libvirt gave this one, the path of
 * that time, DIR/vmroam-ID-KIND.sock: that is where QEMU listens if not at
 * PATH ('*name' then says so).  Returns 0 or an errno value. */
static int
open_qemu_socket(struct relay *r, char **name)
{
    int error = stream_open(*name, &r->local, DSCP_DEFAULT);
    if (error == ENOENT) {
        char *dir = dir_name(*name);
        char *base = dir_name(dir);
        char *old = xasprintf("%s/vmroam-%s-%s.sock", base, r->route->id,
                              kind_names[r->kind]);
        if (!stream_open(old, &r->local, DSCP_DEFAULT)) {
            free(*name);
            *name = old;
            old = NULL;
            error = 0;
        }
        free(old);
        free(base);
        free(dir);
    }
    return error;
}

/* A destination's connection from a source's channel: TLS, a greeting
 * naming a migration this host expects from that very host, then QEMU's
 * incoming socket. */
static void *
destination_relay_main(void *r_)
{
    struct relay *r = r_;
    char id[64];
    int error = connect_stream(r, r->remote);
    const char *cn = error ? NULL : stream_get_peer_id(r->remote);
    if (!error && !cn) {
        error = EPROTO;
    }
    if (!error) {
        error = read_greeting(r, id, &r->kind);
    }
    char *why = (error ? xasprintf("channel connection from %s: %s",
                                   stream_get_name(r->remote),
                                   ovs_strerror(error))
                 : admit(r, id, cn));
    atomic_count_dec(&r->ch->n_unproven);
    if (!why) {
        const char *path = r->route->paths[r->kind];
        char *name = xasprintf("unix:%s", path ? path : "");
        error = !path ? EPROTO : wait_turn(r);
        if (!error) {
            error = open_qemu_socket(r, &name);
        }
        if (!error) {
            error = connect_stream(r, r->local);
        }
        ovs_mutex_lock(&r->ch->mutex);
        r->route->delivered[r->kind]++;
        ovs_mutex_unlock(&r->ch->mutex);
        if (error) {
            why = xasprintf("cannot deliver the %s stream into %s (%s)",
                            kind_names[r->kind], name, ovs_strerror(error));
        }
        free(name);
    }
    if (why) {
        relay_fail(r, why);
    } else {
        relay_count(r, 1, 0, 0);
        relay_pump(r);
    }
    relay_destroy(r);
    return NULL;
}

static void
start_relay(void *(*main)(void *), struct relay *r)
{
    pthread_t thread = ovs_thread_create("migr_relay", main, r);
    pthread_detach(thread);
}

/* ---------------------------------------------------------------- acceptor */

/* Accepts what the destination's listener and the source's QEMU sockets
 * have for us, each connection to a relay of its own. */
static bool
accept_all(struct migr_channel *ch) OVS_REQUIRES(ch->mutex)
{
    struct stream *stream;
    if (ch->replace_listener) {
        pstream_close(ch->listener);
        ch->listener = ch->next_listener;
        ch->next_listener = NULL;
        ch->replace_listener = false;
    }
    int error = EAGAIN;
    while (ch->listener
           && !(error = pstream_accept(ch->listener, &stream))) {
        if (atomic_count_get(&ch->n_unproven) >= MAX_UNPROVEN) {
            static struct vlog_rate_limit flood = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&flood, "%s: %d connections already wait to prove "
                         "who they are: closing this one",
                         stream_get_name(stream), MAX_UNPROVEN);
            stream_close(stream);
            continue;
        }
        atomic_count_inc(&ch->n_unproven);
        start_relay(destination_relay_main,
                    relay_create(ch, NULL, 0, NULL, stream));
    }

    struct route *r;
    HMAP_FOR_EACH_SAFE (r, node, &ch->routes) {
        if (route_closed(r)) {
            route_remove(ch, r);
            continue;
        }
        for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
            while (r->listeners[k]
                   && !pstream_accept(r->listeners[k], &stream)) {
                struct relay *relay = relay_create(ch, r, k, stream, NULL);
                relay->seq = r->accepted[k]++;
                start_relay(source_relay_main, relay);
            }
        }
    }
    if (error != EAGAIN) {
        /* Out of file descriptors, say: not a busy loop meanwhile. */
        static struct vlog_rate_limit err_rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&err_rl, "migration channel: accept: %s",
                     ovs_strerror(error));
        return true;
    }
    return false;
}

static void
accept_wait(struct migr_channel *ch) OVS_REQUIRES(ch->mutex)
{
    if (ch->listener) {
        pstream_wait(ch->listener);
    }
    struct route *r;
    HMAP_FOR_EACH (r, node, &ch->routes) {
        for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
            if (r->listeners[k]) {
                pstream_wait(r->listeners[k]);
            }
        }
    }
    latch_wait(&ch->wake);
}

static void *
acceptor_main(void *ch_)
{
    struct migr_channel *ch = ch_;
    for (;;) {
        bool exiting;
        atomic_read(&ch->exiting, &exiting);
        if (exiting) {
            return NULL;
        }
        latch_poll(&ch->wake);
        ovs_mutex_lock(&ch->mutex);
        bool back_off = accept_all(ch);
        accept_wait(ch);
        ovs_mutex_unlock(&ch->mutex);
        if (back_off) {
            xnanosleep(100 * 1000 * 1000);
        }
        poll_block();
    }
}

/* ---------------------------------------------------------------- API */

static char *
open_listener(const char *name, struct pstream **listener)
{
    int error = pstream_open(name, listener, DSCP_DEFAULT);
    return (error ? xasprintf("migration channel: cannot listen on %s (%s)",
                              name, ovs_strerror(error))
            : NULL);
}

/* Creates the channel.  With 'listen' (a passive stream-ssl name, such as
 * "pssl:6643"), it receives migrations there; without, it only sends until
 * told where to listen.  The stream-ssl key, certificate and CA
 * certificate must be configured. */
struct migr_channel *
migr_channel_create(const char *listen, char **errorp)
{
    struct pstream *listener = NULL;
    if (listen) {
        *errorp = open_listener(listen, &listener);
        if (*errorp) {
            return NULL;
        }
    }
    struct migr_channel *ch = xzalloc(sizeof *ch);
    ch->listener = listener;
    ovs_mutex_init(&ch->mutex);
    hmap_init(&ch->routes);
    latch_init(&ch->wake);
    atomic_init(&ch->exiting, false);
    atomic_count_init(&ch->n_relays, 0);
    atomic_count_init(&ch->n_unproven, 0);
    ch->acceptor = ovs_thread_create("migr_channel", acceptor_main, ch);
    return ch;
}

/* Makes the channel receive migrations on 'listen' from now on (nowhere if
 * NULL), instead of where it did.  Returns an error (and listens where it
 * did) or NULL. */
char *
migr_channel_listen(struct migr_channel *ch, const char *listen)
{
    struct pstream *listener = NULL;
    char *error = listen ? open_listener(listen, &listener) : NULL;
    if (!error) {
        ovs_mutex_lock(&ch->mutex);
        pstream_close(ch->next_listener);
        ch->next_listener = listener;
        ch->replace_listener = true;
        ovs_mutex_unlock(&ch->mutex);
        latch_set(&ch->wake);
    }
    return error;
}

/* Cuts every connection and waits (briefly) for the relays to end. */
void
migr_channel_destroy(struct migr_channel *ch)
{
    if (!ch) {
        return;
    }
    ovs_mutex_lock(&ch->mutex);
    struct route *r;
    HMAP_FOR_EACH (r, node, &ch->routes) {
        atomic_store(&r->closed, true);
    }
    ovs_mutex_unlock(&ch->mutex);
    atomic_store(&ch->exiting, true);
    latch_set(&ch->wake);
    xpthread_join(ch->acceptor, NULL);

    /* Every relay notices within CLOSED_CHECK_MS, or its connect or
     * greeting deadline, and ends: they use 'ch'. */
    while (atomic_count_get(&ch->n_relays)) {
        xnanosleep(10 * 1000 * 1000);
    }
    HMAP_FOR_EACH_SAFE (r, node, &ch->routes) {
        route_remove(ch, r);
    }
    hmap_destroy(&ch->routes);
    pstream_close(ch->listener);
    pstream_close(ch->next_listener);
    latch_destroy(&ch->wake);
    ovs_mutex_destroy(&ch->mutex);
    free(ch);
}

/* Where peers reach this host's channel, if it listens, for a host whose
 * PA is 'pa': "ssl:ADDRESS:PORT". */
char *
migr_channel_address(const struct migr_channel *ch, const char *pa)
{
    if (!ch || !pa) {
        return NULL;
    }
    /* "pssl:PORT[:ADDRESS]", with the port bound. */
    struct migr_channel *c = CONST_CAST(struct migr_channel *, ch);
    ovs_mutex_lock(&c->mutex);
    const struct pstream *listener = (c->replace_listener ? c->next_listener
                                      : c->listener);
    char *name = listener ? xstrdup(pstream_get_name(listener)) : NULL;
    ovs_mutex_unlock(&c->mutex);
    int port;
    char address[64] = "";
    bool ok = name && (ovs_scan(name, "pssl:%d:%63s", &port, address)
                       || ovs_scan(name, "pssl:%d", &port));
    free(name);
    if (!ok) {
        return NULL;
    }
    /* OVS names an IPv6 address in brackets. */
    char *host_ = address;
    size_t len = strlen(host_);
    if (len >= 2 && host_[0] == '[' && host_[len - 1] == ']') {
        host_[len - 1] = '\0';
        host_++;
    }
    const char *host = (*host_ && strcmp(host_, "0.0.0.0")
                        && strcmp(host_, "::") ? host_ : pa);
    return xasprintf(strchr(host, ':') ? "ssl:[%s]:%d" : "ssl:%s:%d",
                     host, port);
}

/* The unix socket of stream 'kind' of migration 'id', in 'dir': the path
 * the source's QEMU connects to and the destination's QEMU listens on.
 * A migration's sockets have a directory of their own, which the channel
 * makes and gives to QEMU's user. */
char *
migr_channel_socket(const char *dir, const char *id,
                    enum migr_stream_kind kind)
{
    return xasprintf("%s/vmroam-%s/%s.sock", dir, id, kind_names[kind]);
}

/* The source's part: serves the unix sockets 'paths' (NULL for a stream
 * this migration does not have) for migration 'id' to QEMU, which runs as
 * 'uid' and 'gid', carrying what QEMU sends there to the channel at
 * 'peer', which must be 'destination''s, compressed as 'compression' says.
 * Returns an error or NULL. */
char *
migr_channel_serve(struct migr_channel *ch, const char *id,
                   const char *peer, const char *destination,
                   const char *paths[MIGR_N_STREAM_KINDS], uid_t uid,
                   gid_t gid, enum migr_compress_mode compression)
{
    char *why = make_socket_dir(paths, uid, gid);
    if (why) {
        return why;
    }
    struct pstream *listeners[MIGR_N_STREAM_KINDS] = { NULL };
    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        if (!paths[k]) {
            continue;
        }
        char *name = xasprintf("punix:%s", paths[k]);
        unlink(paths[k]);
        int error = pstream_open(name, &listeners[k], DSCP_DEFAULT);
        if (!error && chown(paths[k], uid, gid)) {
            error = errno;
        }
        free(name);
        if (error) {
            for (int j = 0; j <= k; j++) {
                pstream_close(listeners[j]);
            }
            remove_socket_dir(paths);
            return xasprintf("cannot serve %s (%s)", paths[k],
                             ovs_strerror(error));
        }
    }
    ovs_mutex_lock(&ch->mutex);
    struct route *r = add_route(ch, id, true, destination, paths);
    r->peer = xstrdup(peer);
    r->compression = compression;
    memcpy(r->listeners, listeners, sizeof listeners);
    ovs_mutex_unlock(&ch->mutex);
    latch_set(&ch->wake);
    return NULL;
}

/* The destination's part: accepts, for migration 'id', channel connections
 * from host 'source' only, and delivers each stream into the unix socket
 * of 'paths' where the destination's QEMU, which runs as 'uid' and 'gid',
 * listens.  Returns an error or NULL. */
char *
migr_channel_expect(struct migr_channel *ch, const char *id,
                    const char *source,
                    const char *paths[MIGR_N_STREAM_KINDS], uid_t uid,
                    gid_t gid)
{
    char *why = make_socket_dir(paths, uid, gid);
    if (why) {
        return why;
    }
    ovs_mutex_lock(&ch->mutex);
    if (!find_route(ch, id)) {
        add_route(ch, id, false, source, paths);
    }
    ovs_mutex_unlock(&ch->mutex);
    return NULL;
}

/* Stores the statistics of migration 'id' so far, and the first failure
 * (the caller frees it) or NULL. */
void
migr_channel_get(struct migr_channel *ch, const char *id,
                 struct migr_channel_stats *stats, char **error)
{
    ovs_mutex_lock(&ch->mutex);
    const struct route *r = find_route(ch, id);
    *stats = r ? r->stats : (struct migr_channel_stats) { 0 };
    *error = (!r ? NULL
              : nullable_xstrdup(r->error ? r->error : r->refused));
    ovs_mutex_unlock(&ch->mutex);
}

/* Ends migration 'id''s channel: its sockets go and its connections are cut
 * at once. */
void
migr_channel_close(struct migr_channel *ch, const char *id)
{
    ovs_mutex_lock(&ch->mutex);
    struct route *r = find_route(ch, id);
    if (r) {
        atomic_store(&r->closed, true);
    }
    ovs_mutex_unlock(&ch->mutex);
    latch_set(&ch->wake);
}
