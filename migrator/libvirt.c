#include <config.h>

#include "migrator/libvirt.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "latch.h"
#include "migrator/pause.h"
#include "migrator/seclabel.h"
#include "migrator/sockets.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/thread.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "seq.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(migr_libvirt);

struct libvirt {
    virConnectPtr conn;
    char *uri;
    long long int next_reconnect;
    struct sset recovering;     /* VMs whose orphaned job we aborted. */
    int lifecycle_id;           /* Of the lifecycle callback on 'conn', or
                                 * -1 if none could be registered. */

    /* What lifecycle events said, written by libvirt's event thread. */
    struct ovs_mutex mutex;
    struct sset paused OVS_GUARDED;     /* By a migration, not resumed. */
    struct sset resumed OVS_GUARDED;    /* By a migration, not taken. */
    struct seq *events;         /* Changes with each of them. */
    uint64_t events_read;       /* Its value when they were last read. */

    /* What scan_thread() found last. */
    struct sset running OVS_GUARDED;    /* The VMs that run here. */
    char *scan_error OVS_GUARDED;       /* Or why it could not tell. */
    pthread_t scanner;
    struct latch scanner_exit;
};

/* A migration job.  Three threads share it: the migrate call blocks in one
 * until libvirt is done, which then reads the final statistics from the
 * destination; a monitor thread reads the job's progress, watches
 * the VM resume on the destination and carries out an abort, each of which
 * can block for as long as QEMU or a peer does not answer; the agent's
 * main loop only reads what they found, so it never waits on libvirt. */
struct migr_job {
    struct libvirt *lv;
    virConnectPtr mig_conn;     /* The migrate call's own connection. */
    virDomainPtr mig_dom;       /* On 'mig_conn'. */
    virConnectPtr mon_conn;     /* The monitor's: stats and abort. */
    virDomainPtr mon_dom;       /* On 'mon_conn'. */
    virConnectPtr dest_conn;    /* The monitor's: to watch the VM resume.
                                 * It opens it, so that a destination that
                                 * does not answer never holds up the
                                 * agent's main loop; written under
                                 * 'mutex'. */
    char *vm;
    char *destination;
    char *dest_uri;
    char *dest_address;
    int dest_port_min, dest_port_max;
    bool copy_storage;
    int bandwidth_mibps;
    char *memory_uri;           /* Through the channel, or NULL. */
    char *disks_uri;
    int streams;
    bool quick;
    int max_downtime_ms;
    bool pause_when_held;

    struct ovs_mutex mutex;
    bool done OVS_GUARDED;
    bool ok OVS_GUARDED;
    char *error OVS_GUARDED;
    bool abort_requested OVS_GUARDED;
    bool orphaned OVS_GUARDED;  /* Dropped while running: the migrate
                                 * thread frees it once libvirt returns. */
    struct migr_status last OVS_GUARDED;    /* Progress seen so far. */
    unsigned int dest_looks OVS_GUARDED;    /* Monitor's calls there. */
    bool dest_lost OVS_GUARDED; /* The migration failed with the
                                 * destination's libvirtd gone. */
    struct migr_pause pause;    /* Monitor only, if 'pause_when_held'. */
    bool pausing OVS_GUARDED;   /* The monitor wants the packets held. */
    bool held OVS_GUARDED;      /* The network holds them. */
    struct latch wake;          /* Set with 'held'. */
    bool cutting;               /* Main loop only: aborted over a broken
                                 * path, so its connections go. */
    struct latch latch;         /* Set when the migrate call returns. */
    pthread_t thread, monitor;
};

/* How often the monitor looks at the job. */
#define MONITOR_INTERVAL_MS 20
/* Job statistics cost QEMU a monitor command: not more than 4 a second, or
 * a busy TCG guest converges more slowly; 20 a second only while the
 * guest's last pause is near (migrator/pause.h). */
#define STATS_INTERVAL_MS 250
#define NEAR_STATS_INTERVAL_MS 50

static char *
last_error(const char *what)
{
    const char *msg = virGetLastErrorMessage();
    return xasprintf("%s: %s", what, msg ? msg : "unknown libvirt error");
}

/* Why the migrate call failed, naming the destination when it is its
 * libvirtd that went away, which libvirt's message does not say. */
static char *
failure(struct migr_job *job)
{
    char *error = last_error("migration failed");

    /* The monitor's next look at the destination finds out whether its
     * libvirtd is gone; wait for it, but never long, since over a broken
     * path that look itself may hang. */
    ovs_mutex_lock(&job->mutex);
    unsigned int seen = job->dest_looks;
    ovs_mutex_unlock(&job->mutex);
    for (int i = 0; i < 10; i++) {
        xnanosleep(MONITOR_INTERVAL_MS * 1000 * 1000);
        ovs_mutex_lock(&job->mutex);
        bool looked = job->dest_looks - seen >= 2;
        ovs_mutex_unlock(&job->mutex);
        if (looked) {
            break;
        }
    }
    ovs_mutex_lock(&job->mutex);
    virConnectPtr dest_conn = job->dest_conn;
    ovs_mutex_unlock(&job->mutex);
    if (!dest_conn || virConnectIsAlive(dest_conn) != 1) {
        char *msg = xasprintf("libvirtd of the destination %s (%s) cannot be "
                              "reached; %s", job->destination, job->dest_uri,
                              error);
        free(error);
        error = msg;
        /* A connection never made may be a slow one: only one that died
         * says for sure that the destination's hypervisor went away. */
        ovs_mutex_lock(&job->mutex);
        job->dest_lost = dest_conn != NULL;
        ovs_mutex_unlock(&job->mutex);
    }
    return error;
}

static uint64_t
param(virTypedParameterPtr params, int n, const char *name)
{
    unsigned long long v = 0;
    return virTypedParamsGetULLong(params, n, name, &v) == 1 ? v : 0;
}

/* After success the source domain is gone; the destination keeps the
 * completed job's statistics, downtime included. */
static void
read_completed_stats(struct migr_job *job, struct migr_status *st)
{
    virConnectPtr dest = virConnectOpen(job->dest_uri);
    virDomainPtr dom = dest ? virDomainLookupByName(dest, job->vm) : NULL;
    virTypedParameterPtr params = NULL;
    int n = 0, type;
    if (dom && !virDomainGetJobStats(dom, &type, &params, &n,
                                     VIR_DOMAIN_JOB_STATS_COMPLETED)) {
        st->downtime_ms = param(params, n, VIR_DOMAIN_JOB_DOWNTIME);
        uint64_t total = param(params, n, VIR_DOMAIN_JOB_DATA_PROCESSED);
        if (total) {
            st->processed = st->total = total;
            st->remaining = 0;
        }
        uint64_t iteration = param(params, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
        st->iteration = iteration ? iteration : st->iteration;
        virTypedParamsFree(params, n);
    }
    if (dom) {
        virDomainFree(dom);
    }
    if (dest) {
        virConnectClose(dest);
    }
}

static void free_job(struct migr_job *);
static int64_t local_disks(const virDomainStatsRecordPtr, struct sset *);

/* Where a quick migration saves 'job''s VM: beside its first disk, which
 * the destination was proven to see at the same path. */
static char *
save_path(struct migr_job *job)
{
    virDomainPtr doms[] = { job->mig_dom, NULL };
    virDomainStatsRecordPtr *records = NULL;
    struct sset disks = SSET_INITIALIZER(&disks);
    if (virDomainListGetStats(doms, VIR_DOMAIN_STATS_BLOCK, &records, 0) == 1) {
        local_disks(records[0], &disks);
    }
    virDomainStatsRecordListFree(records);
    char *path = NULL;
    if (!sset_is_empty(&disks)) {
        const char *disk = SSET_FIRST(&disks);
        const char *slash = strrchr(disk, '/');
        path = xasprintf("%.*s/.%s.vmroam-save", (int) (slash - disk), disk,
                         job->vm);
    }
    sset_destroy(&disks);
    return path;
}

/* Quick migration: saves the VM's state to a file the destination sees
 * too and restores it there, as a cluster's quick migration does; the
 * guest is stopped in between.  Should the destination not restore it,
 * the source does.  Returns 0 on success, else -1 with '*errorp'. */
static int
quick_migrate(struct migr_job *job, struct migr_status *st, char **errorp)
{
    char *path = save_path(job);
    char *xml = virDomainGetXMLDesc(job->mig_dom, VIR_DOMAIN_XML_SECURE
                                    | VIR_DOMAIN_XML_MIGRATABLE);
    bool persistent = virDomainIsPersistent(job->mig_dom) == 1;
    long long int start = time_msec();
    int ret = -1;
    *errorp = NULL;
    if (!path || !xml) {
        *errorp = (!path ? xstrdup("quick migration needs a disk file both "
                                   "hosts see, to save the VM beside it")
                   : last_error("the VM's definition"));
    } else if (virDomainSave(job->mig_dom, path)) {
        *errorp = last_error("saving the VM");
    } else {
        virConnectPtr dest = virConnectOpen(job->dest_uri);
        ret = dest ? virDomainRestore(dest, path) : -1;
        if (ret) {
            *errorp = last_error("restoring it on the destination");
            if (virDomainRestore(job->mig_conn, path)) {
                char *also = last_error("and restoring it here");
                char *msg = xasprintf("%s; %s: its state is in %s",
                                      *errorp, also, path);
                free(*errorp);
                free(also);
                *errorp = msg;
                path[0] = '\0';    /* Keep the file: it is all there is. */
            }
        } else {
            st->downtime_ms = time_msec() - start;
            st->resumed_on_destination = true;
            if (persistent) {
                virDomainPtr def = virDomainDefineXML(dest, xml);
                if (def) {
                    virDomainFree(def);
                }
                virDomainUndefine(job->mig_dom);
            }
        }
        if (dest) {
            virConnectClose(dest);
        }
        if (path[0]) {
            unlink(path);
        }
    }
    free(xml);
    free(path);
    return ret;
}

static void *
migrate_thread(void *job_)
{
    struct migr_job *job = job_;
    virTypedParameterPtr params = NULL;
    int nparams = 0, maxparams = 0;
    unsigned int flags = (VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER
                          | VIR_MIGRATE_PERSIST_DEST
                          | VIR_MIGRATE_UNDEFINE_SOURCE
                          | VIR_MIGRATE_AUTO_CONVERGE);
    if (job->copy_storage) {
        flags |= VIR_MIGRATE_NON_SHARED_DISK;
    } else {
        /* The agents proved that the destination sees the very files the
         * source does (migrator/storage.h).  libvirt judges by the file
         * system's type and cache mode instead, and refuses a path that
         * two hosts share without a cluster file system (as in the lab). */
        flags |= VIR_MIGRATE_UNSAFE;
    }
    char *migrate_uri = (job->memory_uri ? xstrdup(job->memory_uri)
                         : job->dest_address
                         ? xasprintf("tcp://%s", job->dest_address) : NULL);
    if (job->streams > 1) {
        flags |= VIR_MIGRATE_PARALLEL;
    }
    bool params_ok = ((!migrate_uri
                       || !virTypedParamsAddString(&params, &nparams,
                                                   &maxparams,
                                                   VIR_MIGRATE_PARAM_URI,
                                                   migrate_uri))
                      && (!job->disks_uri || !job->copy_storage
                          || !virTypedParamsAddString(
                              &params, &nparams, &maxparams,
                              VIR_MIGRATE_PARAM_DISKS_URI, job->disks_uri))
                      && (job->streams <= 1
                          || !virTypedParamsAddInt(
                              &params, &nparams, &maxparams,
                              VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
                              job->streams))
                      && (job->bandwidth_mibps <= 0
                          || !virTypedParamsAddULLong(
                              &params, &nparams, &maxparams,
                              VIR_MIGRATE_PARAM_BANDWIDTH,
                              job->bandwidth_mibps)));

    ovs_mutex_lock(&job->mutex);
    struct migr_status st = job->last;
    ovs_mutex_unlock(&job->mutex);
    char *error = NULL;
    int ret;
    if (job->quick) {
        ret = quick_migrate(job, &st, &error);
    } else {
        ret = (params_ok
               ? virDomainMigrateToURI3(job->mig_dom, job->dest_uri, params,
                                        nparams, flags)
               : -1);
        error = (!params_ok ? last_error("migration parameters")
                 : ret ? failure(job) : NULL);
        if (!ret) {
            read_completed_stats(job, &st);
        }
    }
    virTypedParamsFree(params, nparams);
    free(migrate_uri);

    ovs_mutex_lock(&job->mutex);
    if (!ret) {
        st.resumed_on_destination |= job->last.resumed_on_destination;
        job->last = st;
    }
    job->done = true;
    job->ok = !ret;
    job->error = error;
    bool orphaned = job->orphaned;
    ovs_mutex_unlock(&job->mutex);
    latch_set(&job->latch);
    if (orphaned) {
        VLOG_INFO("%s: the dropped migration job ended", job->vm);
        xpthread_join(job->monitor, NULL);
        free_job(job);
    }
    return NULL;
}

/* Reads the running job's statistics into 'st' and 'pass'; returns false
 * if there are none. */
static bool
read_stats(struct migr_job *job, struct migr_status *st,
           struct migr_pass *pass)
{
    virTypedParameterPtr params = NULL;
    int n = 0, type;
    if (virDomainGetJobStats(job->mon_dom, &type, &params, &n, 0) || !n) {
        return false;
    }
    uint64_t disk_total = param(params, n, VIR_DOMAIN_JOB_DISK_TOTAL);
    uint64_t disk_done = param(params, n, VIR_DOMAIN_JOB_DISK_PROCESSED);
    uint64_t mem_done = param(params, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED);

    st->total = param(params, n, VIR_DOMAIN_JOB_DATA_TOTAL);
    st->processed = param(params, n, VIR_DOMAIN_JOB_DATA_PROCESSED);
    st->remaining = param(params, n, VIR_DOMAIN_JOB_DATA_REMAINING);
    st->dirty_rate = param(params, n, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE);
    st->iteration = param(params, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
    /* Disks are mirrored before memory moves. */
    st->copying_storage = (job->copy_storage && disk_total
                           && disk_done < disk_total && !mem_done);
    *pass = (struct migr_pass) {
        .pass = st->copying_storage ? 0 : st->iteration,
        .remaining = param(params, n, VIR_DOMAIN_JOB_MEMORY_REMAINING),
        .dirty_per_s = st->dirty_rate * param(params, n,
                                              VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE),
        .bytes_per_s = param(params, n, VIR_DOMAIN_JOB_MEMORY_BPS),
    };
    virTypedParamsFree(params, n);
    return true;
}

/* True once the VM runs on the destination: libvirt's API call returns
 * only after its finish and confirm steps, while the network should follow
 * the VM the moment it resumes there. */
static bool
resumed_on_destination(struct migr_job *job)
{
    if (!job->dest_conn) {
        return false;
    }
    virDomainPtr dom = virDomainLookupByName(job->dest_conn, job->vm);
    int state = VIR_DOMAIN_NOSTATE, reason;
    if (dom) {
        virDomainGetState(dom, &state, &reason, 0);
        virDomainFree(dom);
    }
    return state == VIR_DOMAIN_RUNNING;
}

/* Cuts the job's data connections: over a broken path they would stall the
 * abort, and the guest with it, until TCP gives up.  The main loop does it,
 * quickly (netlink), on every pass until the job has ended: QEMU may still
 * open one after the first cut, and the monitor thread cannot be relied on,
 * since its calls wait on a QEMU that waits on that very connection. */
static void
cut_connections(struct migr_job *job)
{
    int n;
    char *error = migr_sockets_cut(job->dest_address, job->dest_port_min,
                                   job->dest_port_max, &n);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s: %s", job->vm, error);
        free(error);
    } else if (n) {
        VLOG_INFO("%s: cut %d data connection%s to %s", job->vm, n,
                  n == 1 ? "" : "s", job->dest_address);
    }
}

/* Asks libvirt to abort the migration job of 'vm', whose domain is 'dom'. */
static void
abort_job(virDomainPtr dom, const char *vm)
{
    if (virDomainAbortJob(dom)) {
        char *error = last_error("abort");
        VLOG_WARN("%s: %s", vm, error);
        free(error);
    }
}

/* Gives QEMU its own downtime target, 'ms'. */
static void
set_qemu_target(struct migr_job *job, int ms)
{
    if (virDomainMigrateSetMaxDowntime(job->mon_dom, ms, 0)) {
        char *error = last_error("downtime target");
        VLOG_WARN("%s: %s", job->vm, error);
        free(error);
    }
}

/* Whether the guest runs here: not if it has paused, nor once it has
 * gone (QEMU's last pass counts as one more, after the pause). */
static bool
guest_runs(struct migr_job *job)
{
    int state = VIR_DOMAIN_NOSTATE, reason;
    virDomainGetState(job->mon_dom, &state, &reason, 0);
    return state == VIR_DOMAIN_RUNNING;
}

/* Takes the guest's last pause one step on (migrator/pause.h) after a look
 * at the job ('pass' if it read the job's progress, else NULL). */
static void
time_pause(struct migr_job *job, struct migr_pause *pause,
           const struct migr_pass *pass)
{
    ovs_mutex_lock(&job->mutex);
    bool held = job->held;
    ovs_mutex_unlock(&job->mutex);
    bool runs = !migr_pause_holding(pause) || guest_runs(job);

    enum migr_pause_action action = migr_pause_run(pause, pass, held, runs,
                                                   time_msec());
    switch (action) {
    case MIGR_PAUSE_NONE:
        return;
    case MIGR_PAUSE_HOLD:
        VLOG_INFO("%s: its last pause is near (pass %"PRIu64", %"PRIu64" kB "
                  "left, %"PRIu64" kB/s dirtied, copying %"PRIu64" kB/s): "
                  "holding its packets", job->vm, pass->pass,
                  pass->remaining / 1024, pass->dirty_per_s / 1024,
                  pass->bytes_per_s / 1024);
        break;
    case MIGR_PAUSE_LET_PAUSE:
        if (held || !runs) {
            VLOG_INFO("%s: its packets are held: QEMU may pause it", job->vm);
        } else {
            VLOG_WARN("%s: the network has not held its packets %lld ms "
                      "after it was asked to: QEMU may pause it anyway",
                      job->vm, time_msec() - pause->since);
        }
        break;
    case MIGR_PAUSE_RELEASE:
        VLOG_INFO("%s: QEMU found more to copy than the target allows and "
                  "went on: its packets reach it again, and QEMU pauses it "
                  "when it will", job->vm);
        break;
    }
    if (action == MIGR_PAUSE_LET_PAUSE) {
        set_qemu_target(job, migr_pause_qemu_target_ms(pause));
    }
    ovs_mutex_lock(&job->mutex);
    job->pausing = migr_pause_holding(pause);
    job->held = job->held && action != MIGR_PAUSE_RELEASE;
    ovs_mutex_unlock(&job->mutex);
}

static void *
monitor_thread(void *job_)
{
    struct migr_job *job = job_;
    long long int next_stats = 0;
    bool aborted = false;

    virConnectPtr dest_conn = virConnectOpen(job->dest_uri);
    ovs_mutex_lock(&job->mutex);
    job->dest_conn = dest_conn;
    ovs_mutex_unlock(&job->mutex);

    for (;;) {
        ovs_mutex_lock(&job->mutex);
        bool done = job->done, ok = job->ok;
        bool abort = job->abort_requested;
        ovs_mutex_unlock(&job->mutex);
        if (done) {
            if (!ok && job->pause_when_held) {
                /* The guest stays here with QEMU's 1 ms target, which
                 * would keep any later migration from ending. */
                set_qemu_target(job, job->max_downtime_ms);
            }
            return NULL;
        }
        if (abort && !aborted) {
            abort_job(job->mon_dom, job->vm);
            aborted = true;
            /* The guest stays here: its packets come back to it. */
            ovs_mutex_lock(&job->mutex);
            job->pausing = false;
            ovs_mutex_unlock(&job->mutex);
        }

        struct migr_status st = { .result = MIGR_JOB_RUNNING };
        struct migr_pass pass;
        long long int now = time_msec();
        bool have_stats = now >= next_stats && read_stats(job, &st, &pass);
        if (job->pause_when_held && !aborted) {
            time_pause(job, &job->pause, have_stats ? &pass : NULL);
        }
        if (have_stats) {
            next_stats = now + (job->pause_when_held
                                && migr_pause_near(&job->pause, &pass, now)
                                ? NEAR_STATS_INTERVAL_MS : STATS_INTERVAL_MS);
        }
        bool resumed = resumed_on_destination(job);

        ovs_mutex_lock(&job->mutex);
        if (!job->done) {
            /* Once it is done, 'last' holds the final statistics. */
            if (have_stats) {
                st.resumed_on_destination = job->last.resumed_on_destination;
                job->last = st;
            }
            job->last.resumed_on_destination |= resumed;
        }
        job->dest_looks++;
        ovs_mutex_unlock(&job->mutex);

        latch_wait(&job->wake);
        poll_timer_wait(MONITOR_INTERVAL_MS);
        poll_block();
        latch_poll(&job->wake);
    }
}

/* Opens a connection of its own to 'uri' and finds 'vm' there. */
static virConnectPtr
open_domain(const char *uri, const char *vm, virDomainPtr *domp,
            char **errorp)
{
    virConnectPtr conn = virConnectOpen(uri);
    *domp = conn ? virDomainLookupByName(conn, vm) : NULL;
    if (!*domp) {
        *errorp = last_error(conn ? vm : uri);
        if (conn) {
            virConnectClose(conn);
        }
        return NULL;
    }
    return conn;
}

static struct migr_job *
lv_start(void *lv_, const struct migr_spec *spec, char **errorp)
{
    struct libvirt *lv = lv_;

    /* The migrate call and the monitor get connections of their own: a
     * call on a connection that another thread is blocked in does not get
     * its reply until that call ends. */
    virDomainPtr mig_dom, mon_dom;
    virConnectPtr mig_conn = open_domain(lv->uri, spec->vm, &mig_dom, errorp);
    if (!mig_conn) {
        return NULL;
    }
    virConnectPtr mon_conn = open_domain(lv->uri, spec->vm, &mon_dom, errorp);
    if (!mon_conn) {
        virDomainFree(mig_dom);
        virConnectClose(mig_conn);
        return NULL;
    }

    struct migr_job *job = xzalloc(sizeof *job);
    job->lv = lv;
    job->mig_conn = mig_conn;
    job->mig_dom = mig_dom;
    job->mon_conn = mon_conn;
    job->mon_dom = mon_dom;
    job->vm = xstrdup(spec->vm);
    job->destination = xstrdup(spec->destination);
    job->dest_uri = xstrdup(spec->dest_uri);
    job->dest_address = nullable_xstrdup(spec->dest_address);
    job->dest_port_min = spec->dest_port_min;
    job->dest_port_max = spec->dest_port_max;
    job->copy_storage = spec->copy_storage;
    job->bandwidth_mibps = spec->bandwidth_mibps;
    job->memory_uri = nullable_xstrdup(spec->memory_uri);
    job->disks_uri = nullable_xstrdup(spec->disks_uri);
    job->streams = spec->streams;
    job->quick = spec->quick;
    job->max_downtime_ms = spec->max_downtime_ms;
    job->pause_when_held = (spec->pause_when_held && !spec->quick
                            && spec->max_downtime_ms > 0);
    job->last.result = MIGR_JOB_RUNNING;
    ovs_mutex_init(&job->mutex);
    latch_init(&job->latch);
    latch_init(&job->wake);
    migr_pause_init(&job->pause, spec->max_downtime_ms);
    if (job->pause_when_held) {
        set_qemu_target(job, migr_pause_qemu_target_ms(&job->pause));
    } else if (job->max_downtime_ms > 0) {
        set_qemu_target(job, job->max_downtime_ms);
    }
    job->thread = ovs_thread_create("migrate", migrate_thread, job);
    job->monitor = ovs_thread_create("migrate_monitor", monitor_thread, job);
    VLOG_INFO("%s: %s to %s (%s%s, %s, %d stream%s)", spec->vm,
              spec->quick ? "quick-migrating" : "migrating",
              spec->destination, spec->dest_uri,
              spec->copy_storage ? ", copying storage" : "",
              spec->memory_uri ? "through the channel" : "hypervisor's path",
              spec->streams, spec->streams == 1 ? "" : "s");
    return job;
}

static void
lv_poll(struct migr_job *job, struct migr_status *st)
{
    ovs_mutex_lock(&job->mutex);
    bool done = job->done, ok = job->ok;
    char *error = nullable_xstrdup(job->error);
    *st = job->last;
    st->destination_lost = job->dest_lost;
    st->pausing = job->pausing;
    ovs_mutex_unlock(&job->mutex);
    st->result = (!done ? MIGR_JOB_RUNNING
                  : ok ? MIGR_JOB_SUCCEEDED : MIGR_JOB_FAILED);
    st->error = error;
}

static void
lv_run(struct migr_job *job)
{
    ovs_mutex_lock(&job->mutex);
    bool done = job->done;
    ovs_mutex_unlock(&job->mutex);

    if (!done && job->cutting) {
        cut_connections(job);
    }
}

static void
lv_abort(struct migr_job *job, bool path_broken)
{
    job->cutting = path_broken && job->dest_address;
    if (job->cutting) {
        cut_connections(job);
    }
    ovs_mutex_lock(&job->mutex);
    job->abort_requested = true;
    ovs_mutex_unlock(&job->mutex);
}

static void
lv_held(struct migr_job *job)
{
    ovs_mutex_lock(&job->mutex);
    bool first = job->pausing && !job->held;
    job->held |= job->pausing;
    ovs_mutex_unlock(&job->mutex);
    if (first) {
        latch_set(&job->wake);
    }
}

static void
lv_wait(struct migr_job *job)
{
    latch_wait(&job->latch);
}

/* Frees 'job', whose threads have ended. */
static void
free_job(struct migr_job *job)
{
    virDomainFree(job->mig_dom);
    virConnectClose(job->mig_conn);
    virDomainFree(job->mon_dom);
    virConnectClose(job->mon_conn);
    if (job->dest_conn) {
        virConnectClose(job->dest_conn);
    }
    latch_destroy(&job->latch);
    latch_destroy(&job->wake);
    ovs_mutex_destroy(&job->mutex);
    free(job->error);
    free(job->vm);
    free(job->destination);
    free(job->dest_uri);
    free(job->dest_address);
    free(job->memory_uri);
    free(job->disks_uri);
    free(job);
}

/* A job dropped while libvirt still runs it (its Migration row was
 * deleted) is aborted and left to its threads to free, instead of making
 * the caller wait for libvirt to return. */
static void
lv_destroy(struct migr_job *job)
{
    if (!job) {
        return;
    }
    /* Once orphaned, 'job' may be freed by its migrate thread at any
     * moment: only copies are used after the unlock. */
    pthread_t thread = job->thread;
    ovs_mutex_lock(&job->mutex);
    bool done = job->done;
    if (!done) {
        job->orphaned = job->abort_requested = true;
        VLOG_WARN("%s: migration job dropped while running: aborting it",
                  job->vm);
    }
    ovs_mutex_unlock(&job->mutex);
    if (done) {
        xpthread_join(job->thread, NULL);
        xpthread_join(job->monitor, NULL);
        free_job(job);
    } else {
        pthread_detach(thread);
    }
}

/* Notes what a lifecycle event says of a migration: the guest's last pause
 * on its source (which the network bridges by holding its packets), its
 * resumption, on its destination or, after a failure, on its source. */
static int
lifecycle_cb(virConnectPtr conn OVS_UNUSED, virDomainPtr dom, int event,
             int detail, void *lv_)
{
    struct libvirt *lv = lv_;
    const char *vm = virDomainGetName(dom);
    bool paused = (event == VIR_DOMAIN_EVENT_SUSPENDED
                   && (detail == VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED
                       || detail == VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY));
    bool resumed = (event == VIR_DOMAIN_EVENT_RESUMED
                    && (detail == VIR_DOMAIN_EVENT_RESUMED_MIGRATED
                        || detail == VIR_DOMAIN_EVENT_RESUMED_POSTCOPY));
    /* Any other way out of that pause (resumed by hand, stopped, started
     * again) ends it too. */
    bool ended = (event == VIR_DOMAIN_EVENT_RESUMED
                  || event == VIR_DOMAIN_EVENT_STARTED
                  || event == VIR_DOMAIN_EVENT_STOPPED);
    if (!vm || (!paused && !ended)) {
        return 0;
    }
    VLOG_DBG("%s: lifecycle event %d, detail %d", vm, event, detail);
    ovs_mutex_lock(&lv->mutex);
    if (paused) {
        sset_add(&lv->paused, vm);
    } else {
        sset_find_and_delete(&lv->paused, vm);
        if (resumed) {
            sset_add(&lv->resumed, vm);
        }
    }
    ovs_mutex_unlock(&lv->mutex);
    seq_change(lv->events);
    return 0;
}

/* Subscribes to the lifecycle events of every domain on 'lv->conn', and
 * has libvirt check the connection with keepalives (both need the event
 * loop that migr_libvirt_open() runs). */
static void
subscribe(struct libvirt *lv)
{
    lv->lifecycle_id = virConnectDomainEventRegisterAny(
        lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), lv, NULL);
    if (lv->lifecycle_id < 0) {
        char *error = last_error("lifecycle events");
        VLOG_WARN("%s: %s; a guest's packets are held only if vmroam lets "
                  "it pause, and its records move on its announcement, or "
                  "once its source sees it run on the destination", lv->uri,
                  error);
        free(error);
    }
    if (virConnectSetKeepAlive(lv->conn, 5, 3)) {
        VLOG_WARN("%s: no keepalive", lv->uri);
    }
}

/* Reconnects to libvirtd if it restarted (at most once a second). */
static void
reconnect(struct libvirt *lv)
{
    if (virConnectIsAlive(lv->conn) == 1 || time_msec() < lv->next_reconnect) {
        return;
    }
    lv->next_reconnect = time_msec() + 1000;
    virConnectPtr conn = virConnectOpen(lv->uri);
    if (conn) {
        VLOG_INFO("%s: reconnected", lv->uri);
        if (lv->lifecycle_id >= 0) {
            virConnectDomainEventDeregisterAny(lv->conn, lv->lifecycle_id);
        }
        virConnectClose(lv->conn);
        lv->conn = conn;
        /* What happened while libvirtd was away went unseen: no pause
         * noted before is known to go on. */
        ovs_mutex_lock(&lv->mutex);
        sset_clear(&lv->paused);
        ovs_mutex_unlock(&lv->mutex);
        subscribe(lv);
    }
}

static void
lv_lifecycle(void *lv_, struct sset *paused, struct sset *resumed)
{
    struct libvirt *lv = lv_;
    reconnect(lv);
    const char *vm;
    lv->events_read = seq_read(lv->events);
    ovs_mutex_lock(&lv->mutex);
    SSET_FOR_EACH (vm, &lv->paused) {
        sset_add(paused, vm);
    }
    SSET_FOR_EACH (vm, &lv->resumed) {
        sset_add(resumed, vm);
    }
    sset_clear(&lv->resumed);
    ovs_mutex_unlock(&lv->mutex);
}

static void
lv_lifecycle_wait(void *lv_)
{
    struct libvirt *lv = lv_;
    seq_wait(lv->events, lv->events_read);
}

/* An earlier agent's migrate call died with it, but libvirtd carries on
 * with the job: roll it back if it still can be and, once it has ended
 * either way, say whether the VM runs here. */
static enum migr_recovery
lv_recover(void *lv_, const char *vm)
{
    struct libvirt *lv = lv_;
    reconnect(lv);
    virDomainPtr dom = virDomainLookupByName(lv->conn, vm);
    if (!dom) {
        /* Only libvirt saying there is no such VM here means it moved;
         * not being able to ask means nothing yet. */
        virErrorPtr e = virGetLastError();
        if (!e || e->code != VIR_ERR_NO_DOMAIN) {
            return MIGR_RECOVERY_PENDING;
        }
        sset_find_and_delete(&lv->recovering, vm);
        return MIGR_RECOVERY_GONE;
    }
    virDomainJobInfo info;
    enum migr_recovery r;
    if (!virDomainGetJobInfo(dom, &info) && info.type != VIR_DOMAIN_JOB_NONE) {
        if (sset_add(&lv->recovering, vm)) {
            VLOG_WARN("%s: aborting the migration job an earlier agent "
                      "started", vm);
            abort_job(dom, vm);
        }
        r = MIGR_RECOVERY_PENDING;
    } else {
        int active = virDomainIsActive(dom);
        r = (active < 0 ? MIGR_RECOVERY_PENDING
             : active ? MIGR_RECOVERY_HERE : MIGR_RECOVERY_GONE);
        if (r != MIGR_RECOVERY_PENDING) {
            sset_find_and_delete(&lv->recovering, vm);
        }
    }
    virDomainFree(dom);
    return r;
}

static char *
version_string(unsigned long v)
{
    return xasprintf("%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}

static void
lv_versions(void *lv_, struct smap *versions)
{
    struct libvirt *lv = lv_;
    unsigned long v;
    if (!virConnectGetLibVersion(lv->conn, &v)) {
        smap_add_nocopy(versions, xstrdup("libvirt"), version_string(v));
    }
    if (!virConnectGetVersion(lv->conn, &v)) {
        smap_add_nocopy(versions, xstrdup("qemu"), version_string(v));
    }
}

static int64_t
stat_ullong(const virDomainStatsRecordPtr r, const char *key)
{
    unsigned long long value = 0;
    virTypedParamsGetULLong(r->params, r->nparams, key, &value);
    return value;
}

/* Adds the paths of the disks in 'r' that are files or devices on this
 * host to 'paths' (the block statistics name no source for a network
 * disk), and returns their capacity in kB. */
static int64_t
local_disks(const virDomainStatsRecordPtr r, struct sset *paths)
{
    unsigned int count = 0;
    int64_t kb = 0;
    virTypedParamsGetUInt(r->params, r->nparams, "block.count", &count);
    for (unsigned int i = 0; i < count; i++) {
        char key[64];
        const char *path = NULL;
        snprintf(key, sizeof key, "block.%u.path", i);
        if (virTypedParamsGetString(r->params, r->nparams, key, &path) == 1) {
            sset_add(paths, path);
            snprintf(key, sizeof key, "block.%u.capacity", i);
            kb += stat_ullong(r, key) / 1024;
        }
    }
    return kb;
}


static char *
lv_disks(void *lv_, const char *vm, struct sset *paths)
{
    struct libvirt *lv = lv_;
    virDomainPtr dom = virDomainLookupByName(lv->conn, vm);
    virDomainPtr doms[] = { dom, NULL };
    virDomainStatsRecordPtr *records = NULL;
    if (!dom || virDomainListGetStats(doms, VIR_DOMAIN_STATS_BLOCK,
                                      &records, 0) != 1) {
        char *error = last_error(vm);
        if (dom) {
            virDomainFree(dom);
        }
        return error;
    }
    local_disks(records[0], paths);
    virDomainStatsRecordListFree(records);
    virDomainFree(dom);
    return NULL;
}

/* What 'vm''s QEMU runs as: its DAC label; with 'vm' NULL, what this host
 * starts a QEMU as (an incoming migration's). */
static char *
lv_guest_user(void *lv_, const char *vm, uid_t *uid, gid_t *gid)
{
    struct libvirt *lv = lv_;
    virDomainPtr dom = vm ? virDomainLookupByName(lv->conn, vm) : NULL;
    char *xml = (!vm ? virConnectGetCapabilities(lv->conn)
                 : dom ? virDomainGetXMLDesc(dom, 0) : NULL);
    if (dom) {
        virDomainFree(dom);
    }
    if (!xml) {
        return last_error(vm ? vm : "this host's capabilities");
    }
    char *label = (vm ? migr_seclabel_of_domain(xml)
                   : migr_seclabel_of_host(xml));
    free(xml);
    char *error;
    if (!label) {
        /* No DAC driver: libvirt runs QEMU as itself, as the agent. */
        *uid = getuid();
        *gid = getgid();
        error = NULL;
    } else {
        error = migr_seclabel_parse(label, uid, gid);
        free(label);
    }
    return error;
}



/* Adds the VMs that run on 'conn' to 'running'.  Returns an error or
 * NULL. */
static char *
list_running(virConnectPtr conn, const char *uri, struct sset *running)
{
    virDomainPtr *doms = NULL;
    int n = conn ? virConnectListAllDomains(conn, &doms,
                                            VIR_CONNECT_LIST_DOMAINS_ACTIVE)
            : -1;
    if (n < 0) {
        return last_error(uri);
    }
    for (int i = 0; i < n; i++) {
        sset_add(running, virDomainGetName(doms[i]));
        virDomainFree(doms[i]);
    }
    free(doms);
    return NULL;
}

static void
set_running(struct libvirt *lv, struct sset *running, char *error)
{
    ovs_mutex_lock(&lv->mutex);
    sset_swap(&lv->running, running);
    free(lv->scan_error);
    lv->scan_error = error;
    ovs_mutex_unlock(&lv->mutex);
}

/* How often scan_thread() lists the running VMs: the agent reports them
 * once a second, and what it reports is at most this much older than
 * when it listed them itself. */
#define SCAN_MS 250

/* Lists the running VMs every SCAN_MS, on a connection of its own, for
 * lv_list_running().  libvirtd answers that list only once it has let go
 * of every domain, which takes it seconds while it stops a QEMU (the
 * source's, at the end of every migration): the agent's main loop must
 * not wait that long. */
static void *
scan_thread(void *lv_)
{
    struct libvirt *lv = lv_;
    virConnectPtr conn = NULL;
    /* As the event thread: it blocks in libvirt, and touches nothing RCU
     * protects. */
    ovsrcu_quiesce_start();
    while (!latch_is_set(&lv->scanner_exit)) {
        if (!conn || virConnectIsAlive(conn) != 1) {
            if (conn) {
                virConnectClose(conn);
            }
            conn = virConnectOpen(lv->uri);
        }
        struct sset running = SSET_INITIALIZER(&running);
        char *error = list_running(conn, lv->uri, &running);
        set_running(lv, &running, error);
        sset_destroy(&running);
        xnanosleep_no_quiesce(SCAN_MS * 1000 * 1000);
    }
    if (conn) {
        virConnectClose(conn);
    }
    return NULL;
}

static char *
lv_list_running(void *lv_, struct sset *running)
{
    struct libvirt *lv = lv_;
    ovs_mutex_lock(&lv->mutex);
    char *error = nullable_xstrdup(lv->scan_error);
    if (!error) {
        const char *vm;
        SSET_FOR_EACH (vm, &lv->running) {
            sset_add(running, vm);
        }
    }
    ovs_mutex_unlock(&lv->mutex);
    return error;
}

/* One VM's size from its statistics: maximum memory, vCPUs, and the
 * capacity of the disks that are files or devices here. */
static void
vm_size(const virDomainStatsRecordPtr r, struct migr_vm_size *vm)
{
    unsigned int vcpus = 0;
    vm->name = xstrdup(virDomainGetName(r->dom));
    vm->memory_kb = stat_ullong(r, "balloon.maximum");
    virTypedParamsGetUInt(r->params, r->nparams, "vcpu.current", &vcpus);
    vm->vcpus = vcpus;
    sset_init(&vm->disks);
    vm->disk_kb = local_disks(r, &vm->disks);
}

static char *
lv_sizes(void *lv_, struct migr_host_size *host, struct migr_vm_size **vmsp,
         size_t *n_vms)
{
    struct libvirt *lv = lv_;
    virNodeInfo info;
    unsigned long long free_bytes;
    virDomainStatsRecordPtr *records = NULL;
    *vmsp = NULL;
    *n_vms = 0;
    reconnect(lv);
    if (virNodeGetInfo(lv->conn, &info)
        || !(free_bytes = virNodeGetFreeMemory(lv->conn))) {
        return last_error(lv->uri);
    }
    /* NOWAIT: a domain busy with a job (an incoming migration's QEMU, say)
     * gives what it can at once, rather than holding up the agent's main
     * loop for seconds. */
    int n = virConnectGetAllDomainStats(
        lv->conn, (VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU
                   | VIR_DOMAIN_STATS_BLOCK),
        &records, (VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
                   | VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT));
    if (n < 0) {
        return last_error(lv->uri);
    }
    *host = (struct migr_host_size) {
        .memory_kb = info.memory,
        .free_memory_kb = free_bytes / 1024,
        .cpus = info.cpus,
    };
    struct migr_vm_size *vms = xcalloc(n ? n : 1, sizeof *vms);
    for (int i = 0; i < n; i++) {
        vm_size(records[i], &vms[i]);
    }
    virDomainStatsRecordListFree(records);
    *vmsp = vms;
    *n_vms = n;
    return NULL;
}

static const struct migr_backend_class libvirt_class = {
    .name = "libvirt",
    .start = lv_start,
    .poll = lv_poll,
    .run = lv_run,
    .abort = lv_abort,
    .held = lv_held,
    .wait = lv_wait,
    .destroy = lv_destroy,
    .recover = lv_recover,
    .versions = lv_versions,
    .disks = lv_disks,
    .list_running = lv_list_running,
    .sizes = lv_sizes,
    .guest_user = lv_guest_user,
    .lifecycle = lv_lifecycle,
    .lifecycle_wait = lv_lifecycle_wait,
};

/* libvirt's event loop, in a thread of its own: lifecycle events and
 * keepalives arrive there. */
static void *
event_thread(void *aux OVS_UNUSED)
{
    /* It touches nothing RCU protects, and blocks in libvirt's poll: it
     * must never hold up ovsrcu_synchronize(). */
    ovsrcu_quiesce_start();
    for (;;) {
        if (virEventRunDefaultImpl() < 0) {
            char *error = last_error("libvirt event loop");
            VLOG_WARN("%s", error);
            free(error);
            xsleep(1);
        }
    }
    return NULL;
}

/* Starts libvirt's event loop once: before the first connection is
 * opened, as libvirt requires. */
static void
start_event_loop(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;
    if (ovsthread_once_start(&once)) {
        if (virEventRegisterDefaultImpl() < 0) {
            VLOG_WARN("no libvirt event loop: a guest's packets are held "
                      "only if vmroam lets it pause, and its records move on "
                      "its announcement, or once its source sees it run on "
                      "the destination");
        } else {
            ovs_thread_create("libvirt_events", event_thread, NULL);
        }
        ovsthread_once_done(&once);
    }
}

static void
ignore_error(void *aux OVS_UNUSED, virErrorPtr error OVS_UNUSED)
{
    /* Errors are reported where they happen, with their context. */
}

struct migr_backend *
migr_libvirt_open(const char *uri, char **errorp)
{
    virSetErrorFunc(NULL, ignore_error);
    start_event_loop();
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn) {
        *errorp = last_error(uri);
        return NULL;
    }
    struct libvirt *lv = xzalloc(sizeof *lv);
    lv->conn = conn;
    lv->uri = xstrdup(uri);
    sset_init(&lv->recovering);
    ovs_mutex_init(&lv->mutex);
    sset_init(&lv->paused);
    sset_init(&lv->resumed);
    lv->events = seq_create();
    subscribe(lv);
    /* The first list before the agent asks for it. */
    sset_init(&lv->running);
    struct sset running = SSET_INITIALIZER(&running);
    set_running(lv, &running, list_running(conn, uri, &running));
    sset_destroy(&running);
    latch_init(&lv->scanner_exit);
    lv->scanner = ovs_thread_create("libvirt_scan", scan_thread, lv);

    struct migr_backend *b = xmalloc(sizeof *b);
    b->class = &libvirt_class;
    b->data = lv;
    return b;
}

void
migr_libvirt_close(struct migr_backend *b)
{
    if (b) {
        struct libvirt *lv = b->data;
        latch_set(&lv->scanner_exit);
        xpthread_join(lv->scanner, NULL);
        latch_destroy(&lv->scanner_exit);
        sset_destroy(&lv->running);
        free(lv->scan_error);
        if (lv->lifecycle_id >= 0) {
            virConnectDomainEventDeregisterAny(lv->conn, lv->lifecycle_id);
        }
        virConnectClose(lv->conn);
        ovs_mutex_destroy(&lv->mutex);
        sset_destroy(&lv->paused);
        sset_destroy(&lv->resumed);
        seq_destroy(lv->events);
        free(lv->uri);
        sset_destroy(&lv->recovering);
        free(lv);
        free(b);
    }
}
