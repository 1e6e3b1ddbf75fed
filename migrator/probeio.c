#include <config.h>

#include "migrator/probeio.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "migrator/storage.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "seq.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(migr_probeio);

struct migr_probe_io {
    struct ovs_refcount ref;    /* The agent's, and each running thread's. */
    struct ovs_mutex mutex;
    struct hmap probes OVS_GUARDED;
    struct seq *done;           /* Changes when a probe finishes. */
    atomic_count n_running;     /* Threads not done, forgotten or not. */
    int timeout_ms;
};

/* One probe of one migration. */
struct probe {
    struct hmap_node node;      /* In 'probes', until forgotten. */
    struct migr_probe_io *io;
    enum migr_probe_op op;
    char *id;
    struct sset disks;          /* A write resolves them. */
    char *token;
    long long int deadline;     /* Counts as failed after that. */

    /* Guarded by the mutex. */
    bool finished;              /* Its thread is done. */
    bool forgotten;             /* Nobody wants the result any more. */
    bool reported;              /* Polled since it finished or timed out. */
    char *result;               /* NULL, or what went wrong. */
};

static void
io_unref(struct migr_probe_io *io)
{
    if (io && ovs_refcount_unref(&io->ref) == 1) {
        hmap_destroy(&io->probes);
        ovs_mutex_destroy(&io->mutex);
        seq_destroy(io->done);
        free(io);
    }
}

/* Probes that count as failed after 'timeout_ms'. */
struct migr_probe_io *
migr_probe_io_create(int timeout_ms)
{
    struct migr_probe_io *io = xzalloc(sizeof *io);
    io->timeout_ms = timeout_ms;
    ovs_refcount_init(&io->ref);
    ovs_mutex_init(&io->mutex);
    hmap_init(&io->probes);
    io->done = seq_create();
    return io;
}

static void
probe_free(struct probe *p)
{
    sset_destroy(&p->disks);
    free(p->id);
    free(p->token);
    free(p->result);
    free(p);
}

/* Forgets every probe: their threads, if still running, free them. */
void
migr_probe_io_destroy(struct migr_probe_io *io)
{
    if (!io) {
        return;
    }
    ovs_mutex_lock(&io->mutex);
    struct probe *p;
    HMAP_FOR_EACH_POP (p, node, &io->probes) {
        if (p->finished) {
            probe_free(p);
        } else {
            p->forgotten = true;
        }
    }
    ovs_mutex_unlock(&io->mutex);
    io_unref(io);
}

/* Removes the probe files 'p' wrote, if it wrote them, and frees it. */
static void
probe_discard(struct probe *p)
{
    if (p->op == MIGR_PROBE_WRITE && !p->result) {
        migr_storage_probe_remove(&p->disks, p->token);
    }
    probe_free(p);
}

static void *
discard_main(void *p)
{
    probe_discard(p);
    return NULL;
}

static struct probe *
find(const struct migr_probe_io *io, enum migr_probe_op op, const char *id)
    OVS_REQUIRES(io->mutex)
{
    struct probe *p;
    HMAP_FOR_EACH_WITH_HASH (p, node, hash_string(id, op), &io->probes) {
        if (p->op == op && !strcmp(p->id, id)) {
            return p;
        }
    }
    return NULL;
}

static void *
probe_main(void *p_)
{
    struct probe *p = p_;
    char *result;
    if (p->op == MIGR_PROBE_WRITE) {
        migr_storage_resolve(&p->disks);
        result = migr_storage_probe_write(&p->disks, p->token);
    } else {
        result = migr_storage_probe_check(&p->disks, p->token);
    }

    struct migr_probe_io *io = p->io;
    ovs_mutex_lock(&io->mutex);
    p->finished = true;
    p->result = result;
    bool forgotten = p->forgotten;
    ovs_mutex_unlock(&io->mutex);
    if (forgotten) {
        /* Too late: its probe files, if any, are nobody's now. */
        probe_discard(p);
    }
    atomic_count_dec(&io->n_running);
    seq_change(io->done);
    io_unref(io);
    return NULL;
}

/* Starts probe 'op' of migration 'id' in a thread of its own: on 'disks',
 * with 'token'.  Does nothing if that probe is known already. */
void
migr_probe_io_start(struct migr_probe_io *io, enum migr_probe_op op,
                    const char *id, const struct sset *disks,
                    const char *token)
{
    ovs_mutex_lock(&io->mutex);
    if (!find(io, op, id)) {
        struct probe *p = xzalloc(sizeof *p);
        p->io = io;
        p->op = op;
        p->id = xstrdup(id);
        sset_clone(&p->disks, disks);
        p->token = xstrdup(token);
        p->deadline = time_msec() + io->timeout_ms;
        hmap_insert(&io->probes, &p->node, hash_string(id, op));
        ovs_refcount_ref(&io->ref);
        atomic_count_inc(&io->n_running);
        pthread_detach(ovs_thread_create("migr_probe", probe_main, p));
    }
    ovs_mutex_unlock(&io->mutex);
}

/* Returns false while probe 'op' of migration 'id' runs (it must have been
 * started), and true once it has finished or timed out: then '*result' is
 * NULL if it succeeded, else what went wrong (the caller frees it), and
 * 'resolved', unless NULL, gets the disks' paths as it resolved them.  A
 * probe stays known until forgotten. */
bool
migr_probe_io_poll(struct migr_probe_io *io, enum migr_probe_op op,
                   const char *id, struct sset *resolved, char **result)
{
    ovs_mutex_lock(&io->mutex);
    struct probe *p = find(io, op, id);
    ovs_assert(p);
    bool over = p->finished || time_msec() >= p->deadline;
    if (over) {
        *result = (p->finished ? nullable_xstrdup(p->result)
                   : xasprintf("the file system of the disks did not answer "
                               "within %d ms", io->timeout_ms));
        if (resolved && p->finished) {
            sset_destroy(resolved);
            sset_clone(resolved, &p->disks);
        }
        p->reported = true;
    }
    ovs_mutex_unlock(&io->mutex);
    return over;
}

/* Forgets probe 'op' of migration 'id', if known, and removes the probe
 * files it wrote, now or, if its thread still runs, once it is done. */
void
migr_probe_io_forget(struct migr_probe_io *io, enum migr_probe_op op,
                     const char *id)
{
    ovs_mutex_lock(&io->mutex);
    struct probe *p = find(io, op, id);
    if (p) {
        hmap_remove(&io->probes, &p->node);
        if (!p->finished) {
            p->forgotten = true;
        } else if (p->op == MIGR_PROBE_WRITE && !p->result) {
            /* Removing files may block too. */
            pthread_detach(ovs_thread_create("migr_probe_rm", discard_main,
                                             p));
        } else {
            probe_free(p);
        }
    }
    ovs_mutex_unlock(&io->mutex);
}

/* The number of probes whose file I/O has not returned yet, those that
 * timed out or were forgotten included. */
unsigned int
migr_probe_io_n_running(const struct migr_probe_io *io)
{
    return atomic_count_get(&CONST_CAST(struct migr_probe_io *, io)
                            ->n_running);
}

/* The number of probes started and not yet polled to their end. */
unsigned int
migr_probe_io_n_pending(const struct migr_probe_io *io_)
{
    struct migr_probe_io *io = CONST_CAST(struct migr_probe_io *, io_);
    unsigned int n = 0;
    ovs_mutex_lock(&io->mutex);
    const struct probe *p;
    HMAP_FOR_EACH (p, node, &io->probes) {
        n += !p->reported;
    }
    ovs_mutex_unlock(&io->mutex);
    return n;
}

/* Wakes the main loop when a probe finishes or times out. */
void
migr_probe_io_wait(struct migr_probe_io *io)
{
    /* Read first: a probe that finishes after it changes the seq. */
    uint64_t seqno = seq_read(io->done);
    ovs_mutex_lock(&io->mutex);
    const struct probe *p;
    HMAP_FOR_EACH (p, node, &io->probes) {
        if (p->reported) {
            continue;
        } else if (p->finished) {
            poll_immediate_wake();
        } else {
            poll_timer_wait_until(p->deadline);
        }
    }
    ovs_mutex_unlock(&io->mutex);
    seq_wait(io->done, seqno);
}
