/* "vmroam db start|stop|status": the embedded database, a standalone
 * ovsdb-server with the vmroam schema.  A Raft cluster is set up with
 * ovsdb-tool instead (see README) and reached with --db. */

#include <config.h>

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/vmroam.h"
#include "openvswitch/dynamic-string.h"
#include "policy/db.h"
#include "policy/policy.h"
#include "policy/vmroam-idl.h"
#include "timeval.h"
#include "util.h"

extern char **environ;
extern const char policy_schema_json[];

/* Where the embedded database keeps its file. */
static char *
db_file(const struct vmroam_ctx *ctx)
{
    return (ctx->state_dir
            ? xasprintf("%s/vmroam.db", ctx->state_dir)
            : xstrdup("/var/lib/vmroam/vmroam.db"));
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
write_schema(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(policy_schema_json, f) < 0 || fclose(f)) {
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
            "\"row\":{\"generation\":0}}]", NULL
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

static int
db_start(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
         char *argv[] OVS_UNUSED)
{
    char *db = db_file(ctx);
    char *db_dir = dir_of(db);
    char *pidfile = policy_db_run_path(ctx->state_dir, "ovsdb-server.pid");
    char *run_dir = dir_of(pidfile);
    char *schema = xasprintf("%s/vmroam.ovsschema", db_dir);
    char *ctl = policy_db_run_path(ctx->state_dir, "ovsdb-server.ctl");
    char *log = (ctx->state_dir
                 ? policy_db_run_path(ctx->state_dir, "ovsdb-server.log")
                 : xstrdup("/var/log/vmroam/ovsdb-server.log"));
    char *log_dir = dir_of(log);
    char *sock = policy_db_run_path(ctx->state_dir, "db.sock");
    int status = VMROAM_EXIT_FAILURE;

    pid_t pid = running_pid(pidfile);
    if (pid) {
        printf("vmroam database already running (pid %ld), remote "
               "unix:%s\n", (long) pid, sock);
        status = VMROAM_EXIT_OK;
    } else if (make_dir(db_dir) && make_dir(run_dir) && make_dir(log_dir)
               && write_schema(schema) && prepare_db_file(db, schema)) {
        char *remote = xasprintf("--remote=punix:%s", sock);
        char *pid_arg = xasprintf("--pidfile=%s", pidfile);
        char *ctl_arg = xasprintf("--unixctl=%s", ctl);
        char *log_arg = xasprintf("--log-file=%s", log);
        char *server[] = { "ovsdb-server", db, remote, pid_arg, ctl_arg,
                           "-vconsole:off", log_arg, "--detach",
                           "--no-chdir", NULL };
        if (!run_program(server, NULL)) {
            printf("vmroam database running (pid %ld), remote unix:%s\n",
                   (long) running_pid(pidfile), sock);
            status = VMROAM_EXIT_OK;
        } else {
            fprintf(stderr, "vmroam: ovsdb-server did not start; see %s\n",
                    log);
        }
        free(remote);
        free(pid_arg);
        free(ctl_arg);
        free(log_arg);
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
    return status;
}

static int
db_stop(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
        char *argv[] OVS_UNUSED)
{
    char *pidfile = policy_db_run_path(ctx->state_dir, "ovsdb-server.pid");
    pid_t pid = running_pid(pidfile);
    int status = VMROAM_EXIT_OK;

    if (!pid) {
        printf("vmroam database is not running\n");
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
            printf("vmroam database stopped (pid %ld)\n", (long) pid);
        }
    }
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

const struct vmroam_command vmroam_db_commands[] = {
    {.name = "db start",
     .args = "",
     .summary = "start the embedded vmroam database (ovsdb-server)",
     .options = "",
     .min_args = 0, .max_args = 0, .run = db_start},
    {.name = "db stop",
     .args = "",
     .summary = "stop the embedded vmroam database",
     .options = "",
     .min_args = 0, .max_args = 0, .run = db_stop},
    {.name = "db status",
     .args = "",
     .summary = "show the database's generation and row counts",
     .options = "",
     .min_args = 0, .max_args = 0, .run = db_status},
    {.name = "db schema",
     .args = "",
     .summary = "print the vmroam OVSDB schema (for ovsdb-tool)",
     .options = "",
     .min_args = 0, .max_args = 0, .run = db_schema},
    {.name = NULL},
};
