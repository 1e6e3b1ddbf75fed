/* vmroam: the operator's and SDN controller's command line. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/vmroam.h"
#include "fatal-signal.h"
#include "openvswitch/vlog.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "stream-ssl.h"
#include "table.h"
#include "util.h"
#include "uuid.h"
#include "vmroam-version.h"

VLOG_DEFINE_THIS_MODULE(vmroam);

static const struct vmroam_command *const command_groups[] = {
    vmroam_db_commands,
    vmroam_policy_commands,
    vmroam_ipam_commands,
    vmroam_host_commands,
    vmroam_migrate_commands,
    vmroam_pki_commands,
    vmroam_plan_commands,
    vmroam_vm_commands,
    vmroam_storage_commands,
};

/* The id commands show for a row: the first 8 hex digits of its UUID. */
char *
vmroam_short_id(const struct uuid *uuid)
{
    return xasprintf("%08x", uuid->parts[0]);
}

/* True if 'id', as an operator typed it, begins 'uuid''s text. */
bool
vmroam_id_matches(const struct uuid *uuid, const char *id)
{
    char *s = xasprintf(UUID_FMT, UUID_ARGS(uuid));
    bool match = !strncmp(s, id, strlen(id));
    free(s);
    return match;
}

/* The host PKI's directory: <state-dir>/pki. */
char *
vmroam_pki_dir(const struct vmroam_ctx *ctx)
{
    return xasprintf("%s/pki", ctx->state_dir ? ctx->state_dir
                                              : "/var/lib/vmroam");
}

/* Connects to the database, replicating only 'tables' (a null-terminated
 * list) if nonnull, and of the lookup records only those that meet
 * 'records' if nonnull; says why on failure. */
static struct policy_db *
vmroam_connect_where(const struct vmroam_ctx *ctx,
                     const struct ovsdb_idl_table_class *const *tables,
                     const struct ovsdb_idl_condition *records)
{
    char *error = NULL;
    struct policy_db *db = policy_db_connect(ctx->db_remote, ctx->timeout_ms,
                                             tables, records, &error);
    if (!db) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
    }
    return db;
}

/* The same, with of the lookup records only those of the VMs in
 * 'records_of' if nonnull. */
struct policy_db *
vmroam_connect_scoped(const struct vmroam_ctx *ctx,
                      const struct ovsdb_idl_table_class *const *tables,
                      const struct sset *records_of)
{
    if (!records_of) {
        return vmroam_connect_where(ctx, tables, NULL);
    }
    /* With no clause, the condition matches nothing. */
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);
    const char *vm;
    SSET_FOR_EACH (vm, records_of) {
        vmroamrec_lookup_record_add_clause_vm(&cond, OVSDB_F_EQ, vm);
    }
    struct policy_db *db = vmroam_connect_where(ctx, tables, &cond);
    ovsdb_idl_condition_destroy(&cond);
    return db;
}

struct policy_db *
vmroam_connect_tables(const struct vmroam_ctx *ctx,
                      const struct ovsdb_idl_table_class *const *tables)
{
    return vmroam_connect_scoped(ctx, tables, NULL);
}

struct policy_db *
vmroam_connect(const struct vmroam_ctx *ctx)
{
    return vmroam_connect_tables(ctx, NULL);
}

/* Prints 'table' as --format asks and frees it. */
void
vmroam_print_table(const struct vmroam_ctx *ctx, struct table *table)
{
    struct table_style style = TABLE_STYLE_DEFAULT;
    style.format = ctx->format == VMROAM_FORMAT_JSON ? TF_JSON : TF_TABLE;
    table_print(table, &style);
    table_destroy(table);
}

/* Adds a cell holding a copy of 'text' (empty if NULL) to 'table'. */
void
vmroam_cell(struct table *table, const char *text)
{
    vmroam_cell_nocopy(table, xstrdup(text ? text : ""));
}

/* Adds a cell holding 'text', which it takes over, to 'table'. */
void
vmroam_cell_nocopy(struct table *table, char *text)
{
    table_add_cell(table)->text = text;
}

/* Parses the command's option --'name' as an integer from 'min' to 'max'
 * into '*value', which it leaves alone if the option is absent.  Returns
 * false, having said why, if it is not such a number. */
bool
vmroam_number_opt(const struct vmroam_ctx *ctx, const char *name,
                  long long int min, long long int max, long long int *value)
{
    const char *s = smap_get(&ctx->opts, name);
    if (!s) {
        return true;
    }
    char *end;
    errno = 0;
    long long int v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max) {
        fprintf(stderr, "vmroam %s: --%s: %s is not a number from %lld to "
                "%lld\n", ctx->command, name, s, min, max);
        return false;
    }
    *value = v;
    return true;
}

/* Says which option of those given 'c' does not take, if any. */
static bool
options_ok(const struct vmroam_ctx *ctx, const struct vmroam_command *c)
{
    struct sset takes;
    sset_from_delimited_string(&takes, c->options, " ");
    const char *name;
    SSET_FOR_EACH (name, &ctx->given) {
        if (!sset_contains(&takes, name)) {
            fprintf(stderr, "vmroam %s: it takes no --%s (%s%s); see "
                    "\"vmroam %s --help\"\n", c->name, name,
                    *c->options ? "its options: " : "no command options",
                    c->options, c->name);
            sset_destroy(&takes);
            return false;
        }
    }
    sset_destroy(&takes);
    return true;
}

/* Prints the commands whose first word is 'group' (all if NULL) and returns
 * how many it printed. */
static size_t
print_commands(FILE *stream, const char *group)
{
    size_t n = 0;
    for (size_t g = 0; g < ARRAY_SIZE(command_groups); g++) {
        for (const struct vmroam_command *c = command_groups[g]; c->name;
             c++) {
            size_t len = strcspn(c->name, " ");
            if (!group || (strlen(group) == len
                           && !strncmp(c->name, group, len))) {
                char *usage = xasprintf("%s %s", c->name, c->args);
                if (strlen(usage) <= 34) {
                    fprintf(stream, "  %-34s %s\n", usage, c->summary);
                } else {
                    fprintf(stream, "  %s\n  %-34s %s\n", usage, "",
                            c->summary);
                }
                free(usage);
                n++;
            }
        }
    }
    return n;
}

static void
usage(FILE *stream, const char *group)
{
    fprintf(stream,
"vmroam: live migration of VMs across physical subnets, keeping their\n"
"addresses (policy, IPAM and migrations in the vmroam database)\n"
"\n"
"usage: vmroam [OPTIONS] COMMAND [ARG...]\n"
"\n"
"Commands:\n");
    print_commands(stream, group);
    fprintf(stream,
"\n"
"Options (every command):\n"
"  --db REMOTE        vmroam database (unix:PATH, tcp:IP:PORT, ssl:IP:PORT;\n"
"                     several, comma-separated, for a Raft cluster);\n"
"                     default: the embedded database, or $VMROAM_DB\n"
"  --private-key FILE, --certificate FILE, --ca-cert FILE\n"
"                     for ssl: remotes (or $VMROAM_SSL_KEY, _CERT, _CA)\n"
"  --state-dir DIR    embedded database files in DIR (default\n"
"                     /var/lib/vmroam and /run/vmroam)\n"
"  --timeout SECS     give up waiting for the database after SECS (10)\n"
"  -v, --verbose      list every change; log debug messages\n"
"  -h, --help         this help; \"vmroam COMMAND --help\" for one command\n"
"  -V, --version      the version of this build\n"
"\n"
"Each command takes only the options its usage line shows (--format\n"
"table|json wherever it prints a table, --dry-run wherever it can show\n"
"what it would change); any other is an error.\n"
"\n"
"Exit status: 0 ok, 1 operational failure, 2 bad input or usage.\n");
}

static void
command_usage(const struct vmroam_command *c)
{
    printf("usage: vmroam [OPTIONS] %s %s\n\n%s\n", c->name, c->args,
           c->summary);
    if (*c->options) {
        char *options = xstrdup(c->options);
        char *save = NULL;
        printf("\nIts options:");
        for (char *o = strtok_r(options, " ", &save); o;
             o = strtok_r(NULL, " ", &save)) {
            printf(" --%s", o);
        }
        putchar('\n');
        free(options);
    }
    printf("\nSee \"vmroam --help\" for the options every command takes.\n");
}

/* Finds the command whose name is the longest match of the first words of
 * 'argv', and returns it with the number of words it used in '*n_words'. */
static const struct vmroam_command *
find_command(int argc, char *argv[], int *n_words)
{
    for (size_t g = 0; g < ARRAY_SIZE(command_groups); g++) {
        for (const struct vmroam_command *c = command_groups[g]; c->name;
             c++) {
            const char *p = c->name;
            int i;
            for (i = 0; i < argc; i++) {
                size_t len = strlen(argv[i]);
                if (strncmp(p, argv[i], len) || (p[len] && p[len] != ' ')) {
                    break;
                }
                p += len;
                if (!*p) {
                    *n_words = i + 1;
                    return c;
                }
                p++;
            }
        }
    }
    return NULL;
}

static int
parse_options(int argc, char *argv[], struct vmroam_ctx *ctx, bool *help)
{
    /* Options from OPT_FORMAT on belong to commands. */
    enum { OPT_DB = UCHAR_MAX + 1, OPT_STATE_DIR, OPT_TIMEOUT,
           SSL_OPTION_ENUMS, OPT_FORMAT, OPT_DRY_RUN, OPT_WAIT, OPT_RESERVE,
           OPT_RANGE, OPT_COMMAND };
    static const struct option long_options[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        STREAM_SSL_LONG_OPTIONS,
        {"format", required_argument, NULL, OPT_FORMAT},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"wait", no_argument, NULL, OPT_WAIT},
        {"reserve", required_argument, NULL, OPT_RESERVE},
        /* Options of single commands, kept in ctx->opts by name. */
        {"vsid", required_argument, NULL, OPT_COMMAND},
        {"vm", required_argument, NULL, OPT_COMMAND},
        {"mac", required_argument, NULL, OPT_COMMAND},
        {"ca", required_argument, NULL, OPT_COMMAND},
        {"pa", required_argument, NULL, OPT_COMMAND},
        {"address", required_argument, NULL, OPT_COMMAND},
        {"host", required_argument, NULL, OPT_COMMAND},
        {"footprint", required_argument, NULL, OPT_COMMAND},
        {"gateway", required_argument, NULL, OPT_COMMAND},
        {"count", required_argument, NULL, OPT_COMMAND},
        {"owner", required_argument, NULL, OPT_COMMAND},
        {"ttl", required_argument, NULL, OPT_COMMAND},
        {"description", required_argument, NULL, OPT_COMMAND},
        {"to", required_argument, NULL, OPT_COMMAND},
        {"storage", required_argument, NULL, OPT_COMMAND},
        {"cancel", required_argument, NULL, OPT_COMMAND},
        {"max-migrations", required_argument, NULL, OPT_COMMAND},
        {"max-storage-migrations", required_argument, NULL, OPT_COMMAND},
        {"bandwidth", required_argument, NULL, OPT_COMMAND},
        {"max-downtime", required_argument, NULL, OPT_COMMAND},
        {"switchover", required_argument, NULL, OPT_COMMAND},
        {"mode", required_argument, NULL, OPT_COMMAND},
        {"range", required_argument, NULL, OPT_RANGE},
        {"best", no_argument, NULL, OPT_COMMAND},
        {"quick-low", no_argument, NULL, OPT_COMMAND},
        {"watch", no_argument, NULL, OPT_COMMAND},
        {"days", required_argument, NULL, OPT_COMMAND},
        {"streams", required_argument, NULL, OPT_COMMAND},
        {"compression", required_argument, NULL, OPT_COMMAND},
        {"ssl-listen", required_argument, NULL, OPT_COMMAND},
        {"maintenance", required_argument, NULL, OPT_COMMAND},
        {"to-footprint", required_argument, NULL, OPT_COMMAND},
        {"headroom", required_argument, NULL, OPT_COMMAND},
        {"priority", required_argument, NULL, OPT_COMMAND},
        {"plain", no_argument, NULL, OPT_COMMAND},
        {"output", required_argument, NULL, 'o'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };

    for (;;) {
        int index;
        int c = getopt_long(argc, argv, "o:vhV", long_options, &index);
        if (c == -1) {
            return 0;
        }
        if (c == 'o') {
            sset_add(&ctx->given, "output");
        } else if (c >= OPT_FORMAT && c <= OPT_COMMAND) {
            sset_add(&ctx->given, long_options[index].name);
        }
        switch (c) {
        STREAM_SSL_OPTION_HANDLERS
        case OPT_COMMAND:
            smap_replace(&ctx->opts, long_options[index].name,
                         optarg ? optarg : "true");
            break;
        case OPT_RESERVE:
            svec_add(&ctx->reserve, optarg);
            break;
        case OPT_RANGE:
            svec_add(&ctx->ranges, optarg);
            break;
        case OPT_DB:
            ctx->db_remote = optarg;
            break;
        case OPT_STATE_DIR:
            ctx->state_dir = optarg;
            break;
        case OPT_TIMEOUT: {
            char *end;
            long secs = strtol(optarg, &end, 10);
            if (*end || secs <= 0 || secs > 86400) {
                fprintf(stderr, "vmroam: --timeout: %s is not a number of "
                        "seconds (1 to 86400)\n", optarg);
                return VMROAM_EXIT_BAD_INPUT;
            }
            ctx->timeout_ms = secs * 1000;
            break;
        }
        case OPT_FORMAT:
            if (!strcmp(optarg, "table")) {
                ctx->format = VMROAM_FORMAT_TABLE;
            } else if (!strcmp(optarg, "json")) {
                ctx->format = VMROAM_FORMAT_JSON;
            } else {
                fprintf(stderr, "vmroam: --format: unknown format \"%s\" "
                        "(expected table or json)\n", optarg);
                return VMROAM_EXIT_BAD_INPUT;
            }
            break;
        case OPT_DRY_RUN:
            ctx->dry_run = true;
            break;
        case OPT_WAIT:
            ctx->wait = true;
            break;
        case 'o':
            ctx->output = optarg;
            break;
        case 'v':
            ctx->verbose = true;
            vlog_set_levels(NULL, VLF_CONSOLE, VLL_DBG);
            break;
        case 'h':
            *help = true;
            break;
        case 'V':
            printf("vmroam %s\n", VMROAM_VERSION);
            exit(VMROAM_EXIT_OK);
        default:
            fprintf(stderr, "Try \"vmroam --help\".\n");
            return VMROAM_EXIT_BAD_INPUT;
        }
    }
}

/* Parses the command line into 'ctx' and runs the command it names.
 * Returns the exit status. */
static int
run(struct vmroam_ctx *ctx, int argc, char *argv[])
{
    bool help = false;
    int error = parse_options(argc, argv, ctx, &help);
    if (error) {
        return error;
    }
    policy_db_ssl_from_environment();
    argc -= optind;
    argv += optind;

    int n_words = 0;
    const struct vmroam_command *c = find_command(argc, argv, &n_words);
    if (!c) {
        if (help || !argc) {
            usage(help ? stdout : stderr, argc ? argv[0] : NULL);
            return help ? VMROAM_EXIT_OK : VMROAM_EXIT_BAD_INPUT;
        }
        fprintf(stderr, "vmroam: unknown command \"%s\"; commands are:\n",
                argv[0]);
        if (!print_commands(stderr, argv[0])) {
            print_commands(stderr, NULL);
        }
        return VMROAM_EXIT_BAD_INPUT;
    }
    if (help) {
        command_usage(c);
        return VMROAM_EXIT_OK;
    }

    ctx->command = c->name;
    if (!options_ok(ctx, c)) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    argc -= n_words;
    argv += n_words;
    if (argc < c->min_args || argc > c->max_args) {
        fprintf(stderr, "vmroam %s: wrong number of arguments; usage: "
                "vmroam %s %s\n", c->name, c->name, c->args);
        return VMROAM_EXIT_BAD_INPUT;
    }
    char *default_remote = NULL;
    if (!ctx->db_remote) {
        ctx->db_remote = default_remote
            = policy_db_default_remote(ctx->state_dir);
    }
    error = c->run(ctx, argc, argv);
    free(default_remote);
    return error;
}

int
main(int argc, char *argv[])
{
    struct vmroam_ctx ctx = {
        .db_remote = getenv("VMROAM_DB"),
        .timeout_ms = POLICY_DB_DEFAULT_TIMEOUT_MS,
        .format = VMROAM_FORMAT_TABLE,
    };

    smap_init(&ctx.opts);
    svec_init(&ctx.reserve);
    svec_init(&ctx.ranges);
    sset_init(&ctx.given);
    set_program_name(argv[0]);
    /* A server that drops the connection (an SSL peer refusing our
     * certificate) must give an error, not kill us. */
    fatal_ignore_sigpipe();
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    /* Lost races between writers are retried, and a long poll interval
     * while a big database loads is expected: neither is worth a warning
     * on the terminal. */
    vlog_set_levels(vlog_module_from_name("ovsdb_idl"), VLF_CONSOLE,
                    VLL_ERR);
    vlog_set_levels(vlog_module_from_name("timeval"), VLF_CONSOLE, VLL_ERR);

    int status = run(&ctx, argc, argv);
    smap_destroy(&ctx.opts);
    svec_destroy(&ctx.reserve);
    svec_destroy(&ctx.ranges);
    sset_destroy(&ctx.given);
    return status;
}
