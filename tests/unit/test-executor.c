/* Unit tests of the migration executor (migrator/executor.c): the agents'
 * part of a migration, driven pass by pass against a fake backend.
 *
 * The executor reads and writes the vmroam database through the OVSDB IDL,
 * so the tests give it a real one: an ovsdb-server with the vmroam schema,
 * started once in a temporary directory and emptied before each test.  Two
 * executors share one IDL connection, hv1's (the source) and hv2's (the
 * destination); a pass runs each in a transaction of its own and commits
 * it, as their main loops do.  The fake backend does what the test says:
 * its job runs, copies disks, resumes the VM on the destination, succeeds
 * or fails, and records what the executor asked of it.
 *
 * Covered: every phase of a migration with shared and with copied storage,
 * storage left in place only when proven shared, a cancel in each phase,
 * the destination and the source failing, the
 * lookup records moving to the destination at switchover (and back when
 * the migration fails after all), and a restarted source agent. */

#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "migrator/backend.h"
#include "migrator/executor.h"
#include "migrator/records.h"
#include "migrator/row.h"
#include "migrator/storage.h"
#include "openvswitch/dynamic-string.h"
#include "overlay/inputs.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "smap.h"
#include "sset.h"
#include "tests/unit/helpers.h"
#include "timeval.h"
#include "util.h"

extern const char policy_schema_json[];

/* ------------------------------------------------------------------ */
/* The database server.                                               */
/* ------------------------------------------------------------------ */

static char *server_dir;
static char *server_remote;
static pid_t server_pid;

static int
start_server(void **state OVS_UNUSED)
{
    const char *tmp = getenv("TMPDIR");
    server_dir = xasprintf("%s/vmroam-executor-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(server_dir)) {
        fprintf(stderr, "mkdtemp: %s\n", ovs_strerror(errno));
        return -1;
    }
    char *schema = xasprintf("%s/vmroam.ovsschema", server_dir);
    FILE *f = fopen(schema, "w");
    bool ok = f && fputs(policy_schema_json, f) >= 0;
    ok = f && !fclose(f) && ok;
    free(schema);
    if (!ok) {
        return -1;
    }
    if (run_shell("ovsdb-tool create %1$s/db %1$s/vmroam.ovsschema && "
                  "ovsdb-server --detach --no-chdir --pidfile=%1$s/pid "
                  "--unixctl=%1$s/ctl --remote=punix:%1$s/sock "
                  "--log-file=%1$s/log -vconsole:off %1$s/db",
                  server_dir)) {
        return -1;
    }
    char *pidfile = xasprintf("%s/pid", server_dir);
    f = fopen(pidfile, "r");
    free(pidfile);
    long pid = 0;
    if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 0) {
        fprintf(stderr, "no pid from ovsdb-server\n");
        return -1;
    }
    fclose(f);
    server_pid = pid;
    server_remote = xasprintf("unix:%s/sock", server_dir);
    return 0;
}

static int
stop_server(void **state OVS_UNUSED)
{
    if (server_pid) {
        kill(server_pid, SIGTERM);
    }
    int status = server_dir ? run_shell("rm -rf %s", server_dir) : 0;
    free(server_dir);
    free(server_remote);
    return status ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The fake backend.                                                  */
/* ------------------------------------------------------------------ */

struct fake {
    /* What the test makes it do. */
    char *start_error;          /* start() fails with this. */
    struct migr_status status;  /* What poll() reports ('error' is not
                                 * used: 'job_error' is). */
    const char *job_error;      /* The error of a failed job. */
    enum migr_recovery recovery;    /* What recover() says... */
    int n_pending;              /* ...after saying "pending" this often. */
    char *disks_error;          /* disks() fails with this; otherwise the
                                 * VM has one disk, disk_path(). */
    const char *paused;         /* The VM whose guest the hypervisor says
                                 * paused for its switchover, or NULL. */

    /* What the executor asked of it. */
    int n_starts, n_aborts, n_destroys, n_recovers, n_held;
    bool abort_path_broken;
    char *vm, *destination, *dest_uri, *dest_address;
    struct migr_spec spec;      /* Its strings are the ones above. */
    char *recovered;
    struct migr_job *job;       /* The job running, if any. */
};

struct migr_job {
    struct fake *fake;
};

static struct migr_job *
fake_start(void *fake_, const struct migr_spec *spec, char **errorp)
{
    struct fake *f = fake_;
    f->n_starts++;
    if (f->start_error) {
        *errorp = xstrdup(f->start_error);
        return NULL;
    }
    f->vm = xstrdup(spec->vm);
    f->destination = xstrdup(spec->destination);
    f->dest_uri = xstrdup(spec->dest_uri);
    f->dest_address = xstrdup(spec->dest_address);
    f->spec = *spec;
    f->spec.vm = f->vm;
    f->spec.destination = f->destination;
    f->spec.dest_uri = f->dest_uri;
    f->spec.dest_address = f->dest_address;

    f->job = xzalloc(sizeof *f->job);
    f->job->fake = f;
    return f->job;
}

static void
fake_poll(struct migr_job *job, struct migr_status *st)
{
    struct fake *f = job->fake;
    *st = f->status;
    st->error = (f->status.result == MIGR_JOB_FAILED
                 ? xstrdup(f->job_error) : NULL);
}

static void
fake_run(struct migr_job *job OVS_UNUSED)
{
}

/* As libvirt: an abort rolls the job back unless the VM runs on the
 * destination already. */
static void
fake_abort(struct migr_job *job, bool path_broken)
{
    struct fake *f = job->fake;
    f->n_aborts++;
    f->abort_path_broken = path_broken;
    if (!f->status.resumed_on_destination) {
        f->status.result = MIGR_JOB_FAILED;
        f->job_error = "operation aborted: migration job: canceled by client";
    }
}

static void
fake_held(struct migr_job *job)
{
    job->fake->n_held++;
}

static void
fake_wait(struct migr_job *job OVS_UNUSED)
{
}

static void
fake_destroy(struct migr_job *job)
{
    struct fake *f = job->fake;
    f->n_destroys++;
    if (f->job == job) {
        f->job = NULL;
    }
    free(job);
}

static enum migr_recovery
fake_recover(void *fake_, const char *vm)
{
    struct fake *f = fake_;
    f->n_recovers++;
    free(f->recovered);
    f->recovered = xstrdup(vm);
    return f->n_recovers <= f->n_pending ? MIGR_RECOVERY_PENDING : f->recovery;
}

static char *
fake_list_running(void *fake_ OVS_UNUSED, struct sset *running)
{
    sset_add(running, "vm1");
    return NULL;
}

static void
fake_versions(void *fake_ OVS_UNUSED, struct smap *versions)
{
    smap_add(versions, "fake", "1");
}

/* The VM's one disk: a file in the server's directory, which the source
 * and the destination see alike, as on shared storage. */
static char *
disk_path(void)
{
    return xasprintf("%s/vm1.qcow2", server_dir);
}

static char *
fake_disks(void *fake_, const char *vm OVS_UNUSED, struct sset *paths)
{
    struct fake *f = fake_;
    if (f->disks_error) {
        return xstrdup(f->disks_error);
    }
    char *disk = disk_path();
    sset_add(paths, disk);
    free(disk);
    return NULL;
}

static void
fake_lifecycle(void *fake_, struct sset *paused,
               struct sset *resumed OVS_UNUSED)
{
    struct fake *f = fake_;
    if (f->paused) {
        sset_add(paused, f->paused);
    }
}

static const struct migr_backend_class fake_class = {
    .name = "fake",
    .start = fake_start,
    .poll = fake_poll,
    .run = fake_run,
    .abort = fake_abort,
    .held = fake_held,
    .wait = fake_wait,
    .destroy = fake_destroy,
    .recover = fake_recover,
    .disks = fake_disks,
    .list_running = fake_list_running,
    .versions = fake_versions,
    .lifecycle = fake_lifecycle,
};

static void
fake_destroy_all(struct fake *f)
{
    free(f->start_error);
    free(f->disks_error);
    free(f->vm);
    free(f->destination);
    free(f->dest_uri);
    free(f->dest_address);
    free(f->recovered);
}

/* ------------------------------------------------------------------ */
/* The lab: three hosts, two VMs, one migration.                      */
/* ------------------------------------------------------------------ */

#define HV1_PA "10.0.1.11"
#define HV2_PA "10.0.2.11"
#define HV3_PA "10.0.2.12"
#define HV2_URI "qemu+tcp://10.0.2.11/system"

/* One agent: its executor, its backend, its host's underlay link. */
struct agent {
    const char *chassis;
    struct fake fake;
    struct migr_backend backend;
    struct migr_executor *ex;
    const char *link;           /* "up" or "down". */
    bool running;               /* Takes part in passes. */
};

struct env {
    struct ovsdb_idl *idl;
    struct ovsdb_idl_index *records;
    struct agent src;           /* hv1. */
    struct agent dst;           /* hv2. */
};

static void
commit(struct env *e, struct ovsdb_idl_txn *txn)
{
    enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit_block(txn);
    char *error = xstrdup(ovsdb_idl_txn_get_error(txn));
    ovsdb_idl_txn_destroy(txn);
    if (status != TXN_SUCCESS && status != TXN_UNCHANGED) {
        fail_msg("commit: %s (%s)", ovsdb_idl_txn_status_to_string(status),
                 error);
    }
    free(error);
    ovsdb_idl_run(e->idl);
}

static void
agent_start(struct env *e, struct agent *a, const char *chassis,
            bool with_backend)
{
    a->chassis = chassis;
    a->backend = (struct migr_backend) { &fake_class, &a->fake };
    a->ex = migr_executor_create(chassis, with_backend ? &a->backend : NULL,
                                 e->records, MIGR_MAX_DOWNTIME_DEFAULT);
    a->link = "up";
    a->running = true;
}

/* Host 'name', up, its agent last heard from at 'heartbeat'. */
static void
add_chassis(struct ovsdb_idl_txn *txn, const char *name, const char *pa,
            const char *uri, long long int heartbeat)
{
    struct vmroamrec_chassis *ch = vmroamrec_chassis_insert(txn);
    vmroamrec_chassis_set_name(ch, name);
    vmroamrec_chassis_set_pas(ch, &pa, 1);
    vmroamrec_chassis_set_state(ch, "up");
    vmroamrec_chassis_set_underlay_link(ch, "up");
    vmroamrec_chassis_set_max_migrations(ch, 2);
    vmroamrec_chassis_set_max_storage_migrations(ch, 1);
    struct smap ids = SMAP_INITIALIZER(&ids);
    smap_add(&ids, "libvirt-uri", uri);
    smap_add(&ids, "migration-ports", "49200-49215");
    vmroamrec_chassis_set_external_ids(ch, &ids);
    smap_destroy(&ids);

    struct vmroamrec_chassis_private *cp
        = vmroamrec_chassis_private_insert(txn);
    vmroamrec_chassis_private_set_name(cp, name);
    vmroamrec_chassis_private_set_heartbeat(cp, heartbeat);
}

static void
add_record(struct ovsdb_idl_txn *txn, const char *vm, int64_t vsid,
           const char *ca, const char *mac, const char *pa,
           const char *chassis)
{
    struct vmroamrec_lookup_record *r = vmroamrec_lookup_record_insert(txn);
    vmroamrec_lookup_record_set_vsid(r, vsid);
    vmroamrec_lookup_record_set_ca(r, ca);
    vmroamrec_lookup_record_set_mac(r, mac);
    vmroamrec_lookup_record_set_pa(r, pa);
    vmroamrec_lookup_record_set_chassis(r, chassis);
    vmroamrec_lookup_record_set_vm(r, vm);
}

/* The database emptied, then: hv1 and hv2 on two provider subnets and hv3;
 * vm1 on hv1 with two NICs (an IPv4 and an IPv6 lookup record in two
 * virtual subnets), vm2 on hv3; and one migration of vm1 from hv1 to hv2
 * with 'options' ("key", "value", ..., NULL), queued. */
static void
setup_lab(struct env *e, ...)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    for (size_t t = 0; t < VMROAMREC_N_TABLES; t++) {
        const struct ovsdb_idl_row *row, *next;
        for (row = ovsdb_idl_first_row(e->idl, &vmroamrec_table_classes[t]);
             row; row = next) {
            next = ovsdb_idl_next_row(row);
            ovsdb_idl_txn_delete(row);
        }
    }

    vmroamrec_vmroam_global_set_generation(
        vmroamrec_vmroam_global_insert(txn), 7);
    long long int now = time_wall_msec();
    add_chassis(txn, "hv1", HV1_PA, "qemu+tcp://10.0.1.11/system", now);
    add_chassis(txn, "hv2", HV2_PA, HV2_URI, now);
    add_chassis(txn, "hv3", HV3_PA, "qemu+tcp://10.0.2.12/system", now);

    static const char *const names[] = { "vm1", "vm2" };
    static const char *const hosts[] = { "hv1", "hv3" };
    for (int i = 0; i < 2; i++) {
        struct vmroamrec_vm *row = vmroamrec_vm_insert(txn);
        vmroamrec_vm_set_name(row, names[i]);
        vmroamrec_vm_set_chassis(row, hosts[i]);
        vmroamrec_vm_set_state(row, "running");
    }
    add_record(txn, "vm1", 5001, "192.168.10.1", "02:00:00:05:01:01", HV1_PA,
               "hv1");
    add_record(txn, "vm1", 5002, "fd00:10::1", "02:00:00:05:02:01", HV1_PA,
               "hv1");
    add_record(txn, "vm2", 5001, "192.168.10.2", "02:00:00:05:01:02", HV3_PA,
               "hv3");

    struct vmroamrec_migration *mig = vmroamrec_migration_insert(txn);
    vmroamrec_migration_set_vm(mig, "vm1");
    vmroamrec_migration_set_source(mig, "hv1");
    vmroamrec_migration_set_destination(mig, "hv2");
    vmroamrec_migration_set_state(mig, "queued");
    struct smap options = SMAP_INITIALIZER(&options);
    va_list args;
    va_start(args, e);
    const char *key;
    while ((key = va_arg(args, const char *))) {
        smap_add(&options, key, va_arg(args, const char *));
    }
    va_end(args);
    vmroamrec_migration_set_options(mig, &options);
    smap_destroy(&options);
    vmroamrec_migration_update_timestamps_setkey(mig, "queued", now);
    commit(e, txn);

    /* As "vmroam migrate" queues it. */
    txn = ovsdb_idl_txn_create(e->idl);
    migr_records_mark(e->idl, policy_db_vm(e->idl, "vm1"), "hv1", "hv2");
    commit(e, txn);
}

static int
env_setup(void **state)
{
    struct env *e = xzalloc(sizeof *e);
    e->idl = ovsdb_idl_create(server_remote, &vmroamrec_idl_class, true,
                              true);
    e->records = policy_db_index_records(e->idl);
    long long int deadline = time_msec() + 10000;
    while (!ovsdb_idl_has_ever_connected(e->idl)) {
        if (time_msec() > deadline) {
            fprintf(stderr, "%s: no connection\n", server_remote);
            return -1;
        }
        ovsdb_idl_run(e->idl);
        ovsdb_idl_wait(e->idl);
        poll_timer_wait(100);
        poll_block();
    }
    agent_start(e, &e->src, "hv1", true);
    agent_start(e, &e->dst, "hv2", true);
    *state = e;
    return 0;
}

static void
agents_stop(struct env *e)
{
    migr_executor_destroy(e->src.ex);
    migr_executor_destroy(e->dst.ex);
    fake_destroy_all(&e->src.fake);
    fake_destroy_all(&e->dst.fake);
}

/* Both agents afresh, with new backends. */
static void
env_reset(struct env *e)
{
    agents_stop(e);
    memset(&e->src.fake, 0, sizeof e->src.fake);
    memset(&e->dst.fake, 0, sizeof e->dst.fake);
    agent_start(e, &e->src, "hv1", true);
    agent_start(e, &e->dst, "hv2", true);
}

static int
env_teardown(void **state)
{
    struct env *e = *state;
    agents_stop(e);
    ovsdb_idl_destroy(e->idl);
    free(e);
    return 0;
}

static void
run_agent(struct env *e, struct agent *a)
{
    ovsdb_idl_run(e->idl);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    migr_executor_run(a->ex, e->idl, txn, a->link);
    commit(e, txn);
}

/* One pass of the main loop of each running agent, source first.  An
 * agent that started a storage probe runs again once the probe's thread
 * is done (5 s at most), as its poll loop would wake then. */
static void
pass(struct env *e)
{
    struct agent *agents[] = { &e->src, &e->dst };
    for (size_t i = 0; i < ARRAY_SIZE(agents); i++) {
        struct agent *a = agents[i];
        if (a->running) {
            run_agent(e, a);
            unsigned int probing, waiting;
            migr_executor_probing(a->ex, &probing, &waiting);
            if (probing) {
                long long int deadline = time_msec() + 5000;
                while (waiting && time_msec() < deadline) {
                    xnanosleep(1000 * 1000);
                    migr_executor_probing(a->ex, &probing, &waiting);
                }
                run_agent(e, a);
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Reading the database.                                              */
/* ------------------------------------------------------------------ */

static const struct vmroamrec_migration *
migration(const struct env *e)
{
    const struct vmroamrec_migration *m = vmroamrec_migration_first(e->idl);
    assert_non_null(m);
    return m;
}

static void
expect_state(const struct env *e, const char *state)
{
    const struct vmroamrec_migration *m = migration(e);
    if (strcmp(m->state, state)) {
        fail_msg("migration is %s (error: %s), expected %s", m->state,
                 m->error ? m->error : "none", state);
    }
    assert_true(migr_row_timestamp(m, state) > 0);
}

/* Passes until the migration is in 'state', 10 passes at most. */
static void
pass_until(struct env *e, const char *state)
{
    for (int i = 0; i < 10 && strcmp(migration(e)->state, state); i++) {
        pass(e);
    }
    expect_state(e, state);
}

static void
expect_error(const struct env *e, const char *error)
{
    const struct vmroamrec_migration *m = migration(e);
    assert_non_null(m->error);
    assert_string_equal(m->error, error);
}

/* Every lookup record of vm1 points at 'chassis' and its 'pa', and so
 * does vm1's VM row; vm2's record never moves. */
/* The PAs that the source, hv1, tunnels late packets for vm1 on to, as a
 * translation there would read them (overlay/inputs.h): "" for none. */
static char *
redirects(const struct env *e)
{
    struct overlay_inputs in;
    overlay_inputs_gather(e->idl, e->records, "hv1", time_wall_msec(), &in);
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < in.n_redirects; i++) {
        ds_put_format(&s, "%s%s", i ? " " : "", in.redirects[i].pa);
    }
    overlay_inputs_destroy(&in);
    return ds_steal_cstr(&s);
}

static void
expect_redirects(const struct env *e, const char *pas)
{
    char *actual = redirects(e);
    assert_string_equal(actual, pas);
    free(actual);
}

static void
expect_records_on(const struct env *e, const char *chassis, const char *pa)
{
    const struct vmroamrec_lookup_record *r;
    int n_vm1 = 0, n_vm2 = 0;
    VMROAMREC_LOOKUP_RECORD_FOR_EACH (r, e->idl) {
        bool vm1 = r->vm && !strcmp(r->vm, "vm1");
        assert_string_equal(r->chassis, vm1 ? chassis : "hv3");
        assert_string_equal(r->pa, vm1 ? pa : HV3_PA);
        if (vm1) {
            n_vm1++;
        } else {
            n_vm2++;
        }
    }
    assert_int_equal(n_vm1, 2);
    assert_int_equal(n_vm2, 1);
    const struct vmroamrec_vm *vm = policy_db_vm(e->idl, "vm1");
    assert_non_null(vm);
    assert_string_equal(vm->chassis, chassis);
}

/* A failed migration: the VM stays on hv1 with its records. */
static void
expect_failed(struct env *e, const char *error)
{
    pass_until(e, "failed");
    expect_error(e, error);
    expect_records_on(e, "hv1", HV1_PA);
    assert_true(migr_row_timestamp(migration(e), "finished") > 0);
}

static int64_t
generation(const struct env *e)
{
    return policy_db_generation(e->idl);
}

/* ------------------------------------------------------------------ */
/* Writing the database, as the operator or another agent would.      */
/* ------------------------------------------------------------------ */

static void
request_cancel(struct env *e)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    vmroamrec_migration_set_cancel_requested(migration(e), true);
    commit(e, txn);
}

static void
set_chassis(struct env *e, const char *name, const char *state,
            const char *underlay_link)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    const struct vmroamrec_chassis *ch = policy_db_chassis(e->idl, name);
    assert_non_null(ch);
    vmroamrec_chassis_set_state(ch, state);
    vmroamrec_chassis_set_underlay_link(ch, underlay_link);
    commit(e, txn);
}

/* The destination sees vm1 announced on its port: QEMU's RARP once the
 * memory is all there. */
static void
announce(struct env *e)
{
    ovsdb_idl_run(e->idl);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    migr_executor_activated(e->dst.ex, e->idl, txn, "vm1");
    commit(e, txn);
}

/* The source's job: running, with 'processed' of 1000 bytes sent. */
static void
job_running(struct env *e, bool copying_storage, uint64_t processed)
{
    struct migr_status *st = &e->src.fake.status;
    st->result = MIGR_JOB_RUNNING;
    st->copying_storage = copying_storage;
    st->total = 1000;
    st->processed = processed;
    st->remaining = 1000 - processed;
    st->iteration = 1;
}

/* Runs a migration to its memory phase ('storage' copied first). */
static void
to_memory(struct env *e, bool storage)
{
    job_running(e, storage, 0);
    pass_until(e, storage ? "storage" : "memory");
    if (storage) {
        job_running(e, false, 600);
        pass_until(e, "memory");
    }
    job_running(e, false, 700);
    pass(e);
    expect_state(e, "memory");
}

/* ------------------------------------------------------------------ */
/* Every phase.                                                       */
/* ------------------------------------------------------------------ */

/* Asserts that vm1's row and records are (or are not) marked as moving
 * from hv1 to hv2, and vm2's are not. */
static void
expect_marked(const struct env *e, bool marked)
{
    const struct vmroamrec_vm *vm = policy_db_vm(e->idl, "vm1");
    assert_int_equal(smap_count(&vm->moving), marked ? 2 : 0);
    if (marked) {
        assert_string_equal(smap_get(&vm->moving, "source"), "hv1");
        assert_string_equal(smap_get(&vm->moving, "destination"), "hv2");
    }
    const struct vmroamrec_lookup_record *r;
    VMROAMREC_LOOKUP_RECORD_FOR_EACH (r, e->idl) {
        bool vm1 = !strcmp(r->vm, "vm1");
        assert_int_equal(smap_count(&r->moving), vm1 && marked ? 2 : 0);
        if (vm1 && marked) {
            assert_string_equal(smap_get(&r->moving, "destination"), "hv2");
        }
    }
}

static void
test_shared_storage_every_phase(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    int64_t gen0 = generation(e);
    expect_marked(e, true);
    job_running(e, false, 0);

    /* The source starts it and publishes its storage probe; the
     * destination finds the probe beside the disk and says it is ready. */
    pass(e);
    expect_state(e, "preparing");
    assert_true(migr_row_timestamp(migration(e), "started") > 0);
    assert_non_null(migration(e)->storage_probe);
    assert_string_equal(smap_get_def(&migration(e)->external_ids,
                                     "destination-ready", "-"), "yes");
    assert_string_equal(migration(e)->storage_verdict, "yes");
    assert_int_equal(e->src.fake.n_starts, 0);

    /* The source leaves the disk in place and starts the backend's job,
     * to the destination's PA. */
    pass(e);
    expect_state(e, "memory");
    assert_string_equal(migration(e)->storage, "shared");
    assert_int_equal(e->src.fake.n_starts, 1);
    assert_int_equal(e->dst.fake.n_starts, 0);
    const struct migr_spec *spec = &e->src.fake.spec;
    assert_string_equal(spec->vm, "vm1");
    assert_string_equal(spec->destination, "hv2");
    assert_string_equal(spec->dest_uri, HV2_URI);
    assert_string_equal(spec->dest_address, HV2_PA);
    assert_int_equal(spec->dest_port_min, 49200);
    assert_int_equal(spec->dest_port_max, 49215);
    assert_false(spec->copy_storage);
    assert_int_equal(spec->max_downtime_ms, MIGR_MAX_DOWNTIME_DEFAULT);
    assert_int_equal(spec->bandwidth_mibps, 0);

    /* Progress is written while memory is copied. */
    job_running(e, false, 500);
    pass(e);
    expect_state(e, "memory");
    assert_int_equal(migr_row_stat(migration(e), "bytes_processed"), 500);
    assert_int_equal(migr_row_stat(migration(e), "bytes_total"), 1000);
    assert_int_equal(migration(e)->progress, 50);
    expect_records_on(e, "hv1", HV1_PA);
    assert_int_equal(generation(e), gen0);
    expect_redirects(e, "");

    /* The VM resumes on the destination: switchover, and its records
     * follow at once, with a new generation.  From then on the source
     * tunnels on what still comes for it, before its hold of the guest's
     * packets ends with the job, and after. */
    e->src.fake.status.resumed_on_destination = true;
    pass(e);
    expect_state(e, "switchover");
    expect_records_on(e, "hv2", HV2_PA);
    assert_int_equal(generation(e), gen0 + 1);
    assert_int_equal(migr_row_stat(migration(e), "generation"), gen0 + 1);
    assert_true(migr_row_timestamp(migration(e), "records-moved") > 0);
    expect_redirects(e, HV2_PA " " HV2_PA);   /* Its two records. */

    /* The job ends: cleanup and done, with libvirt's downtime. */
    e->src.fake.status.result = MIGR_JOB_SUCCEEDED;
    e->src.fake.status.downtime_ms = 42;
    e->src.fake.status.processed = 1000;
    pass(e);
    expect_state(e, "done");
    assert_true(migr_row_timestamp(migration(e), "cleanup") > 0);
    assert_true(migr_row_timestamp(migration(e), "finished") > 0);
    assert_int_equal(migr_row_stat(migration(e), "downtime_ms"), 42);
    assert_int_equal(migration(e)->progress, 100);
    assert_null(migration(e)->error);
    expect_records_on(e, "hv2", HV2_PA);
    assert_int_equal(generation(e), gen0 + 1);
    assert_int_equal(e->src.fake.n_aborts, 0);
    assert_int_equal(e->src.fake.n_destroys, 0);
    expect_redirects(e, HV2_PA " " HV2_PA);   /* Its two records. */

    /* Nothing more happens, but the source takes the marks off: neither
     * host may move vm1's records any more.  The job is forgotten once
     * the server has said it ended. */
    pass(e);
    expect_state(e, "done");
    assert_int_equal(e->src.fake.n_starts, 1);
    assert_int_equal(e->src.fake.n_destroys, 1);
    expect_marked(e, false);
}

static void
test_storage_copy_every_phase(void **state)
{
    struct env *e = *state;
    setup_lab(e, "storage", "copy", "bandwidth", "8",
              "max-downtime-ms", "500", NULL);
    job_running(e, true, 0);

    pass_until(e, "storage");
    const struct migr_spec *spec = &e->src.fake.spec;
    assert_true(spec->copy_storage);
    assert_int_equal(spec->bandwidth_mibps, 8);
    assert_int_equal(spec->max_downtime_ms, 500);

    /* Still copying disks. */
    job_running(e, true, 300);
    pass(e);
    expect_state(e, "storage");
    assert_int_equal(migr_row_stat(migration(e), "bytes_processed"), 300);

    /* Disks mirrored: memory. */
    job_running(e, false, 600);
    pass(e);
    expect_state(e, "memory");

    /* The job completes between two polls: switchover, cleanup, done, and
     * the records move in the same transaction. */
    e->src.fake.status.result = MIGR_JOB_SUCCEEDED;
    e->src.fake.status.downtime_ms = 120;
    pass(e);
    expect_state(e, "done");
    assert_true(migr_row_timestamp(migration(e), "switchover") > 0);
    assert_int_equal(migr_row_stat(migration(e), "downtime_ms"), 120);
    expect_records_on(e, "hv2", HV2_PA);
}

/* With "switchover": "completion" (the benchmark's naive baseline) the
 * records wait for the whole job, not for the resume. */
static void
test_switchover_on_completion(void **state)
{
    struct env *e = *state;
    setup_lab(e, "switchover", "completion", NULL);
    int64_t gen0 = generation(e);
    to_memory(e, false);

    e->src.fake.status.resumed_on_destination = true;
    pass(e);
    expect_state(e, "switchover");
    expect_records_on(e, "hv1", HV1_PA);
    assert_int_equal(generation(e), gen0);

    e->src.fake.status.result = MIGR_JOB_SUCCEEDED;
    pass(e);
    expect_state(e, "done");
    expect_records_on(e, "hv2", HV2_PA);
    assert_int_equal(generation(e), gen0 + 1);
}

/* ------------------------------------------------------------------ */
/* Storage: shared only when proven.                                  */
/* ------------------------------------------------------------------ */

/* Runs a migration with "storage" 'mode' whose proof fails: the backend
 * cannot list the disks, or (if 'listed') the destination does not find
 * the probe the source wrote beside the disk. */
static void
unproven(struct env *e, const char *mode, bool listed)
{
    setup_lab(e, "storage", mode, NULL);
    job_running(e, true, 0);
    if (!listed) {
        e->src.fake.disks_error = xstrdup("cannot read the domain XML");
        return;
    }
    e->dst.running = false;
    pass(e);
    pass(e);
    expect_state(e, "preparing");
    assert_non_null(migration(e)->storage_probe);

    /* The destination sees another file at that path: no probe there. */
    struct sset disks = SSET_INITIALIZER(&disks);
    char *token;
    assert_null(migr_storage_probe_decode(migration(e)->storage_probe,
                                          &token, &disks));
    char *disk = disk_path();
    char *dir = dir_name(disk);
    char *base = base_name(disk);
    char *probe = xasprintf("%s/.%s.vmroam-probe-%s", dir, base, token);
    assert_int_equal(unlink(probe), 0);
    free(probe);
    free(token);
    sset_destroy(&disks);
    free(base);
    free(dir);
    free(disk);
    e->dst.running = true;
}

/* Which VMs the source holds the packets of, as migr_executor_holding()
 * says: "VM PA" for each, in order. */
static char *
holding(const struct env *e)
{
    struct smap held = SMAP_INITIALIZER(&held);
    migr_executor_holding(e->src.ex, e->idl, &held);
    struct ds s = DS_EMPTY_INITIALIZER;
    const struct smap_node **nodes = smap_sort(&held);
    for (size_t i = 0; i < smap_count(&held); i++) {
        ds_put_format(&s, "%s%s %s", i ? ", " : "", nodes[i]->key,
                      nodes[i]->value);
    }
    free(nodes);
    smap_destroy(&held);
    return ds_steal_cstr(&s);
}

static void
expect_holding(const struct env *e, const char *expected)
{
    char *got = holding(e);
    if (strcmp(got, expected)) {
        fail_msg("holding \"%s\", expected \"%s\"", got, expected);
    }
    free(got);
}

/* The default switchover holds the VM's packets from just before its last
 * pause: the job asks for it ('pausing'), the packets go to the
 * destination's PA, and once the switch holds them the job hears it and
 * lets the guest pause. */
static void
test_hold_before_the_last_pause(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    to_memory(e, false);
    assert_true(e->src.fake.spec.pause_when_held);
    expect_holding(e, "");

    e->src.fake.status.pausing = true;
    pass(e);
    expect_holding(e, "vm1 " HV2_PA);
    assert_int_equal(e->src.fake.n_held, 0);

    /* Without a transaction the job still hears of it. */
    migr_executor_held(e->src.ex, e->idl, NULL, "vm1", 1234000);
    assert_int_equal(e->src.fake.n_held, 1);
    assert_int_equal(migr_row_timestamp(migration(e), "held"), 0);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    migr_executor_held(e->src.ex, e->idl, txn, "vm1", 1234567);
    commit(e, txn);
    assert_int_equal(e->src.fake.n_held, 2);
    assert_int_equal(migr_row_timestamp(migration(e), "held"), 1234567);

    /* The guest pauses here, as the hypervisor says, then stops: the hold
     * lasts, though its records have not moved yet. */
    e->src.fake.paused = "vm1";
    migr_executor_read_lifecycle(e->src.ex);
    pass(e);
    assert_true(migr_row_timestamp(migration(e), "paused") > 0);
    e->src.fake.paused = NULL;
    e->src.fake.status.pausing = false;
    migr_executor_read_lifecycle(e->src.ex);
    pass(e);
    expect_records_on(e, "hv1", HV1_PA);
    expect_holding(e, "vm1 " HV2_PA);

    /* The guest runs on the destination and its records moved there: the
     * hold lasts until the job ends and the server has said so, by when
     * the redirects that began with the move are in place. */
    announce(e);
    pass(e);
    expect_records_on(e, "hv2", HV2_PA);
    expect_holding(e, "vm1 " HV2_PA);
    expect_redirects(e, HV2_PA " " HV2_PA);

    e->src.fake.status.result = MIGR_JOB_SUCCEEDED;
    pass(e);
    expect_state(e, "done");
    expect_holding(e, "vm1 " HV2_PA);
    expect_redirects(e, HV2_PA " " HV2_PA);
    pass(e);
    expect_holding(e, "");
    assert_int_equal(migr_row_timestamp(migration(e), "held"), 1234567);
}

/* The job ends on the source before the destination's agent has moved the
 * records: the source moves them, and holds the packets until it reads
 * the move back from the server, when a translation there can redirect
 * what still comes to it.  Released before, they would go to the local
 * port of a VM that is gone. */
static void
test_hold_until_the_move_is_read_back(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    to_memory(e, false);
    e->src.fake.status.pausing = true;
    pass(e);
    expect_holding(e, "vm1 " HV2_PA);
    e->src.fake.status.pausing = false;
    e->src.fake.status.result = MIGR_JOB_SUCCEEDED;

    /* The pass that ends the job, its writes not yet committed. */
    ovsdb_idl_run(e->idl);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    migr_executor_run(e->src.ex, e->idl, txn, e->src.link);
    char *during = holding(e);
    commit(e, txn);
    assert_string_equal(during, "vm1 " HV2_PA);
    free(during);
    expect_records_on(e, "hv2", HV2_PA);
    expect_redirects(e, HV2_PA " " HV2_PA);
    expect_holding(e, "vm1 " HV2_PA);

    pass(e);
    expect_holding(e, "");
    assert_int_equal(e->src.fake.n_destroys, 1);
}

/* QEMU went on to another pass: the job lets the packets go to the guest
 * again, and the "held" stamp of that hold goes, since no hold was in force
 * at the pause. */
static void
test_hold_released_while_the_guest_runs(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    to_memory(e, false);
    e->src.fake.status.pausing = true;
    pass(e);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    migr_executor_held(e->src.ex, e->idl, txn, "vm1", 1234567);
    commit(e, txn);
    assert_int_equal(migr_row_timestamp(migration(e), "held"), 1234567);

    e->src.fake.status.pausing = false;
    pass(e);
    expect_state(e, "memory");
    expect_holding(e, "");
    assert_int_equal(migr_row_timestamp(migration(e), "held"), 0);
}

/* The naive switchover neither holds nor has the job time the pause. */
static void
test_completion_holds_nothing(void **state)
{
    struct env *e = *state;
    setup_lab(e, "switchover", "completion", NULL);
    to_memory(e, false);
    assert_false(e->src.fake.spec.pause_when_held);
    e->src.fake.status.pausing = true;
    pass(e);
    expect_holding(e, "");
    migr_executor_held(e->src.ex, e->idl, NULL, "vm1", 1234567);
    assert_int_equal(e->src.fake.n_held, 0);
}

static void
test_auto_copies_unlisted_disks(void **state)
{
    struct env *e = *state;
    unproven(e, "auto", false);
    pass_until(e, "storage");
    assert_string_equal(migration(e)->storage, "copy");
    assert_true(e->src.fake.spec.copy_storage);
}

static void
test_auto_copies_disks_not_seen_there(void **state)
{
    struct env *e = *state;
    unproven(e, "auto", true);
    pass_until(e, "storage");
    assert_string_equal(migration(e)->storage, "copy");
    assert_true(e->src.fake.spec.copy_storage);
}

static void
test_shared_refused_for_unlisted_disks(void **state)
{
    struct env *e = *state;
    unproven(e, "shared", false);
    expect_failed(e, "cannot prove the storage of vm1 shared: cannot read "
                  "the domain XML");
    assert_int_equal(e->src.fake.n_starts, 0);
}

static void
test_shared_refused_for_disks_not_seen_there(void **state)
{
    struct env *e = *state;
    unproven(e, "shared", true);
    char *disk = disk_path();
    char *error = xasprintf("storage of vm1 is not shared with hv2 (disk %s: "
                            "not the source's file (the probe the source "
                            "wrote beside it is missing here)); migrate with "
                            "--storage copy or auto to copy the disks", disk);
    expect_failed(e, error);
    free(error);
    free(disk);
    assert_int_equal(e->src.fake.n_starts, 0);
}

/* ------------------------------------------------------------------ */
/* Cancel, in each phase.                                             */
/* ------------------------------------------------------------------ */

/* A cancelled migration: the VM stays on hv1 with its records, and the
 * generation never changed. */
static void
expect_cancelled(struct env *e, int64_t gen0)
{
    pass_until(e, "cancelled");
    expect_error(e, "cancelled by the operator");
    expect_records_on(e, "hv1", HV1_PA);
    assert_int_equal(generation(e), gen0);
    assert_true(migr_row_timestamp(migration(e), "finished") > 0);
}

static void
test_cancel_queued(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    int64_t gen0 = generation(e);
    request_cancel(e);
    pass(e);
    expect_state(e, "cancelled");
    expect_cancelled(e, gen0);
    assert_int_equal(e->src.fake.n_starts, 0);
}

/* A migration queued without marks (not by "vmroam migrate") could not
 * move its records where agents have the agent role: it never starts. */
static void
test_unmarked_never_starts(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    migr_records_unmark(e->idl, e->records, migration(e), "hv1");
    commit(e, txn);
    expect_marked(e, false);

    pass(e);
    expect_state(e, "failed");
    expect_error(e, "VM vm1 is not marked as moving from hv1 to hv2, so "
                 "neither host may move its lookup records; queue the "
                 "migration again with \"vmroam migrate\"");
    expect_records_on(e, "hv1", HV1_PA);
    assert_int_equal(e->src.fake.n_starts, 0);
}

static void
test_cancel_preparing(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    int64_t gen0 = generation(e);
    e->dst.running = false;     /* Never says it is ready. */
    pass(e);
    pass(e);
    expect_state(e, "preparing");

    request_cancel(e);
    pass(e);
    expect_state(e, "rolling-back");
    expect_cancelled(e, gen0);
    assert_int_equal(e->src.fake.n_starts, 0);
}

/* Runs a migration into its 'phase' (storage copied first if 'storage'),
 * then breaks in with 'fault': the job must be aborted, once, over a broken
 * path or not as 'path_broken' says. */
static void
interrupt(struct env *e, bool storage, const char *phase,
          void (*fault)(struct env *), bool path_broken)
{
    job_running(e, storage, 0);
    pass_until(e, phase);
    job_running(e, storage, 200);
    pass(e);

    fault(e);
    pass(e);
    assert_int_equal(e->src.fake.n_aborts, 1);
    assert_int_equal(e->src.fake.abort_path_broken, path_broken);
}

/* Cancels a migration in its 'phase': the job is aborted as the operator's
 * wish, not as a broken path. */
static void
cancel_running(struct env *e, bool storage, const char *phase)
{
    int64_t gen0 = generation(e);
    interrupt(e, storage, phase, request_cancel, false);
    expect_cancelled(e, gen0);
    pass(e);
    assert_int_equal(e->src.fake.n_aborts, 1);
    assert_int_equal(e->src.fake.n_destroys, 1);
}

static void
test_cancel_storage(void **state)
{
    struct env *e = *state;
    setup_lab(e, "storage", "copy", NULL);
    cancel_running(e, true, "storage");
}

static void
test_cancel_memory(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    cancel_running(e, false, "memory");
}

/* Once the VM runs on the destination a cancel comes too late: it stays
 * there, and so do its records. */
static void
test_cancel_after_resume(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    to_memory(e, false);
    e->src.fake.status.resumed_on_destination = true;
    pass(e);
    expect_state(e, "switchover");

    request_cancel(e);
    pass(e);
    e->src.fake.status.result = MIGR_JOB_SUCCEEDED;
    pass(e);
    expect_state(e, "done");
    expect_records_on(e, "hv2", HV2_PA);
}

/* ------------------------------------------------------------------ */
/* The destination failing.                                           */
/* ------------------------------------------------------------------ */

static void
test_destination_cannot_receive(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    e->dst.link = "down";
    pass(e);
    assert_string_equal(smap_get_def(&migration(e)->external_ids,
                                     "destination-ready", "-"),
                        "underlay link down");
    expect_failed(e, "destination hv2 cannot receive: underlay link down");
    assert_int_equal(e->src.fake.n_starts, 0);
}

static void
test_destination_without_hypervisor(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    migr_executor_destroy(e->dst.ex);
    agent_start(e, &e->dst, "hv2", false);
    expect_failed(e, "destination hv2 cannot receive: no hypervisor on "
                  "this host");
    assert_int_equal(e->src.fake.n_starts, 0);
}

static void
test_destination_never_ready(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    e->dst.running = false;
    pass(e);
    pass(e);
    expect_state(e, "preparing");

    /* 31 s later. */
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    vmroamrec_migration_update_timestamps_setkey(
        migration(e), "preparing", time_wall_msec() - 31000);
    commit(e, txn);
    expect_failed(e, "destination hv2 did not get ready within 30 s (is its "
                  "vmroamd running?)");
    assert_int_equal(e->src.fake.n_starts, 0);
}

static void
test_destination_without_uri(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    vmroamrec_chassis_update_external_ids_delkey(
        policy_db_chassis(e->idl, "hv2"), "libvirt-uri");
    commit(e, txn);
    expect_failed(e, "destination hv2 publishes no hypervisor URI or PA");
    assert_int_equal(e->src.fake.n_starts, 0);
}

static void
test_backend_cannot_start(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    e->src.fake.start_error = xstrdup("cannot reach hv2's libvirtd");
    expect_failed(e, "cannot reach hv2's libvirtd");
    assert_int_equal(e->src.fake.n_starts, 1);
}

/* Fails a migration in its 'phase' by 'fault', which must abort it over a
 * broken path with 'error'. */
static void
fail_running(struct env *e, bool storage, const char *phase,
             void (*fault)(struct env *), const char *error)
{
    int64_t gen0 = generation(e);
    interrupt(e, storage, phase, fault, true);
    expect_failed(e, error);
    assert_int_equal(generation(e), gen0);
    assert_int_equal(e->src.fake.n_aborts, 1);
}

static void
destination_down(struct env *e)
{
    set_chassis(e, "hv2", "down", "up");
}

static void
destination_link_down(struct env *e)
{
    set_chassis(e, "hv2", "up", "down");
}

static void
source_link_down(struct env *e)
{
    e->src.link = "down";
}

/* hv2's agent was last heard from 20 s ago. */
static long long int silent_since;

static void
destination_silent(struct env *e)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(e->idl);
    const struct vmroamrec_chassis_private *cp;
    silent_since = time_wall_msec() - 20000;
    VMROAMREC_CHASSIS_PRIVATE_FOR_EACH (cp, e->idl) {
        if (!strcmp(cp->name, "hv2")) {
            vmroamrec_chassis_private_set_heartbeat(cp, silent_since);
        }
    }
    commit(e, txn);
}

/* A destination whose agent fell silent is down, though its Chassis row
 * still says up. */
static void
test_destination_silent_in_memory(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    interrupt(e, false, "memory", destination_silent, true);
    char *since = xastrftime_msec("%Y-%m-%d %H:%M:%S", silent_since, true);
    char *error = xasprintf("destination went down: host hv2 is down: its "
                            "agent has been silent for 20 s (since %s UTC)",
                            since);
    expect_failed(e, error);
    free(error);
    free(since);
}

/* A destination already down is never started to. */
static void
test_destination_down_before_start(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    destination_down(e);
    expect_failed(e, "destination hv2 cannot receive: host hv2 is down");
    assert_int_equal(e->src.fake.n_starts, 0);
}

/* The hypervisor gives up by itself (the destination's QEMU died). */
static void
test_job_fails_in_memory(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    to_memory(e, false);
    e->src.fake.status.result = MIGR_JOB_FAILED;
    e->src.fake.job_error = "internal error: qemu unexpectedly closed the "
                            "monitor";
    pass(e);
    assert_int_equal(e->src.fake.n_aborts, 0);
    expect_failed(e, "internal error: qemu unexpectedly closed the monitor");
}

/* Each fault that breaks the path, in each phase of a running job. */
static void
test_broken_path_in_each_phase(void **state)
{
    static const struct {
        void (*fault)(struct env *);
        const char *error;
    } faults[] = {
        { destination_down, "destination went down: host hv2 is down" },
        { destination_link_down,
          "underlay link of the destination hv2 went down" },
        { source_link_down, "underlay link of the source hv1 went down" },
    };
    struct env *e = *state;

    for (size_t i = 0; i < ARRAY_SIZE(faults); i++) {
        for (int storage = 0; storage < 2; storage++) {
            env_reset(e);
            setup_lab(e, "storage", storage ? "copy" : "shared", NULL);
            fail_running(e, storage, storage ? "storage" : "memory",
                         faults[i].fault, faults[i].error);
        }
    }
}

/* ------------------------------------------------------------------ */
/* The source failing.                                                */
/* ------------------------------------------------------------------ */

static void
test_source_without_hypervisor(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    migr_executor_destroy(e->src.ex);
    agent_start(e, &e->src, "hv1", false);
    expect_failed(e, "the source has no hypervisor connection");
}

/* The source's agent restarts during the memory copy after the
 * destination had moved the records: the new agent has no job for the
 * migration and asks the backend where the VM runs, again while the
 * earlier agent's job is still ending, until it says 'where'. */
static void
restart_source(struct env *e, enum migr_recovery where)
{
    to_memory(e, false);
    announce(e);
    expect_records_on(e, "hv2", HV2_PA);

    migr_executor_destroy(e->src.ex);
    assert_int_equal(e->src.fake.n_destroys, 1);
    e->src.fake.recovery = where;
    e->src.fake.n_pending = 2;
    agent_start(e, &e->src, "hv1", true);
    for (int i = 1; i <= 2; i++) {
        pass(e);
        assert_int_equal(e->src.fake.n_recovers, i);
        expect_state(e, "memory");
        expect_records_on(e, "hv2", HV2_PA);
    }
    pass(e);
    assert_int_equal(e->src.fake.n_recovers, 3);
    assert_string_equal(e->src.fake.recovered, "vm1");
    assert_int_equal(e->src.fake.n_starts, 1);
}

static void
test_restarted_source_vm_still_here(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    restart_source(e, MIGR_RECOVERY_HERE);
    expect_failed(e, "the source agent restarted during the migration; it "
                  "was rolled back and the VM kept running on the source");
    assert_true(migr_row_timestamp(migration(e), "records-restored") > 0);
}

static void
test_restarted_source_vm_gone(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    restart_source(e, MIGR_RECOVERY_GONE);
    expect_state(e, "done");
    expect_records_on(e, "hv2", HV2_PA);
}

/* ------------------------------------------------------------------ */
/* Record moves and their rollback.                                   */
/* ------------------------------------------------------------------ */

/* The destination moves the records when the VM announces itself there,
 * before the source has noticed the resume; libvirt's last step then
 * fails with the VM on the source: the records move back. */
static void
test_records_move_back_when_the_last_step_fails(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    int64_t gen0 = generation(e);
    to_memory(e, false);

    announce(e);
    expect_records_on(e, "hv2", HV2_PA);
    assert_int_equal(generation(e), gen0 + 1);
    assert_true(migr_row_timestamp(migration(e), "activated") > 0);
    expect_redirects(e, HV2_PA " " HV2_PA);   /* Its two records. */

    /* Announced again: nothing moves twice. */
    announce(e);
    assert_int_equal(generation(e), gen0 + 1);

    e->src.fake.status.result = MIGR_JOB_FAILED;
    e->src.fake.job_error = "operation failed: job 'migration out' failed "
                            "in post-copy phase";
    pass(e);
    expect_records_on(e, "hv1", HV1_PA);
    assert_int_equal(generation(e), gen0 + 2);
    assert_int_equal(migr_row_stat(migration(e), "generation"), gen0 + 2);
    assert_true(migr_row_timestamp(migration(e), "records-restored") > 0);
    expect_failed(e, "operation failed: job 'migration out' failed in "
                  "post-copy phase");
    expect_redirects(e, "");
}

/* A job that fails after the VM resumed on the destination is done: the
 * VM stays there, the error is kept. */
static void
test_failure_after_resume_is_done(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    int64_t gen0 = generation(e);
    to_memory(e, false);
    e->src.fake.status.resumed_on_destination = true;
    pass(e);
    expect_records_on(e, "hv2", HV2_PA);

    e->src.fake.status.result = MIGR_JOB_FAILED;
    e->src.fake.job_error = "cannot undefine the domain on the source";
    pass(e);
    expect_state(e, "done");
    expect_error(e, "cannot undefine the domain on the source");
    expect_records_on(e, "hv2", HV2_PA);
    assert_int_equal(generation(e), gen0 + 1);
}

/* The announcement of a VM that no migration brings here moves nothing. */
static void
test_announce_without_migration(void **state)
{
    struct env *e = *state;
    setup_lab(e, NULL);
    int64_t gen0 = generation(e);
    announce(e);
    expect_records_on(e, "hv1", HV1_PA);
    assert_int_equal(generation(e), gen0);
}

#define TEST(NAME) \
    cmocka_unit_test_setup_teardown(NAME, env_setup, env_teardown)

int
main(void)
{
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_OFF);
    const struct CMUnitTest tests[] = {
        TEST(test_shared_storage_every_phase),
        TEST(test_storage_copy_every_phase),
        TEST(test_switchover_on_completion),
        TEST(test_hold_before_the_last_pause),
        TEST(test_hold_until_the_move_is_read_back),
        TEST(test_hold_released_while_the_guest_runs),
        TEST(test_completion_holds_nothing),

        TEST(test_auto_copies_unlisted_disks),
        TEST(test_auto_copies_disks_not_seen_there),
        TEST(test_shared_refused_for_unlisted_disks),
        TEST(test_shared_refused_for_disks_not_seen_there),

        TEST(test_cancel_queued),
        TEST(test_unmarked_never_starts),
        TEST(test_cancel_preparing),
        TEST(test_cancel_storage),
        TEST(test_cancel_memory),
        TEST(test_cancel_after_resume),

        TEST(test_destination_cannot_receive),
        TEST(test_destination_without_hypervisor),
        TEST(test_destination_never_ready),
        TEST(test_destination_without_uri),
        TEST(test_backend_cannot_start),
        TEST(test_destination_silent_in_memory),
        TEST(test_destination_down_before_start),
        TEST(test_job_fails_in_memory),

        TEST(test_broken_path_in_each_phase),
        TEST(test_source_without_hypervisor),
        TEST(test_restarted_source_vm_still_here),
        TEST(test_restarted_source_vm_gone),

        TEST(test_records_move_back_when_the_last_step_fails),
        TEST(test_failure_after_resume_is_done),
        TEST(test_announce_without_migration),
    };
    return cmocka_run_group_tests_name("executor", tests, start_server,
                                       stop_server);
}
