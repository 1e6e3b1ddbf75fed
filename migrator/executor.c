#include <config.h>

#include "migrator/executor.h"

#include <string.h>
#include <unistd.h>

#include "migrator/backend.h"
#include "migrator/channel.h"
#include "migrator/fsm.h"
#include "migrator/probeio.h"
#include "migrator/records.h"
#include "migrator/row.h"
#include "migrator/schedule.h"
#include "migrator/sockets.h"
#include "migrator/storage.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "overlay/chassis.h"
#include "ovs-thread.h"
#include "ovsdb-idl.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"

VLOG_DEFINE_THIS_MODULE(migr_executor);

/* How long a source waits for its destination to get ready. */
#define PREPARE_TIMEOUT_MS 30000
/* How long the file system beside a VM's disks may take to answer the
 * storage probe (well within PREPARE_TIMEOUT_MS). */
#define PROBE_TIMEOUT_MS 10000
/* How often progress is written to the database while a job runs. */
#define PROGRESS_INTERVAL_MS 250
/* How often a running job is polled: the lookup records move as soon as
 * the VM resumes on the destination. */
#define POLL_INTERVAL_MS 20

/* One migration this host is the source of. */
struct job {
    struct hmap_node node;      /* In executor's 'jobs', by row UUID. */
    struct uuid row;
    struct migr_job *job;       /* NULL before the backend started. */
    struct migr_status status;  /* Last seen. */
    char *abort_reason;         /* Why we aborted it, or NULL. */
    bool resumed;               /* The VM ran on the destination. */
    bool held;                  /* The row has a "held" stamp of ours. */
    bool paused_here;           /* The guest made its last pause here. */
    bool ended;                 /* Its row was final at the end of a pass:
                                 * forgotten at the next pass that reads
                                 * the row from the server. */
    long long int next_progress;
    char *probe_token;          /* Of the storage probe we started (it
                                 * removes its files when forgotten; an
                                 * agent that restarts in between leaves
                                 * these small files behind), or NULL. */
    char *channel_id;           /* Through the channel: the id it serves,
                                 * or NULL. */
};

struct migr_executor {
    char *chassis;
    struct migr_backend *backend;   /* May be NULL: no hypervisor. */
    struct ovsdb_idl_index *records;    /* Lookup records by VM. */
    int max_downtime_ms;        /* Unless a migration says otherwise. */
    struct hmap jobs;
    bool recovering;            /* An earlier agent's job is ending. */
    struct migr_channel *channel;   /* NULL: the hypervisor's own path. */
    char *socket_dir;           /* Where the channel's sockets go. */
    enum migr_compress_mode compression;    /* Unless a migration says. */
    struct sset expected;       /* Incoming migrations the channel expects,
                                 * by row UUID. */
    struct sset paused;         /* VMs a migration paused here for its
                                 * switchover, as the hypervisor said. */
    struct sset resumed;        /* VMs a migration resumed here, not yet
                                 * acted on. */
    struct migr_probe_io *probes;   /* Storage probes' file I/O. */
};

struct migr_executor *
migr_executor_create(const char *chassis, struct migr_backend *backend,
                     struct ovsdb_idl_index *records, int max_downtime_ms)
{
    struct migr_executor *ex = xzalloc(sizeof *ex);
    ex->chassis = xstrdup(chassis);
    ex->backend = backend;
    ex->records = records;
    ex->max_downtime_ms = max_downtime_ms;
    hmap_init(&ex->jobs);
    sset_init(&ex->expected);
    sset_init(&ex->paused);
    sset_init(&ex->resumed);
    ex->probes = migr_probe_io_create(PROBE_TIMEOUT_MS);
    return ex;
}

/* Memory connections of a migration that does not say: one per 4 cores.
 * QEMU 7.2's multifd sender keeps a core busy while it waits for a free
 * connection (measured with make bench BENCH=channel: 4 to 5 CPU seconds
 * per migration against 0.2 with one stream), which costs more than
 * parallel streams gain on a small host. */
int
migr_streams_default(void)
{
    return MAX(1, count_cpu_cores() / 4);
}

/* Makes migrations to and from this host go through 'channel', with QEMU's
 * sockets in 'socket_dir', compressed as 'compression' says unless a
 * migration says otherwise. */
void
migr_executor_set_channel(struct migr_executor *ex,
                          struct migr_channel *channel,
                          const char *socket_dir,
                          enum migr_compress_mode compression)
{
    ex->channel = channel;
    ex->compression = compression;
    free(ex->socket_dir);
    ex->socket_dir = nullable_xstrdup(socket_dir);
}

static char *
uuid_id(const struct uuid *uuid)
{
    return xasprintf(UUID_FMT, UUID_ARGS(uuid));
}

/* Forgets 'j''s storage probe, which removes its files. */
static void
forget_probe(struct migr_executor *ex, struct job *j)
{
    if (j->probe_token) {
        char *id = uuid_id(&j->row);
        migr_probe_io_forget(ex->probes, MIGR_PROBE_WRITE, id);
        free(id);
        free(j->probe_token);
        j->probe_token = NULL;
    }
}

static void
job_destroy(struct migr_executor *ex, struct job *j)
{
    hmap_remove(&ex->jobs, &j->node);
    if (j->job) {
        ex->backend->class->destroy(j->job);
    }
    forget_probe(ex, j);
    if (j->channel_id) {
        migr_channel_close(ex->channel, j->channel_id);
        free(j->channel_id);
    }
    free(j->status.error);
    free(j->abort_reason);
    free(j);
}

void
migr_executor_destroy(struct migr_executor *ex)
{
    if (ex) {
        struct job *j;
        HMAP_FOR_EACH_SAFE (j, node, &ex->jobs) {
            job_destroy(ex, j);
        }
        hmap_destroy(&ex->jobs);
        sset_destroy(&ex->expected);
        sset_destroy(&ex->paused);
        sset_destroy(&ex->resumed);
        migr_probe_io_destroy(ex->probes);
        free(ex->socket_dir);
        free(ex->chassis);
        free(ex);
    }
}

static struct job *
find_job(const struct migr_executor *ex, const struct uuid *row)
{
    struct job *j;
    HMAP_FOR_EACH_WITH_HASH (j, node, uuid_hash(row), &ex->jobs) {
        if (uuid_equals(&j->row, row)) {
            return j;
        }
    }
    return NULL;
}

static struct job *
get_job(struct migr_executor *ex, const struct uuid *row)
{
    struct job *j = find_job(ex, row);
    if (!j) {
        j = xzalloc(sizeof *j);
        j->row = *row;
        hmap_insert(&ex->jobs, &j->node, uuid_hash(row));
    }
    return j;
}

/* What the operator asked for; rows of older clients said "shared" or
 * "copy", and nothing meant "shared". */
static enum migr_storage_mode
storage_mode(const struct vmroamrec_migration *m)
{
    enum migr_storage_mode mode = MIGR_STORAGE_AUTO;
    migr_storage_mode_parse(smap_get_def(&m->options, "storage", "auto"),
                            &mode);
    return mode;
}

/* Whether the disks are copied: as decided, or until then as the mode
 * suggests (counting an undecided "auto" against the storage limits). */
static bool
copies_storage(const struct vmroamrec_migration *m)
{
    return (m->storage ? !strcmp(m->storage, "copy")
            : storage_mode(m) != MIGR_STORAGE_SHARED);
}

/* A quick migration: the VM saved and restored through shared storage. */
static bool
is_quick(const struct vmroamrec_migration *m)
{
    return !strcmp(smap_get_def(&m->options, "mode", "live"), "quick");
}

static struct migr_flags
flags_of(const struct vmroamrec_migration *m)
{
    return (struct migr_flags) {
        .copy_storage = copies_storage(m),
        .cancel_requested = m->cancel_requested,
    };
}

/* Moves 'm' to the state after 'event', stamping the time it entered it.
 * Returns the new state. */
static enum migr_state
advance(const struct vmroamrec_migration *m, enum migr_event event)
{
    struct migr_flags flags = flags_of(m);
    char *error;
    enum migr_state s = migr_next(migr_row_state(m), event, &flags, &error);
    if (error) {
        VLOG_WARN("migration of %s: %s", m->vm, error);
        free(error);
        return s;
    }
    long long int now = time_wall_msec();
    VLOG_INFO("migration of %s from %s to %s: %s -> %s (%s)", m->vm,
              m->source, m->destination ? m->destination : "?", m->state,
              migr_state_name(s), migr_event_name(event));
    vmroamrec_migration_set_state(m, migr_state_name(s));
    vmroamrec_migration_update_timestamps_setkey(m, migr_state_name(s), now);
    if (migr_state_is_final(s)) {
        vmroamrec_migration_update_timestamps_setkey(m, "finished", now);
        vmroamrec_migration_set_progress(m, s == MIGR_DONE ? 100
                                            : m->progress);
    }
    return s;
}

static void
fail(const struct vmroamrec_migration *m, const char *reason)
{
    vmroamrec_migration_set_error(m, reason);
    advance(m, MIGR_EV_FAILED);
}

/* Starts the queued migrations of this host that the limits allow. */
static void
schedule(struct migr_executor *ex, struct ovsdb_idl *idl,
         struct ovsdb_idl_txn *txn)
{
    const struct vmroamrec_migration *m;
    size_t n = 0, n_hosts = 0;
    bool mine = false;

    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        n++;
        mine |= (migr_row_state(m) == MIGR_QUEUED && !m->cancel_requested
                 && !strcmp(m->source, ex->chassis));
    }
    if (!mine) {
        return;
    }

    struct migr_entry *entries = xcalloc(n, sizeof *entries);
    const struct vmroamrec_migration **rows = xcalloc(n, sizeof *rows);
    size_t i = 0;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        rows[i] = m;
        entries[i++] = (struct migr_entry) {
            .source = m->source,
            .destination = m->destination,
            .copy_storage = flags_of(m).copy_storage,
            /* A queued migration with a cancel pending will never run;
             * a running one still counts until it has rolled back. */
            .state = (m->cancel_requested && migr_row_state(m) == MIGR_QUEUED
                      ? MIGR_CANCELLED : migr_row_state(m)),
            .queued_at = migr_row_timestamp(m, "queued"),
        };
    }

    const struct vmroamrec_chassis *ch;
    struct migr_host_limits *hosts = NULL;
    VMROAMREC_CHASSIS_FOR_EACH (ch, idl) {
        hosts = xrealloc(hosts, (n_hosts + 1) * sizeof *hosts);
        hosts[n_hosts++] = (struct migr_host_limits) {
            ch->name, ch->max_migrations, ch->max_storage_migrations,
        };
    }

    if (migr_schedule(entries, n, hosts, n_hosts)) {
        bool started = false;
        for (i = 0; i < n; i++) {
            if (!entries[i].start || strcmp(entries[i].source, ex->chassis)) {
                continue;
            }
            if (!migr_records_marked(idl, rows[i])) {
                char *why = xasprintf(
                    "VM %s is not marked as moving from %s to %s, so "
                    "neither host may move its lookup records; queue the "
                    "migration again with \"vmroam migrate\"", rows[i]->vm,
                    rows[i]->source, rows[i]->destination);
                fail(rows[i], why);
                free(why);
            } else {
                advance(rows[i], MIGR_EV_START);
                vmroamrec_migration_update_timestamps_setkey(
                    rows[i], "started", time_wall_msec());
                started = true;
            }
        }
        if (started) {
            /* Two sources must not both take a destination's last slot:
             * our view of every migration must still hold at commit. */
            VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
                vmroamrec_migration_verify_state(m);
            }
        }
    }
    (void) txn;
    free(entries);
    free(rows);
    free(hosts);
}

static char *
row_id(const struct vmroamrec_migration *m)
{
    return uuid_id(&m->header_.uuid);
}

/* The channel's sockets for migration 'id' in 'dir' (the disks' only if
 * they are copied). */
static void
channel_paths(const char *dir, const char *id, bool disks,
              char *paths[MIGR_N_STREAM_KINDS])
{
    paths[MIGR_STREAM_MEMORY] = migr_channel_socket(dir, id,
                                                    MIGR_STREAM_MEMORY);
    paths[MIGR_STREAM_DISKS] = (disks ? migr_channel_socket(
                                    dir, id, MIGR_STREAM_DISKS)
                                : NULL);
}

static void
free_paths(char *paths[MIGR_N_STREAM_KINDS])
{
    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        free(paths[k]);
    }
}

/* Stores in '*uid' and '*gid' the user and group QEMU runs as for 'vm'
 * (NULL: the QEMU the hypervisor starts next), to whom the channel gives
 * its sockets.  Returns an error or NULL. */
static char *
qemu_user(const struct migr_executor *ex, const char *vm, uid_t *uid,
          gid_t *gid)
{
    const struct migr_backend_class *class = ex->backend->class;
    *uid = getuid();
    *gid = getgid();
    char *error = (class->guest_user
                   ? class->guest_user(ex->backend->data, vm, uid, gid)
                   : NULL);
    char *why = error ? xasprintf("which user QEMU runs as: %s", error) : NULL;
    free(error);
    return why;
}

/* The source's part of the channel: serves QEMU's sockets for 'm' and
 * stores in 'uris' where QEMU sends its data (all NULL for the
 * hypervisor's own path).  A host with a channel never falls back to an
 * unencrypted path unless the migration asks for it ("plain").  Returns
 * false if the migration failed. */
static bool
use_channel(struct migr_executor *ex, const struct vmroamrec_migration *m,
            const struct vmroamrec_chassis *dst, struct job *j,
            char *uris[MIGR_N_STREAM_KINDS])
{
    memset(uris, 0, MIGR_N_STREAM_KINDS * sizeof *uris);
    if (!ex->channel || smap_get_bool(&m->options, "plain", false)
        || is_quick(m)) {
        /* A quick migration's data goes through the shared storage. */
        return true;
    }
    const char *peer = smap_get(&dst->external_ids, "migration-channel");
    const char *dir = smap_get(&dst->external_ids, "migration-socket-dir");
    if (!peer || !dir) {
        char *why = xasprintf("destination %s has no migration channel (its "
                              "vmroamd needs a certificate and "
                              "--migration-listen); \"vmroam migrate "
                              "--plain\" would send the VM in clear",
                              m->destination);
        fail(m, why);
        free(why);
        return false;
    }
    char *id = row_id(m);
    char *paths[MIGR_N_STREAM_KINDS];
    channel_paths(dir, id, copies_storage(m), paths);
    enum migr_compress_mode compression = ex->compression;
    migr_compress_mode_parse(smap_get_def(&m->options, "compression", ""),
                             &compression);
    uid_t uid;
    gid_t gid;
    char *error = qemu_user(ex, m->vm, &uid, &gid);
    if (!error) {
        error = migr_channel_serve(ex->channel, id, peer, m->destination,
                                   (const char **) paths, uid, gid,
                                   compression);
    }
    if (error) {
        char *why = xasprintf("migration channel: %s", error);
        fail(m, why);
        free(why);
        free(error);
        free(id);
    } else {
        j->channel_id = id;
        for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
            uris[k] = paths[k] ? xasprintf("unix://%s", paths[k]) : NULL;
        }
    }
    free_paths(paths);
    return !error;
}

/* The destination's part of the channel: takes 'm''s streams from its
 * source only, into QEMU's sockets here.  Returns an error or NULL. */
static char *
expect_channel(struct migr_executor *ex, const struct vmroamrec_migration *m)
{
    char *id = row_id(m);
    char *paths[MIGR_N_STREAM_KINDS];
    channel_paths(ex->socket_dir, id, true, paths);
    uid_t uid;
    gid_t gid;
    char *error = qemu_user(ex, NULL, &uid, &gid);
    if (!error) {
        error = migr_channel_expect(ex->channel, id, m->source,
                                    (const char **) paths, uid, gid);
    }
    free_paths(paths);
    sset_add_and_free(&ex->expected, id);
    return error;
}

/* Ends the channel of incoming migrations that ended, and tells the
 * source, through the row, why this host refused or lost its streams. */
static void
tend_expected(struct migr_executor *ex, struct ovsdb_idl *idl)
{
    const char *id;
    SSET_FOR_EACH_SAFE (id, &ex->expected) {
        struct uuid uuid;
        const struct vmroamrec_migration *m
            = (uuid_from_string(&uuid, id)
               ? vmroamrec_migration_get_for_uuid(idl, &uuid) : NULL);
        char *down = NULL;
        if (!m || migr_state_is_final(migr_row_state(m))
            || overlay_chassis_is_down(idl, m->source, time_wall_msec(),
                                       &down)) {
            /* A dead source finishes nothing: its streams would hang. */
            migr_channel_close(ex->channel, id);
            sset_delete(&ex->expected, SSET_NODE_FROM_NAME(id));
            free(down);
            continue;
        }
        struct migr_channel_stats stats;
        char *error;
        migr_channel_get(ex->channel, id, &stats, &error);
        if (error && !smap_get(&m->external_ids, "channel-error")) {
            vmroamrec_migration_update_external_ids_setkey(
                m, "channel-error", error);
        }
        free(error);
    }
}

/* Why the source's channel or the destination's failed 'j', or NULL. */
static char *
channel_failure(struct migr_executor *ex,
                const struct vmroamrec_migration *m, const struct job *j)
{
    if (!j->channel_id) {
        return NULL;
    }
    const char *theirs = smap_get(&m->external_ids, "channel-error");
    struct migr_channel_stats stats;
    char *ours;
    migr_channel_get(ex->channel, j->channel_id, &stats, &ours);
    char *why = (theirs
                 ? xasprintf("migration channel, on %s: %s", m->destination,
                             theirs)
                 : ours ? xasprintf("migration channel: %s", ours) : NULL);
    free(ours);
    return why;
}

/* The destination's part of the storage proof: does this host see the
 * disks the source probed?  Returns true once the verdict is in the row,
 * false while the probe files are being read. */
static bool
check_probe(struct migr_executor *ex, const struct vmroamrec_migration *m)
{
    struct sset disks = SSET_INITIALIZER(&disks);
    char *token;
    char *why = migr_storage_probe_decode(m->storage_probe, &token, &disks);
    char *id = row_id(m);
    bool over = true;
    if (!why) {
        migr_probe_io_start(ex->probes, MIGR_PROBE_CHECK, id, &disks, token);
        over = migr_probe_io_poll(ex->probes, MIGR_PROBE_CHECK, id, NULL,
                                  &why);
        free(token);
    }
    if (over) {
        migr_probe_io_forget(ex->probes, MIGR_PROBE_CHECK, id);
        VLOG_INFO("migration of %s: storage %sshared with %s%s%s", m->vm,
                  why ? "not " : "", m->source, why ? ": " : "",
                  why ? why : "");
        vmroamrec_migration_set_storage_verdict(
            m, why ? why : MIGR_STORAGE_SHARED_YES);
    }
    free(why);
    free(id);
    sset_destroy(&disks);
    return over;
}

/* The source's part of the storage proof: a fresh token beside each of the
 * VM's disks, published in the row for the destination to look for.
 * Returns false if the migration failed or the probe files are still
 * being written. */
static bool
publish_probe(struct migr_executor *ex, const struct vmroamrec_migration *m,
              struct job *j)
{
    char *id = row_id(m);
    char *error = NULL;
    if (!j->probe_token) {
        struct sset disks = SSET_INITIALIZER(&disks);
        error = ex->backend->class->disks(ex->backend->data, m->vm, &disks);
        if (!error) {
            struct uuid token;
            uuid_generate(&token);
            j->probe_token = uuid_id(&token);
            migr_probe_io_start(ex->probes, MIGR_PROBE_WRITE, id, &disks,
                                j->probe_token);
        }
        sset_destroy(&disks);
    }
    struct sset probed = SSET_INITIALIZER(&probed);
    bool over = (error
                 || migr_probe_io_poll(ex->probes, MIGR_PROBE_WRITE, id,
                                       &probed, &error));
    free(id);
    if (!over) {
        sset_destroy(&probed);
        return false;
    }
    if (!error) {
        char *probe = migr_storage_probe_encode(j->probe_token, &probed);
        vmroamrec_migration_set_storage_probe(m, probe);
        free(probe);
    } else if (storage_mode(m) == MIGR_STORAGE_SHARED) {
        char *why = xasprintf("cannot prove the storage of %s shared: %s",
                              m->vm, error);
        fail(m, why);
        free(why);
    } else {
        VLOG_WARN("migration of %s: copying its disks, since their sharing "
                  "cannot be proved: %s", m->vm, error);
        vmroamrec_migration_set_storage(m, "copy");
    }
    bool ok = !error || storage_mode(m) != MIGR_STORAGE_SHARED;
    free(error);
    sset_destroy(&probed);
    return ok;
}

/* Settles how the disks travel, from the destination's verdict; returns
 * false if the migration failed. */
static bool
decide_storage(struct migr_executor *ex, const struct vmroamrec_migration *m,
               struct job *j)
{
    if (m->storage) {
        return true;
    }
    bool copy;
    char *why = migr_storage_decide(storage_mode(m), m->vm, m->destination,
                                    m->storage_verdict, &copy);
    forget_probe(ex, j);
    if (!why && copy && is_quick(m)) {
        why = xasprintf("quick migration of %s moves its saved state "
                        "through storage both hosts see, but %s does not "
                        "see its disks: migrate it live", m->vm,
                        m->destination);
    }
    if (why) {
        fail(m, why);
        free(why);
        return false;
    }
    VLOG_INFO("migration of %s: %s its disks", m->vm,
              copy ? "copying" : "leaving in place (proven shared)");
    vmroamrec_migration_set_storage(m, copy ? "copy" : "shared");
    return true;
}

/* The destination's part: say when this host can receive. */
static void
prepare_incoming(struct migr_executor *ex, struct ovsdb_idl *idl,
                 const char *underlay_link)
{
    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if (migr_row_state(m) != MIGR_PREPARING || !m->destination
            || strcmp(m->destination, ex->chassis)
            || smap_get(&m->external_ids, "destination-ready")) {
            continue;
        }
        const char *verdict = (!ex->backend ? "no hypervisor on this host"
                               : underlay_link && !strcmp(underlay_link,
                                                          "down")
                               ? "underlay link down" : "yes");
        if (!strcmp(verdict, "yes") && !m->storage) {
            if (!m->storage_probe || !check_probe(ex, m)) {
                /* The source has yet to publish it, or we to read it. */
                continue;
            }
        }
        char *error = (!strcmp(verdict, "yes") && ex->channel
                       ? expect_channel(ex, m) : NULL);
        char *why = error ? xasprintf("migration channel: %s", error) : NULL;
        vmroamrec_migration_update_external_ids_setkey(
            m, "destination-ready", why ? why : verdict);
        free(why);
        free(error);
    }
}

/* Starts the backend once the destination is ready. */
static void
run_preparing(struct migr_executor *ex, struct ovsdb_idl *idl,
              const struct vmroamrec_migration *m, struct job *j)
{
    const char *ready = smap_get(&m->external_ids, "destination-ready");
    const struct vmroamrec_chassis *dst = policy_db_chassis(idl, m->destination);

    if (j->job) {
        /* Started already, but the transaction that said so did not
         * commit: say it again, never start twice. */
        advance(m, MIGR_EV_PREPARED);
        return;
    }
    if (m->cancel_requested) {
        vmroamrec_migration_set_error(m, "cancelled by the operator");
        advance(m, MIGR_EV_CANCEL);
        return;
    }
    if (!m->storage && storage_mode(m) == MIGR_STORAGE_COPY) {
        vmroamrec_migration_set_storage(m, "copy");
    } else if (!m->storage && !m->storage_probe
               && !publish_probe(ex, m, j)) {
        return;
    }
    char *down;
    if (overlay_chassis_is_down(idl, m->destination, time_wall_msec(),
                                &down)) {
        char *why = xasprintf("destination %s cannot receive: %s",
                              m->destination, down);
        fail(m, why);
        free(why);
        free(down);
        return;
    }
    if (!ready) {
        /* The timestamp of a migration started in this very run is not in
         * the IDL's view yet: only committed map updates are. */
        int64_t since = migr_row_timestamp(m, "preparing");
        if (since && time_wall_msec() - since > PREPARE_TIMEOUT_MS) {
            char *why = xasprintf("destination %s did not get ready within "
                                  "%d s (is its vmroamd running?)",
                                  m->destination, PREPARE_TIMEOUT_MS / 1000);
            fail(m, why);
            free(why);
        }
        return;
    }
    if (strcmp(ready, "yes")) {
        char *why = xasprintf("destination %s cannot receive: %s",
                              m->destination, ready);
        fail(m, why);
        free(why);
        return;
    }
    if (!decide_storage(ex, m, j)) {
        return;
    }

    const char *uri = dst ? smap_get(&dst->external_ids, "libvirt-uri")
                          : NULL;
    if (!uri || !dst->n_pas) {
        char *why = xasprintf("destination %s publishes no hypervisor URI "
                              "or PA", m->destination);
        fail(m, why);
        free(why);
        return;
    }
    int port_min, port_max;
    const char *ports = smap_get_def(&dst->external_ids, "migration-ports",
                                     MIGR_PORTS_DEFAULT);
    if (!migr_ports_parse(ports, &port_min, &port_max)) {
        migr_ports_parse(MIGR_PORTS_DEFAULT, &port_min, &port_max);
    }
    char *uris[MIGR_N_STREAM_KINDS];
    if (!use_channel(ex, m, dst, j, uris)) {
        return;
    }
    struct migr_spec spec = {
        .vm = m->vm,
        .destination = m->destination,
        .dest_uri = uri,
        .dest_address = dst->pas[0],
        .dest_port_min = port_min,
        .dest_port_max = port_max,
        .copy_storage = flags_of(m).copy_storage,
        .max_downtime_ms = smap_get_int(&m->options, "max-downtime-ms",
                                        ex->max_downtime_ms),
        .bandwidth_mibps = smap_get_int(&m->options, "bandwidth", 0),
        .memory_uri = uris[MIGR_STREAM_MEMORY],
        .disks_uri = uris[MIGR_STREAM_DISKS],
        .streams = smap_get_int(&m->options, "streams",
                                migr_streams_default()),
        .quick = is_quick(m),
        .pause_when_held = migr_row_switchover_on_resume(m),
    };
    char *error = NULL;
    j->job = ex->backend->class->start(ex->backend->data, &spec, &error);
    for (int k = 0; k < MIGR_N_STREAM_KINDS; k++) {
        free(uris[k]);
    }
    if (!j->job) {
        fail(m, error);
        free(error);
        return;
    }
    advance(m, MIGR_EV_PREPARED);
}

/* The channel's figures: QEMU's bytes, the bytes on the wire, streams, and
 * the CPU time that carrying them took here. */
static void
write_channel_stats(struct migr_executor *ex,
                    const struct vmroamrec_migration *m, const struct job *j)
{
    if (j->channel_id) {
        struct migr_channel_stats cs;
        char *error;
        migr_channel_get(ex->channel, j->channel_id, &cs, &error);
        free(error);
        vmroamrec_migration_update_stats_setkey(m, "channel_bytes_in",
                                                cs.bytes_in);
        vmroamrec_migration_update_stats_setkey(m, "channel_bytes_wire",
                                                cs.bytes_wire);
        vmroamrec_migration_update_stats_setkey(m, "channel_streams",
                                                cs.streams);
        vmroamrec_migration_update_stats_setkey(m, "channel_cpu_ms",
                                                cs.cpu_ns / 1000000);
    }
}

static void
write_stats(const struct vmroamrec_migration *m, const struct migr_status *st)
{
    static const char *const keys[] = {
        "bytes_total", "bytes_processed", "bytes_remaining", "dirty_rate",
        "iteration", "downtime_ms",
    };
    const int64_t values[] = {
        st->total, st->processed, st->remaining, st->dirty_rate,
        st->iteration, st->downtime_ms,
    };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        vmroamrec_migration_update_stats_setkey(m, keys[i], values[i]);
    }
    double fraction = st->total ? (double) st->processed / st->total : 0;
    vmroamrec_migration_set_progress(
        m, migr_progress(migr_row_state(m), flags_of(m).copy_storage, fraction));
}

/* Switchover: the VM runs on the destination; its lookup records follow
 * it now, in one transaction with a new generation. */
static void
switch_records(struct migr_executor *ex, struct ovsdb_idl *idl,
               struct ovsdb_idl_txn *txn, const struct vmroamrec_migration *m)
{
    migr_records_put(idl, txn, ex->records, m, m->destination,
                     "records-moved");
}

/* The migration failed with the VM on the source, but its records may have
 * moved already: QEMU announces the VM on the destination before libvirt's
 * last step resumes it there, and that step can still fail. */
static void
restore_records(struct migr_executor *ex, struct ovsdb_idl *idl,
                struct ovsdb_idl_txn *txn, const struct vmroamrec_migration *m)
{
    if (migr_records_put(idl, txn, ex->records, m, m->source,
                         "records-restored")) {
        VLOG_WARN("migration of %s failed after its records moved to %s: "
                  "moved them back to %s", m->vm, m->destination, m->source);
    }
}

/* Why a running migration must stop now, or NULL. */
static const char *
abort_reason(struct ovsdb_idl *idl, const struct vmroamrec_migration *m,
             const char *underlay_link, char **buf)
{
    const struct vmroamrec_chassis *dst = policy_db_chassis(idl, m->destination);
    *buf = NULL;
    if (m->cancel_requested) {
        return "cancelled by the operator";
    }
    if (underlay_link && !strcmp(underlay_link, "down")) {
        *buf = xasprintf("underlay link of the source %s went down",
                         m->source);
    } else if (dst && dst->underlay_link
               && !strcmp(dst->underlay_link, "down")) {
        *buf = xasprintf("underlay link of the destination %s went down",
                         m->destination);
    } else {
        char *why;
        if (overlay_chassis_is_down(idl, m->destination, time_wall_msec(),
                                    &why)) {
            *buf = xasprintf("destination went down: %s", why);
            free(why);
        }
    }
    return *buf;
}

static void stamp_pause(const struct migr_executor *,
                        const struct vmroamrec_migration *, struct job *);

static void
run_job(struct migr_executor *ex, struct ovsdb_idl *idl,
        struct ovsdb_idl_txn *txn, const struct vmroamrec_migration *m,
        struct job *j, const char *underlay_link)
{
    const struct migr_backend_class *class = ex->backend->class;
    enum migr_state s = migr_row_state(m);

    free(j->status.error);
    class->poll(j->job, &j->status);
    struct migr_status *st = &j->status;
    stamp_pause(ex, m, j);

    char *buf;
    const char *reason = abort_reason(idl, m, underlay_link, &buf);
    if (st->result == MIGR_JOB_RUNNING && reason && !j->abort_reason) {
        VLOG_WARN("migration of %s: aborting: %s", m->vm, reason);
        j->abort_reason = xstrdup(reason);
        /* Every reason but the operator's is a broken way there. */
        class->abort(j->job, !m->cancel_requested);
        if (j->channel_id) {
            /* Cut, the streams fail at once rather than stall. */
            migr_channel_close(ex->channel, j->channel_id);
        }
    }
    free(buf);

    j->resumed |= (st->result == MIGR_JOB_SUCCEEDED
                   || st->resumed_on_destination);
    if (j->resumed) {
        if (s == MIGR_STORAGE) {
            s = advance(m, MIGR_EV_STORAGE_DONE);
        }
        if (s == MIGR_MEMORY) {
            s = advance(m, MIGR_EV_MEMORY_DONE);
        }
        if (st->result != MIGR_JOB_RUNNING
            || migr_row_switchover_on_resume(m)) {
            switch_records(ex, idl, txn, m);
        }
    }

    if (st->result == MIGR_JOB_SUCCEEDED
        || (st->result == MIGR_JOB_FAILED && j->resumed)) {
        /* Once the VM has resumed on the destination it stays there, even
         * if libvirt's last steps reported an error. */
        write_stats(m, st);
        write_channel_stats(ex, m, j);
        if (st->result == MIGR_JOB_FAILED) {
            vmroamrec_migration_set_error(m, st->error);
        }
        s = advance(m, MIGR_EV_RESUMED);
        advance(m, MIGR_EV_CLEANED);
    } else if (st->result == MIGR_JOB_FAILED) {
        restore_records(ex, idl, txn, m);
        char *channel = (st->destination_lost ? NULL
                         : channel_failure(ex, m, j));
        vmroamrec_migration_set_error(m, (j->abort_reason ? j->abort_reason
                                          : channel ? channel : st->error));
        free(channel);
        if (j->abort_reason && m->cancel_requested) {
            advance(m, MIGR_EV_CANCEL);
        } else {
            advance(m, MIGR_EV_FAILED);
        }
    } else {
        if (s == MIGR_STORAGE && !st->copying_storage && st->processed) {
            advance(m, MIGR_EV_STORAGE_DONE);
        }
        long long int now = time_msec();
        if (now >= j->next_progress) {
            write_stats(m, st);
            write_channel_stats(ex, m, j);
            j->next_progress = now + PROGRESS_INTERVAL_MS;
        }
    }
}

/* Drives one migration this host is the source of. */
static void
run_outgoing(struct migr_executor *ex, struct ovsdb_idl *idl,
             struct ovsdb_idl_txn *txn, const struct vmroamrec_migration *m,
             const char *underlay_link)
{
    enum migr_state s = migr_row_state(m);
    struct job *j = find_job(ex, &m->header_.uuid);

    if (s == MIGR_QUEUED) {
        if (m->cancel_requested) {
            vmroamrec_migration_set_error(m, "cancelled by the operator");
            advance(m, MIGR_EV_CANCEL);
        }
    } else if (s == MIGR_PREPARING) {
        if (!ex->backend) {
            fail(m, "the source has no hypervisor connection");
        } else {
            run_preparing(ex, idl, m, get_job(ex, &m->header_.uuid));
        }
    } else if (s == MIGR_ROLLING_BACK) {
        /* The backend leaves the VM on the source and the destination
         * clean; nothing is left to undo once its job has ended. */
        if (!j || !j->job || j->status.result != MIGR_JOB_RUNNING) {
            advance(m, MIGR_EV_ROLLED_BACK);
        }
    } else if (migr_state_is_active(s) && (!j || !j->job)) {
        /* A migration of ours that no job of ours drives: this agent
         * restarted.  Once the hypervisor's job has ended, where does the
         * VM run? */
        enum migr_recovery r = (ex->backend
                                ? ex->backend->class->recover(
                                    ex->backend->data, m->vm)
                                : MIGR_RECOVERY_GONE);
        if (r == MIGR_RECOVERY_PENDING) {
            ex->recovering = true;
        } else if (r == MIGR_RECOVERY_HERE) {
            restore_records(ex, idl, txn, m);
            fail(m, "the source agent restarted during the migration; it "
                 "was rolled back and the VM kept running on the source");
        } else {
            switch_records(ex, idl, txn, m);
            advance(m, MIGR_EV_RESUMED);
            advance(m, MIGR_EV_CLEANED);
        }
    } else if (migr_state_is_active(s)) {
        run_job(ex, idl, txn, m, j, underlay_link);
    }
}

/* Once 'm' is over, its source takes the marks off its VM's rows, once:
 * from then on neither host may move them. */
static void
unmark_finished(struct migr_executor *ex, struct ovsdb_idl *idl,
                const struct vmroamrec_migration *m)
{
    if (migr_state_is_final(migr_row_state(m))
        && !migr_row_timestamp(m, "unmarked")) {
        migr_records_unmark(idl, ex->records, m,
                            (migr_row_state(m) == MIGR_DONE ? m->destination
                             : m->source));
        vmroamrec_migration_update_timestamps_setkey(m, "unmarked",
                                                     time_wall_msec());
    }
}

/* The migration bringing 'vm' to this chassis now, or NULL. */
static const struct vmroamrec_migration *
find_incoming(const struct migr_executor *ex, struct ovsdb_idl *idl,
              const char *vm)
{
    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if (!strcmp(m->vm, vm) && migr_row_is_incoming(m, ex->chassis)) {
            return m;
        }
    }
    return NULL;
}

/* Stamps 'key' into 'm''s timestamps, unless it is there already; returns
 * true if it stamped. */
static bool
stamp_once_at(const struct vmroamrec_migration *m, const char *key,
              long long int when)
{
    if (migr_row_timestamp(m, key)) {
        return false;
    }
    vmroamrec_migration_update_timestamps_setkey(m, key, when);
    return true;
}

static bool
stamp_once(const struct vmroamrec_migration *m, const char *key)
{
    return stamp_once_at(m, key, time_wall_msec());
}

/* The destination's part before switchover: the port of 'vm', migrating
 * here, has its flows in this host's switch, inactive. */
void
migr_executor_port_ready(struct migr_executor *ex, struct ovsdb_idl *idl,
                         const char *vm)
{
    const struct vmroamrec_migration *m = find_incoming(ex, idl, vm);
    if (m && stamp_once(m, "port-ready")) {
        VLOG_INFO("migration of %s: its port on %s is ready", vm,
                  ex->chassis);
    }
}

/* The destination's part at switchover: 'vm', migrating here, runs here
 * now, as 'how' tells: its lookup records follow at once, without waiting
 * for the source to notice (which moves them back if libvirt's last step
 * fails after all). */
static void
activate(struct migr_executor *ex, struct ovsdb_idl *idl,
         struct ovsdb_idl_txn *txn, const char *vm, const char *how)
{
    const struct vmroamrec_migration *m = find_incoming(ex, idl, vm);
    if (m) {
        if (stamp_once(m, "activated")) {
            VLOG_INFO("migration of %s: %s on %s", vm, how, ex->chassis);
        }
        switch_records(ex, idl, txn, m);
    }
}

/* 'vm' was announced from its port here: QEMU does that as the VM resumes
 * (a guest may, too). */
void
migr_executor_activated(struct migr_executor *ex, struct ovsdb_idl *idl,
                        struct ovsdb_idl_txn *txn, const char *vm)
{
    activate(ex, idl, txn, vm, "announced");
}

/* Writes into the stats of the migration that last brought 'vm' here
 * ('held_dropped') how many packets its port dropped while it held them
 * for the VM: what the hold lost here. */
void
migr_executor_held_dropped(struct migr_executor *ex, struct ovsdb_idl *idl,
                           const char *vm, unsigned int dropped)
{
    const struct vmroamrec_migration *m, *last = NULL;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if (!strcmp(m->vm, vm) && m->destination
            && !strcmp(m->destination, ex->chassis)
            && (!last || (migr_row_timestamp(m, "queued")
                          > migr_row_timestamp(last, "queued")))) {
            last = m;
        }
    }
    if (last) {
        vmroamrec_migration_update_stats_setkey(last, "held_dropped",
                                                dropped);
    }
}

/* Reads what the hypervisor said of migrations' pauses and resumptions
 * since the last call: once at the start of each pass of the agent's main
 * loop, whether or not the database is there, so that what comes later
 * wakes the next pass (migr_executor_wait()). */
void
migr_executor_read_lifecycle(struct migr_executor *ex)
{
    const struct migr_backend_class *class = (ex->backend
                                              ? ex->backend->class : NULL);
    if (class && class->lifecycle) {
        sset_clear(&ex->paused);
        class->lifecycle(ex->backend->data, &ex->paused, &ex->resumed);
    }
}

/* Whether the packets for the VM that 'j' migrates by 'm' are held: its
 * guest is about to make its last pause here (the job lets it pause once
 * they are), or has made it, or its records have moved to the
 * destination; or its job ended with the VM on the destination and is not
 * forgotten yet.  So the hold outlasts the guest's stop here and meets the
 * redirects that begin with the records' move (overlay/inputs.h): a job
 * that ends here moves the records itself if the destination has not, and
 * until the server has the move, no translation here can put the
 * redirects in place.  The naive switchover ("completion", the
 * benchmark's baseline) holds nothing, nor does a migration being aborted
 * or failed, whose guest stays here. */
static bool
is_held(const struct migr_executor *ex, const struct vmroamrec_migration *m,
        const struct job *j)
{
    if (!m || !m->destination || !j->job || j->abort_reason
        || !migr_row_switchover_on_resume(m)) {
        return false;
    }
    return (j->status.result != MIGR_JOB_RUNNING ? j->resumed
            : (j->status.pausing || j->paused_here
               || sset_contains(&ex->paused, m->vm)
               || migr_row_timestamp(m, "records-moved")));
}

/* Stamps when the guest of 'm' made its last pause here, and takes back
 * the "held" stamp of a hold that ended while it still ran here (QEMU
 * went on to another pass), so that the stamp says when the hold in force
 * at the pause began. */
static void
stamp_pause(const struct migr_executor *ex,
            const struct vmroamrec_migration *m, struct job *j)
{
    if (j->status.result != MIGR_JOB_RUNNING) {
        return;
    }
    if (sset_contains(&ex->paused, m->vm)) {
        stamp_once(m, "paused");
        j->paused_here = true;
    } else if (j->held && !is_held(ex, m, j)) {
        vmroamrec_migration_update_timestamps_delkey(m, "held");
        j->held = false;
    }
}

/* Fills 'held' with the VMs migrating from here whose guest makes its last
 * pause here and has not yet run on the destination, each mapped to
 * the destination's PA: the network sends their packets there, where the
 * VM's port holds them until it runs. */
void
migr_executor_holding(const struct migr_executor *ex, struct ovsdb_idl *idl,
                      struct smap *held)
{
    const struct job *j;
    HMAP_FOR_EACH (j, node, &ex->jobs) {
        const struct vmroamrec_migration *m
            = vmroamrec_migration_get_for_uuid(idl, &j->row);
        if (!is_held(ex, m, j)) {
            continue;
        }
        const struct vmroamrec_chassis *ch = policy_db_chassis(
            idl, m->destination);
        if (ch && ch->n_pas) {
            smap_replace(held, m->vm, ch->pas[0]);
        }
    }
}

/* The source's part at the guest's last pause: the switch has held the
 * packets of 'vm', migrating from here, since 'when' (wall clock, ms), the
 * moment it acknowledged the flows that send them to the destination.  A
 * job waiting for that lets the guest pause now.  The row is stamped if
 * 'txn' is nonnull. */
void
migr_executor_held(struct migr_executor *ex, struct ovsdb_idl *idl,
                   struct ovsdb_idl_txn *txn, const char *vm,
                   long long int when)
{
    struct job *j;
    HMAP_FOR_EACH (j, node, &ex->jobs) {
        const struct vmroamrec_migration *m
            = vmroamrec_migration_get_for_uuid(idl, &j->row);
        if (!is_held(ex, m, j) || strcmp(m->vm, vm)) {
            continue;
        }
        if (txn) {
            stamp_once_at(m, "held", when);
            j->held = true;
        }
        if (j->status.pausing && ex->backend->class->held) {
            ex->backend->class->held(j->job);
        }
    }
}

void
migr_executor_run(struct migr_executor *ex, struct ovsdb_idl *idl,
                  struct ovsdb_idl_txn *txn, const char *underlay_link)
{
    struct job *j;
    HMAP_FOR_EACH (j, node, &ex->jobs) {
        if (j->job) {
            ex->backend->class->run(j->job);
        }
    }
    if (!txn) {
        /* The last transaction is still on its way: decide nothing from a
         * view it is about to change. */
        return;
    }
    const char *vm;
    SSET_FOR_EACH (vm, &ex->resumed) {
        activate(ex, idl, txn, vm, "resumed");
    }
    sset_clear(&ex->resumed);
    ex->recovering = false;
    if (ex->channel) {
        tend_expected(ex, idl);
    }
    schedule(ex, idl, txn);
    prepare_incoming(ex, idl, underlay_link);

    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        if (!strcmp(m->source, ex->chassis)) {
            run_outgoing(ex, idl, txn, m, underlay_link);
            unmark_finished(ex, idl, m);
        }
    }

    /* Forget jobs whose migration vanished, or ended as the server says:
     * the pass that ends one reads its own writes, and its hold lasts
     * until the records' move it wrote comes back from the server. */
    HMAP_FOR_EACH_SAFE (j, node, &ex->jobs) {
        const struct vmroamrec_migration *row
            = vmroamrec_migration_get_for_uuid(idl, &j->row);
        if (row && (!migr_state_is_final(migr_row_state(row))
                    || (j->job && j->status.result == MIGR_JOB_RUNNING))) {
            j->ended = false;
        } else if (!row || j->ended) {
            job_destroy(ex, j);
        } else {
            j->ended = true;
        }
    }
}

/* How many storage probes of migrations here are in progress (started and
 * not yet decided), and how many of their threads, those of probes that
 * timed out included, wait on the file system. */
void
migr_executor_probing(const struct migr_executor *ex,
                      unsigned int *in_progress, unsigned int *waiting)
{
    *in_progress = migr_probe_io_n_pending(ex->probes);
    *waiting = migr_probe_io_n_running(ex->probes);
}

void
migr_executor_wait(struct migr_executor *ex)
{
    if (ex->backend && ex->backend->class->lifecycle_wait) {
        ex->backend->class->lifecycle_wait(ex->backend->data);
    }
    if (ex->recovering) {
        poll_timer_wait(100);
    }
    migr_probe_io_wait(ex->probes);
    struct job *j;
    HMAP_FOR_EACH (j, node, &ex->jobs) {
        if (j->job) {
            ex->backend->class->wait(j->job);
            if (j->status.result == MIGR_JOB_RUNNING) {
                poll_timer_wait(POLL_INTERVAL_MS);
            }
        } else {
            poll_timer_wait(1000);
        }
    }
}
