/* "vmroam db start|stop|status": the embedded database, a standalone
 * ovsdb-server with the vmroam schema.  A Raft cluster is set up with
 * ovsdb-tool instead (see README) and reached with --db.  "vmroam relay
 * start|stop": an ovsdb-server relay of that database that serves agents in
 * its place. */

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/vmroam.h"
#include "migrator/pki.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "policy/access.h"
#include "policy/db.h"
#include "policy/policy.h"
#include "policy/vmroam-idl.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

extern char **environ;
extern const char policy_schema_json[];

/* Where the embedded database, or a relay, keeps its file 'name'. */
static char *
db_file(const struct vmroam_ctx *ctx, const char *name)
{
    return xasprintf("%s/%s", ctx->state_dir ? ctx->state_dir
                                             : "/var/lib/vmroam", name);
}

/* Where the embedded database's server, or a relay, logs to 'name'. */
static char *
log_file(const struct vmroam_ctx *ctx, const char *name)
{
    return (ctx->state_dir ? policy_db_run_path(ctx->state_dir, name)
                           : xasprintf("/var/log/vmroam/%s", name));
}

/* Runs 'argv' and returns its exit status (-1 if it could not start).  If
 * 'output' is nonnull, stores what it printed on stdout there. */
static int
run_program(char *const argv[], char **output)
{
    posix_spawn_file_actions_t actions;
    int fds[2] = { -1, -1 };
    pid_t pid;

    posix_spawn_file_actions_init(&actions);
    if (output) {
        if (pipe(fds)) {
            return -1;
        }
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
    }
    int error = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (output) {
        close(fds[1]);
    }
    if (error) {
        fprintf(stderr, "vmroam: cannot run %s: %s\n", argv[0],
                ovs_strerror(error));
        if (output) {
            close(fds[0]);
        }
        return -1;
    }

    if (output) {
        struct ds s = DS_EMPTY_INITIALIZER;
        char buf[4096];
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) > 0
               || (n < 0 && errno == EINTR)) {
            ds_put_buffer(&s, buf, n > 0 ? n : 0);
        }
        close(fds[0]);
        *output = ds_steal_cstr(&s);
    }

    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        continue;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool
make_dir(const char *dir)
{
    char *cmd[] = { "mkdir", "-p", CONST_CAST(char *, dir), NULL };
    return !run_program(cmd, NULL);
}

static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? xmemdup0(path, slash - path) : xstrdup(".");
}

/* Returns the pid in 'pidfile' if that process is alive, else 0. */
static pid_t
running_pid(const char *pidfile)
{
    FILE *f = fopen(pidfile, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1 || pid <= 0
            || (kill(pid, 0) && errno == ESRCH)) {
            pid = 0;
        }
        fclose(f);
    }
    return pid;
}

static bool
write_schema(const char *path, const char *schema_json)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(schema_json, f) < 0 || fclose(f)) {
        fprintf(stderr, "vmroam: cannot write %s: %s\n", path,
                ovs_strerror(errno));
        return false;
    }
    return true;
}

/* Creates the database file 'db' with the generation row, or upgrades it to
 * the schema in 'schema' if it is older. */
static bool
prepare_db_file(const char *db, const char *schema)
{
    if (access(db, F_OK)) {
        char *create[] = { "ovsdb-tool", "create", CONST_CAST(char *, db),
                           CONST_CAST(char *, schema), NULL };
        char *init[] = {
            "ovsdb-tool", "transact", CONST_CAST(char *, db),
            "[\"vmroam\",{\"op\":\"insert\",\"table\":\"Vmroam_Global\","
            "\"row\":{\"generation\":0,\"external_ids\":[\"map\",[[\""
            POLICY_DB_KEYED_ROWS "\",\"true\"]]]}}]", NULL
        };
        char *out = NULL;
        bool ok = !run_program(create, NULL) && !run_program(init, &out);
        free(out);
        return ok;
    }

    char *needs[] = { "ovsdb-tool", "needs-conversion", CONST_CAST(char *, db),
                      CONST_CAST(char *, schema), NULL };
    char *answer = NULL;
    bool ok = !run_program(needs, &answer);
    if (ok && !strncmp(answer, "yes", 3)) {
        char *convert[] = { "ovsdb-tool", "convert", CONST_CAST(char *, db),
                            CONST_CAST(char *, schema), NULL };
        printf("upgrading %s to the current vmroam schema\n", db);
        ok = !run_program(convert, NULL);
    }
    free(answer);
    return ok;
}

/* The tables that say who may write what. */
static const struct ovsdb_idl_table_class *const access_tables[] = {
    &vmroamrec_table_vmroam_global, &vmroamrec_table_connection,
    &vmroamrec_table_rbac_role, &vmroamrec_table_rbac_permission, NULL
};

struct listeners {
    const char *const *targets;
    size_t n;
};

static bool
build_access(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn, void *l_)
{
    const struct listeners *l = l_;
    policy_access_write(idl, txn, l->targets, l->n);
    return true;
}

/* Writes the agent role and makes 'targets' the database's SSL listeners
 * for agents, through the administrator's 'remote'. */
static bool
write_access(const char *remote, int timeout_ms,
             const char *const *targets, size_t n_targets)
{
    struct listeners l = { targets, n_targets };
    char *error = NULL;
    struct policy_db *db = policy_db_connect(remote, timeout_ms,
                                             access_tables, NULL, &error);
    bool ok = db && policy_db_transact(db, build_access, &l, &error);
    if (!ok) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
    }
    policy_db_close(db);
    return ok;
}

static bool
build_rekey(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn, void *n_)
{
    size_t *n = n_;
    *n = policy_db_rekey(idl, txn);
    return true;
}

/* Gives the rows of a database written by an older vmroam their keyed
 * UUIDs, through the administrator's 'remote', unless it has them. */
static bool
ensure_keyed_rows(const char *remote, int timeout_ms)
{
    static const struct ovsdb_idl_table_class *const global[] = {
        &vmroamrec_table_vmroam_global, NULL,
    };
    static const struct ovsdb_idl_table_class *const tables[] = {
        &vmroamrec_table_vmroam_global, &vmroamrec_table_lookup_record,
        &vmroamrec_table_ca_lease, NULL,
    };
    char *error = NULL;
    struct policy_db *db = policy_db_connect(remote, timeout_ms, global,
                                             NULL, &error);
    bool keyed = db && policy_db_is_keyed(db->idl);
    policy_db_close(db);
    if (keyed || error) {
        if (error) {
            fprintf(stderr, "vmroam: %s\n", error);
            free(error);
        }
        return keyed;
    }

    size_t n = 0;
    db = policy_db_connect(remote, timeout_ms, tables, NULL, &error);
    bool ok = db && policy_db_transact(db, build_rekey, &n, &error);
    if (ok) {
        printf("keyed %"PRIuSIZE" lookup records and CA leases by their "
               "addresses\n", n);
    } else {
        fprintf(stderr, "vmroam: keying the rows of an older database "
                "(run \"vmroam db start\" again to retry): %s\n", error);
        free(error);
    }
    policy_db_close(db);
    return ok;
}

/* Makes sure the host PKI 'pki' has a CA and the database's certificate
 * (db-cert.pem), which the database and its relays present to agents,
 * making the certificate the first time.  'what' names what needs them, for
 * the error.  Returns an exit status. */
static int
db_certificate(const char *pki, const char *what)
{
    char *ca = xasprintf("%s/cacert.pem", pki);
    char *cert = xasprintf("%s/db-cert.pem", pki);
    int status = VMROAM_EXIT_OK;
    if (access(ca, R_OK)) {
        fprintf(stderr, "vmroam: %s: no host PKI in %s; run "
                "\"vmroam pki init\" first\n", what, pki);
        status = VMROAM_EXIT_BAD_INPUT;
    } else if (access(cert, F_OK)) {
        char *error = migr_pki_host(pki, "db", VMROAM_PKI_HOST_DAYS);
        if (error) {
            fprintf(stderr, "vmroam: the database's certificate: %s\n",
                    error);
            free(error);
            status = VMROAM_EXIT_FAILURE;
        } else {
            printf("made the database's certificate: %s\n", cert);
        }
    }
    free(ca);
    free(cert);
    return status;
}

/* The embedded database's SSL listener for agents, in '*target'
 * ("pssl:...", or NULL for none): --ssl-listen, else every address's port
 * POLICY_ACCESS_DEFAULT_PORT once the host PKI 'pki' has a CA.  Makes the
 * database's own certificate the first time.  Returns an exit status. */
static int
ssl_listener(const struct vmroam_ctx *ctx, const char *pki, char **target)
{
    const char *listen = smap_get(&ctx->opts, "ssl-listen");
    char *ca = xasprintf("%s/cacert.pem", pki);
    bool have_ca = !access(ca, R_OK);
    free(ca);

    *target = NULL;
    if ((listen && !strcmp(listen, "none")) || (!listen && !have_ca)) {
        return VMROAM_EXIT_OK;
    }
    char *port = xasprintf("%d", POLICY_ACCESS_DEFAULT_PORT);
    char *what = xasprintf("--ssl-listen %s", listen ? listen : port);
    int status = db_certificate(pki, what);
    free(what);
    char *error = (status ? NULL
                   : policy_access_listener(listen ? listen : port, target));
    free(port);
    if (error) {
        fprintf(stderr, "vmroam: --ssl-listen %s\n", error);
        free(error);
        return VMROAM_EXIT_BAD_INPUT;
    }
    return status;
}

/* Runs 'args' (ovsdb-server, its databases and remotes) as a daemon with
 * 'pidfile', control socket 'ctl' and log 'log' and, if 'pki' is nonnull,
 * the database's certificate of that PKI.  Destroys 'args'.  Returns true
 * if it started. */
static bool
start_server(struct svec *args, const char *pidfile, const char *ctl,
             const char *log, const char *pki)
{
    if (pki) {
        svec_add_nocopy(args, xasprintf("--private-key=%s/db-privkey.pem",
                                        pki));
        svec_add_nocopy(args, xasprintf("--certificate=%s/db-cert.pem",
                                        pki));
        svec_add_nocopy(args, xasprintf("--ca-cert=%s/cacert.pem", pki));
    }
    svec_add_nocopy(args, xasprintf("--pidfile=%s", pidfile));
    svec_add_nocopy(args, xasprintf("--unixctl=%s", ctl));
    svec_add(args, "-vconsole:off");
    svec_add_nocopy(args, xasprintf("--log-file=%s", log));
    svec_add(args, "--detach");
    svec_add(args, "--no-chdir");
    svec_terminate(args);
    bool ok = !run_program(args->names, NULL);
    svec_destroy(args);
    return ok;
}

/* Starts ovsdb-server on 'db' with its local unix socket 'sock' (for
 * administrators, with no role) and, with 'target', the agents' listener
 * and the files of PKI 'pki'.  Returns true if it started. */
static bool
start_db_server(const char *db, const char *sock, const char *pidfile,
                const char *ctl, const char *log, const char *pki,
                const char *target)
{
    struct svec args = SVEC_EMPTY_INITIALIZER;
    svec_add(&args, "ovsdb-server");
    svec_add(&args, db);
    svec_add_nocopy(&args, xasprintf("--remote=punix:%s", sock));
    svec_add(&args, "--remote=db:vmroam,Vmroam_Global,connections");
    return start_server(&args, pidfile, ctl, log, target ? pki : NULL);
}

static int
db_start(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
         char *argv[] OVS_UNUSED)
{
    char *db = db_file(ctx, "vmroam.db");
    char *db_dir = dir_of(db);
    char *pidfile = policy_db_run_path(ctx->state_dir, "ovsdb-server.pid");
    char *run_dir = dir_of(pidfile);
    char *schema = xasprintf("%s/vmroam.ovsschema", db_dir);
    char *ctl = policy_db_run_path(ctx->state_dir, "ovsdb-server.ctl");
    char *log = log_file(ctx, "ovsdb-server.log");
    char *log_dir = dir_of(log);
    char *sock = policy_db_run_path(ctx->state_dir, "db.sock");
    char *admin = xasprintf("unix:%s", sock);
    char *pki = vmroam_pki_dir(ctx);
    char *target = NULL;

    pid_t pid = running_pid(pidfile);
    int status = pid ? VMROAM_EXIT_OK : ssl_listener(ctx, pki, &target);
    if (pid) {
        printf("vmroam database already running (pid %ld), remote %s\n",
               (long) pid, admin);
    } else if (status) {
        /* ssl_listener() said why. */
    } else if (!make_dir(db_dir) || !make_dir(run_dir) || !make_dir(log_dir)
               || !write_schema(schema, policy_schema_json)
               || !prepare_db_file(db, schema)) {
        status = VMROAM_EXIT_FAILURE;
    } else if (!start_db_server(db, sock, pidfile, ctl, log, pki, target)) {
        fprintf(stderr, "vmroam: ovsdb-server did not start; see %s\n", log);
        status = VMROAM_EXIT_FAILURE;
    } else if (!ensure_keyed_rows(admin, ctx->timeout_ms)
               || !write_access(admin, ctx->timeout_ms,
                                (const char *const *) &target, !!target)) {
        status = VMROAM_EXIT_FAILURE;
    } else {
        printf("vmroam database running (pid %ld), remote %s", 
               (long) running_pid(pidfile), admin);
        if (target) {
            printf("; agents: %s with their host certificates (role %s)",
                   target, POLICY_ACCESS_AGENT_ROLE);
        }
        putchar('\n');
    }

    free(db);
    free(db_dir);
    free(pidfile);
    free(run_dir);
    free(schema);
    free(ctl);
    free(log);
    free(log_dir);
    free(sock);
    free(admin);
    free(pki);
    free(target);
    return status;
}

static int
db_listen(const struct vmroam_ctx *ctx, int argc, char *argv[])
{
    struct svec targets = SVEC_EMPTY_INITIALIZER;
    int status = VMROAM_EXIT_OK;
    for (int i = 0; i < argc && !status; i++) {
        char *target;
        char *error = policy_access_listener(argv[i], &target);
        if (error) {
            fprintf(stderr, "vmroam: db listen %s\n", error);
            free(error);
            status = VMROAM_EXIT_BAD_INPUT;
        } else {
            svec_add_nocopy(&targets, target);
        }
    }
    if (!status) {
        if (!write_access(ctx->db_remote, ctx->timeout_ms,
                          (const char *const *) targets.names, targets.n)) {
            status = VMROAM_EXIT_FAILURE;
        } else {
            for (size_t i = 0; i < targets.n; i++) {
                printf("agents: %s (role %s)\n", targets.names[i],
                       POLICY_ACCESS_AGENT_ROLE);
            }
        }
    }
    svec_destroy(&targets);
    return status;
}

/* Stops the server named by 'pidfile', 'what' ("vmroam database"), and
 * waits until it exits.  Returns an exit status. */
static int
stop_server(const struct vmroam_ctx *ctx, const char *pidfile,
            const char *what)
{
    pid_t pid = running_pid(pidfile);
    int status = VMROAM_EXIT_OK;

    if (!pid) {
        printf("%s is not running\n", what);
    } else if (kill(pid, SIGTERM)) {
        fprintf(stderr, "vmroam: cannot stop pid %ld: %s\n", (long) pid,
                ovs_strerror(errno));
        status = VMROAM_EXIT_FAILURE;
    } else {
        long long int deadline = time_msec() + ctx->timeout_ms;
        while (running_pid(pidfile) && time_msec() < deadline) {
            xnanosleep(10 * 1000 * 1000);
        }
        if (running_pid(pidfile)) {
            fprintf(stderr, "vmroam: pid %ld did not exit\n", (long) pid);
            status = VMROAM_EXIT_FAILURE;
        } else {
            printf("%s stopped (pid %ld)\n", what, (long) pid);
        }
    }
    return status;
}

static int
db_stop(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
        char *argv[] OVS_UNUSED)
{
    char *pidfile = policy_db_run_path(ctx->state_dir, "ovsdb-server.pid");
    int status = stop_server(ctx, pidfile, "vmroam database");
    free(pidfile);
    return status;
}

static int
db_status(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
          char *argv[] OVS_UNUSED)
{
    struct policy_db *db = vmroam_connect(ctx);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }

    struct policy policy;
    policy_init(&policy);
    policy_db_load(db->idl, &policy);
    printf("database: %s\ngeneration: %"PRId64"\n", ctx->db_remote,
           policy_db_generation(db->idl));
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        printf("%s rows: %"PRIuSIZE"\n", policy_tables[t].name,
               policy_n_items(&policy, t));
    }
    policy_destroy(&policy);
    policy_db_close(db);
    return VMROAM_EXIT_OK;
}

static int
db_schema(const struct vmroam_ctx *ctx OVS_UNUSED, int argc OVS_UNUSED,
          char *argv[] OVS_UNUSED)
{
    fputs(policy_schema_json, stdout);
    return VMROAM_EXIT_OK;
}

/* A relay's own small database: the one row that gives its listener for
 * agents, with the agent role.  ovsdb-server gives a role only to a
 * listener it reads from a database ("--remote=db:..."), never to one on
 * its command line, and a relay cannot take the main database's own
 * Connection rows: several relays on one host would all try the same
 * port. */
static const char relay_schema_json[] =
    "{\"name\": \"vmroam_relay\", \"version\": \"1.0.0\",\n"
    " \"tables\": {\n"
    "  \"Relay\": {\"isRoot\": true, \"maxRows\": 1, \"columns\": {\n"
    "    \"connections\": {\"type\": {\"key\": {\"type\": \"uuid\",\n"
    "        \"refTable\": \"Connection\"}, \"min\": 0,\n"
    "        \"max\": \"unlimited\"}}}},\n"
    "  \"Connection\": {\"columns\": {\n"
    "    \"target\": {\"type\": \"string\"},\n"
    "    \"role\": {\"type\": \"string\"},\n"
    "    \"is_connected\": {\"type\": \"boolean\", \"ephemeral\": true},\n"
    "    \"status\": {\"type\": {\"key\": \"string\", \"value\": \"string\",\n"
    "        \"min\": 0, \"max\": \"unlimited\"}, \"ephemeral\": true}}}}}\n";

/* A relay's files are named after the port it serves agents on. */
struct relay_files {
    char *target;               /* "pssl:PORT[:ADDR]". */
    char *name;                 /* "relay-PORT". */
    char *db, *schema, *pidfile, *ctl, *log, *sock;
};

static char *
run_file(const struct vmroam_ctx *ctx, const char *name)
{
    return policy_db_run_path(ctx->state_dir, name);
}

/* The path of 'name' followed by 'ext', in the place 'where' says. */
static char *
relay_file(const struct vmroam_ctx *ctx,
           char *(*where)(const struct vmroam_ctx *, const char *),
           const char *name, const char *ext)
{
    char *file = xasprintf("%s%s", name, ext);
    char *path = where(ctx, file);
    free(file);
    return path;
}

static int
relay_files_init(const struct vmroam_ctx *ctx, const char *addr_port,
                 struct relay_files *f)
{
    memset(f, 0, sizeof *f);
    char *error = policy_access_listener(addr_port, &f->target);
    if (error) {
        fprintf(stderr, "vmroam: %s %s\n", ctx->command, error);
        free(error);
        return VMROAM_EXIT_BAD_INPUT;
    }
    f->name = xasprintf("relay-%d", atoi(f->target + strlen("pssl:")));
    f->db = relay_file(ctx, db_file, f->name, ".db");
    f->schema = relay_file(ctx, db_file, f->name, ".ovsschema");
    f->pidfile = relay_file(ctx, run_file, f->name, ".pid");
    f->ctl = relay_file(ctx, run_file, f->name, ".ctl");
    f->log = relay_file(ctx, log_file, f->name, ".log");
    f->sock = relay_file(ctx, run_file, f->name, ".sock");
    return VMROAM_EXIT_OK;
}

static void
relay_files_destroy(struct relay_files *f)
{
    free(f->target);
    free(f->name);
    free(f->db);
    free(f->schema);
    free(f->pidfile);
    free(f->ctl);
    free(f->log);
    free(f->sock);
}

/* Creates the relay's own database anew, with its one listener 'target'
 * under the agent role. */
static bool
prepare_relay_db(const struct relay_files *f)
{
    char *create[] = { "ovsdb-tool", "create", f->db, f->schema, NULL };
    char *ops = xasprintf(
        "[\"vmroam_relay\","
        "{\"op\":\"insert\",\"table\":\"Connection\",\"uuid-name\":\"c\","
        "\"row\":{\"target\":\"%s\",\"role\":\"%s\"}},"
        "{\"op\":\"insert\",\"table\":\"Relay\","
        "\"row\":{\"connections\":[\"named-uuid\",\"c\"]}}]",
        f->target, POLICY_ACCESS_AGENT_ROLE);
    char *init[] = { "ovsdb-tool", "transact", f->db, ops, NULL };
    char *out = NULL;
    bool ok = ((!unlink(f->db) || errno == ENOENT)
               && write_schema(f->schema, relay_schema_json)
               && !run_program(create, NULL) && !run_program(init, &out));
    free(out);
    free(ops);
    return ok;
}

/* The tables a client reads to see that a relay serves the database. */
static const struct ovsdb_idl_table_class *const relay_probe_tables[] = {
    &vmroamrec_table_vmroam_global, NULL
};

static int
relay_start(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
            char *argv[])
{
    const char *source = ctx->db_remote;
    if (strncmp(source, "unix:", 5)) {
        /* ovsdb-server 3.1 forwards a relay's writes under the relay's own
         * identity: the database cannot tell which agent wrote what.  A
         * source that gives the relay an agent's rights refuses every
         * agent's own rows; one that gives it more gives it to every
         * certificate of the CA that reaches it.  Only the database's unix
         * socket, on its own host, gives them to the relay alone. */
        fprintf(stderr, "vmroam: relay start: the relay's source must be "
                "the database's unix socket on this host (--db unix:PATH), "
                "not %s: the database sees a relay's writes under the "
                "relay's identity, not the agent's\n", source);
        return VMROAM_EXIT_BAD_INPUT;
    }

    struct relay_files f;
    int status = relay_files_init(ctx, argv[0], &f);
    if (status) {
        return status;
    }
    char *pki = vmroam_pki_dir(ctx);
    char *what = xasprintf("relay start %s", argv[0]);
    char *db_dir = dir_of(f.db);
    char *run_dir = dir_of(f.pidfile);
    char *log_dir = dir_of(f.log);
    char *local = xasprintf("unix:%s", f.sock);

    pid_t pid = running_pid(f.pidfile);
    if (pid) {
        printf("vmroam relay already running (pid %ld), agents: %s\n",
               (long) pid, f.target);
    } else if ((status = db_certificate(pki, what))) {
        /* db_certificate() said why. */
    } else if (!make_dir(db_dir) || !make_dir(run_dir) || !make_dir(log_dir)
               || !prepare_relay_db(&f)) {
        status = VMROAM_EXIT_FAILURE;
    } else {
        struct svec args = SVEC_EMPTY_INITIALIZER;
        svec_add(&args, "ovsdb-server");
        svec_add(&args, f.db);
        svec_add_nocopy(&args, xasprintf("relay:vmroam:%s", source));
        svec_add_nocopy(&args, xasprintf("--remote=punix:%s", f.sock));
        svec_add(&args, "--remote=db:vmroam_relay,Relay,connections");
        if (!start_server(&args, f.pidfile, f.ctl, f.log, pki)) {
            fprintf(stderr, "vmroam: ovsdb-server did not start; see %s\n",
                    f.log);
            status = VMROAM_EXIT_FAILURE;
        }
    }

    if (!pid && !status) {
        /* A relay that has not reached its source yet is turned away by
         * clients: wait until it serves the database.  It drops its
         * clients once when the schema arrives, which is no news. */
        if (!ctx->verbose) {
            vlog_set_levels(vlog_module_from_name("jsonrpc"), VLF_CONSOLE,
                            VLL_ERR);
            vlog_set_levels(vlog_module_from_name("reconnect"), VLF_CONSOLE,
                            VLL_ERR);
        }
        char *error = NULL;
        struct policy_db *db = policy_db_connect(local, ctx->timeout_ms,
                                                 relay_probe_tables, NULL,
                                                 &error);
        if (!db) {
            fprintf(stderr, "vmroam: the relay (pid %ld) does not serve the "
                    "database at %s yet: %s; see %s\n",
                    (long) running_pid(f.pidfile), source, error, f.log);
            free(error);
            status = VMROAM_EXIT_FAILURE;
        } else {
            printf("vmroam relay running (pid %ld) for %s; agents: %s with "
                   "their host certificates (role %s)\n",
                   (long) running_pid(f.pidfile), source, f.target,
                   POLICY_ACCESS_AGENT_ROLE);
        }
        policy_db_close(db);
    }

    relay_files_destroy(&f);
    free(pki);
    free(what);
    free(db_dir);
    free(run_dir);
    free(log_dir);
    free(local);
    return status;
}

static int
relay_stop(const struct vmroam_ctx *ctx, int argc OVS_UNUSED, char *argv[])
{
    struct relay_files f;
    int status = relay_files_init(ctx, argv[0], &f);
    if (!status) {
        char *what = xasprintf("vmroam relay on %s", f.target);
        status = stop_server(ctx, f.pidfile, what);
        free(what);
    }
    relay_files_destroy(&f);
    return status;
}

const struct vmroam_command vmroam_db_commands[] = {
    {.name = "db start",
     .args = "[--ssl-listen [ADDR:]PORT|none]",
     .summary = "start the embedded vmroam database (ovsdb-server); with "
                "a host PKI, agents connect with SSL (default port 6641)",
     .options = "ssl-listen",
     .min_args = 0, .max_args = 0, .run = db_start},
    {.name = "db stop",
     .args = "",
     .summary = "stop the embedded vmroam database",
     .options = "",
     .min_args = 0, .max_args = 0, .run = db_stop},
    {.name = "db listen",
     .args = "[[ADDR:]PORT...]",
     .summary = "set the agents' SSL listeners and role of the database "
                "at --db (a cluster's; \"db start\" does it for its own)",
     .options = "",
     .min_args = 0, .max_args = INT_MAX, .run = db_listen},
    {.name = "db status",
     .args = "",
     .summary = "show the database's generation and row counts",
     .options = "",
     .min_args = 0, .max_args = 0, .run = db_status},
    {.name = "relay start",
     .args = "[ADDR:]PORT",
     .summary = "start an ovsdb-server relay of the database at --db (its "
                "unix socket) that serves agents on pssl:PORT under their "
                "role",
     .options = "",
     .min_args = 1, .max_args = 1, .run = relay_start},
    {.name = "relay stop",
     .args = "[ADDR:]PORT",
     .summary = "stop the relay serving agents on PORT",
     .options = "",
     .min_args = 1, .max_args = 1, .run = relay_stop},
    {.name = "db schema",
     .args = "",
     .summary = "print the vmroam OVSDB schema (for ovsdb-tool)",
     .options = "",
     .min_args = 0, .max_args = 0, .run = db_schema},
    {.name = NULL},
};
