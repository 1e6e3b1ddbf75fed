/* "vmroam ipam ...": footprints, provider subnets, CA and PA leases. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/vmroam.h"
#include "ipam/leases.h"
#include "ipam/subnets.h"
#include "openvswitch/dynamic-string.h"
#include "ovsdb-idl.h"
#include "policy/db.h"
#include "policy/policy.h"
#include "policy/vmroam-idl.h"
#include "table.h"
#include "timeval.h"
#include "util.h"

static const char *
required_opt(const struct vmroam_ctx *ctx, const char *cmd, const char *name)
{
    const char *s = smap_get(&ctx->opts, name);
    if (!s) {
        fprintf(stderr, "vmroam %s: --%s is required\n", cmd, name);
    }
    return s;
}

/* Parses --vsid into '*vsid' (left alone if absent and not 'required'). */
static bool
vsid_opt(const struct vmroam_ctx *ctx, const char *cmd, bool required,
         long long int *vsid)
{
    return ((!required || required_opt(ctx, cmd, "vsid"))
            && vmroam_number_opt(ctx, "vsid", POLICY_VSID_MIN,
                                 POLICY_VSID_MAX, vsid));
}

static int
exit_status(enum ipam_error e)
{
    return (e == IPAM_OK ? VMROAM_EXIT_OK
            : e == IPAM_CONFLICT ? VMROAM_EXIT_FAILURE
            : VMROAM_EXIT_BAD_INPUT);
}

/* One change built afresh on each attempt by 'build'; 'result' and 'error'
 * tell how the last attempt went. */
struct change {
    enum ipam_error (*build)(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                             struct change *);
    const struct vmroam_ctx *ctx;
    const char *arg;
    struct ipam_request req;
    enum ipam_error result;
    char *address;
    char *error;
};

static bool
build_change(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn, void *c_)
{
    struct change *c = c_;
    free(c->address);
    free(c->error);
    c->address = c->error = NULL;
    c->result = c->build(idl, txn, c);
    return c->result == IPAM_OK;
}

/* The exit status of change 'c', whose attempt is over, saying why it
 * failed if it did. */
static int
change_status(const struct change *c)
{
    if (c->result != IPAM_OK) {
        fprintf(stderr, "vmroam: %s; nothing was changed\n", c->error);
    }
    return exit_status(c->result);
}

/* Runs change 'c' as one transaction and returns the exit status. */
static int
run_change(struct policy_db *db, struct change *c)
{
    char *error = NULL;
    int status;
    if (!policy_db_transact(db, build_change, c, &error)) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
        status = VMROAM_EXIT_FAILURE;
    } else {
        status = change_status(c);
    }
    return status;
}

static int
run_one(const struct vmroam_ctx *ctx, struct change *c)
{
    struct policy_db *db = vmroam_connect(ctx);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    int status = run_change(db, c);
    free(c->address);
    free(c->error);
    policy_db_close(db);
    return status;
}

static enum ipam_error
build_allocate(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
               struct change *c)
{
    return ipam_allocate_pa(idl, txn, &c->req, time_wall_msec(),
                            &c->address, &c->error);
}

/* Fills in the reservation part of 'req' from --owner and --ttl. */
static bool
reservation_opts(const struct vmroam_ctx *ctx, struct ipam_request *req)
{
    long long int ttl = 0;
    if (!vmroam_number_opt(ctx, "ttl", 1, 365LL * 86400, &ttl)) {
        return false;
    }
    req->owner = smap_get(&ctx->opts, "owner");
    if (ttl && !req->owner) {
        fprintf(stderr, "vmroam: --ttl needs --owner (a reservation is "
                "held for someone)\n");
        return false;
    }
    req->expires = ttl ? time_wall_msec() + ttl * 1000 : 0;
    return true;
}

/* What a CA lease's change replicates: of the big tables, nothing, since it
 * reads the rows it needs by key. */
static const struct ovsdb_idl_table_class *const ca_tables[] = {
    &vmroamrec_table_virtual_subnet, &vmroamrec_table_ca_pool, NULL,
};

/* Allocates a CA lease for 'c' and returns the exit status. */
static int
allocate_ca(struct policy_db *db, struct change *c)
{
    free(c->address);
    free(c->error);
    c->result = ipam_allocate_ca(db, &c->req, time_wall_msec(), &c->address,
                                 &c->error);
    return change_status(c);
}

/* Allocates, in separate transactions, --count addresses, printing each. */
static int
allocate(const struct vmroam_ctx *ctx, struct change *c)
{
    long long int count = 1;
    if (!vmroam_number_opt(ctx, "count", 1, 1000000, &count)
        || !reservation_opts(ctx, &c->req)) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    if (count > 1 && c->req.address) {
        fprintf(stderr, "vmroam: --count and --address exclude each "
                "other\n");
        return VMROAM_EXIT_BAD_INPUT;
    }

    struct policy_db *db = (c->req.vsid ? vmroam_connect_tables(ctx,
                                                                ca_tables)
                            : vmroam_connect(ctx));
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    int status = VMROAM_EXIT_OK;
    for (long long int i = 0; i < count && !status; i++) {
        status = c->req.vsid ? allocate_ca(db, c) : run_change(db, c);
        if (!status) {
            printf("%s\n", c->address);
        }
    }
    free(c->address);
    free(c->error);
    policy_db_close(db);
    return status;
}

static int
ipam_allocate_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                  char *argv[] OVS_UNUSED)
{
    long long int vsid = 0;
    if (!vsid_opt(ctx, "ipam allocate", true, &vsid)) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    struct change c = {
        .build = build_allocate,
        .req = {
            .vsid = vsid,
            .vm = smap_get(&ctx->opts, "vm"),
            .mac = smap_get(&ctx->opts, "mac"),
            .address = smap_get(&ctx->opts, "address"),
        },
    };
    return allocate(ctx, &c);
}

static int
ipam_pa_allocate_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                     char *argv[] OVS_UNUSED)
{
    const char *host = required_opt(ctx, "ipam pa allocate", "host");
    if (!host) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    struct change c = {
        .build = build_allocate,
        .req = {
            .chassis = host,
            .footprint = smap_get(&ctx->opts, "footprint"),
            .address = smap_get(&ctx->opts, "address"),
        },
    };
    return allocate(ctx, &c);
}

static enum ipam_error
build_release(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
              struct change *c)
{
    return ipam_release_pa(idl, txn, c->arg, &c->error);
}

static enum ipam_error
build_release_host(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                   struct change *c)
{
    return ipam_release_host(idl, txn, c->arg, &c->error);
}

/* Releases the CA lease that 'c' names and returns the exit status. */
static int
release_ca(const struct vmroam_ctx *ctx, struct change *c)
{
    struct policy_db *db = vmroam_connect_tables(ctx, ca_tables);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    c->result = ipam_release_ca(db, c->req.vsid, c->arg, &c->error);
    int status = change_status(c);
    free(c->error);
    policy_db_close(db);
    return status;
}

static int
ipam_release_cmd(const struct vmroam_ctx *ctx, int argc, char *argv[])
{
    long long int vsid = 0;
    const char *host = smap_get(&ctx->opts, "host");
    if (!vsid_opt(ctx, "ipam release", false, &vsid)) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    if (!argc == !host || (host && vsid)) {
        fprintf(stderr, "vmroam ipam release: give an ADDRESS (with --vsid N "
                "for a customer address) or --host NAME (its PA leases)\n");
        return VMROAM_EXIT_BAD_INPUT;
    }
    struct change c = {
        .build = host ? build_release_host : build_release,
        .arg = host ? host : argv[0], .req = { .vsid = vsid },
    };
    int status = vsid ? release_ca(ctx, &c) : run_one(ctx, &c);
    if (!status) {
        printf(host ? "released the PA leases of %s\n" : "released %s\n",
               c.arg);
    }
    return status;
}

static char *
expiry_text(const int64_t *expires, size_t n)
{
    return n ? xastrftime_msec("%Y-%m-%d %H:%M:%S", *expires, true)
             : xstrdup("");
}

static int
ipam_leases_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                char *argv[] OVS_UNUSED)
{
    struct policy_db *db = vmroam_connect(ctx);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }

    struct table t;
    table_init(&t);
    table_set_caption(&t, xstrdup("Leases"));
    static const char *const columns[] = {
        "kind", "space", "address", "holder", "state", "owner", "expires"
    };
    for (size_t i = 0; i < ARRAY_SIZE(columns); i++) {
        table_add_column(&t, "%s", columns[i]);
    }

    const struct vmroamrec_pa_lease *pl;
    VMROAMREC_PA_LEASE_FOR_EACH (pl, db->idl) {
        table_add_row(&t);
        vmroam_cell(&t, "PA");
        vmroam_cell(&t, pl->provider_subnet);
        vmroam_cell(&t, pl->address);
        vmroam_cell(&t, pl->chassis);
        vmroam_cell(&t, pl->state);
        vmroam_cell(&t, pl->owner);
        vmroam_cell_nocopy(&t, expiry_text(pl->expires, pl->n_expires));
    }
    const struct vmroamrec_ca_lease *cl;
    VMROAMREC_CA_LEASE_FOR_EACH (cl, db->idl) {
        table_add_row(&t);
        vmroam_cell(&t, "CA");
        vmroam_cell_nocopy(&t, xasprintf("VSID %"PRId64, cl->vsid));
        vmroam_cell(&t, cl->address);
        vmroam_cell_nocopy(&t, xasprintf("%s%s%s", cl->vm ? cl->vm : "",
                                      cl->vm && cl->mac ? " " : "",
                                      cl->mac ? cl->mac : ""));
        vmroam_cell(&t, cl->state);
        vmroam_cell(&t, cl->owner);
        vmroam_cell_nocopy(&t, expiry_text(cl->expires, cl->n_expires));
    }
    vmroam_print_table(ctx, &t);
    policy_db_close(db);
    return VMROAM_EXIT_OK;
}

static int
ipam_check_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
               char *argv[] OVS_UNUSED)
{
    struct policy_db *db = vmroam_connect(ctx);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    struct svec problems = SVEC_EMPTY_INITIALIZER;
    size_t n = ipam_check(db->idl, time_wall_msec(), &problems);
    for (size_t i = 0; i < problems.n; i++) {
        printf("%s\n", problems.names[i]);
    }
    printf("%s: %"PRIuSIZE" inconsistenc%s between lookup records and "
           "leases\n", n ? "FAILED" : "ok", n, n == 1 ? "y" : "ies");
    svec_destroy(&problems);
    policy_db_close(db);
    return n ? VMROAM_EXIT_FAILURE : VMROAM_EXIT_OK;
}

/* Footprints. */

static enum ipam_error
build_footprint_add(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                    struct change *c)
{
    return ipam_footprint_add(idl, txn, c->arg,
                              smap_get(&c->ctx->opts, "description"),
                              &c->error);
}

static int
ipam_footprint_add_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                       char *argv[])
{
    struct change c = {
        .build = build_footprint_add, .ctx = ctx, .arg = argv[0],
    };
    int status = run_one(ctx, &c);
    if (!status) {
        printf("footprint %s added\n", argv[0]);
    }
    return status;
}

static int
ipam_footprint_list_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                        char *argv[] OVS_UNUSED)
{
    struct policy_db *db = vmroam_connect(ctx);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    struct sset names = SSET_INITIALIZER(&names);
    ipam_footprint_names(db->idl, &names);

    struct table t;
    table_init(&t);
    table_set_caption(&t, xstrdup("Footprints"));
    table_add_column(&t, "name");
    table_add_column(&t, "subnets");
    table_add_column(&t, "pa leases");
    const char *name;
    SSET_FOR_EACH (name, &names) {
        size_t n_subnets = 0, n_leases = 0;
        const struct vmroamrec_provider_subnet *ps;
        VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, db->idl) {
            if (!strcmp(ps->footprint, name)) {
                n_subnets++;
                n_leases += ipam_subnet_pa_leases(db->idl, ps->prefix);
            }
        }
        table_add_row(&t);
        vmroam_cell(&t, name);
        vmroam_cell_nocopy(&t, xasprintf("%"PRIuSIZE, n_subnets));
        vmroam_cell_nocopy(&t, xasprintf("%"PRIuSIZE, n_leases));
    }
    vmroam_print_table(ctx, &t);
    sset_destroy(&names);
    policy_db_close(db);
    return VMROAM_EXIT_OK;
}

static int
ipam_footprint_show_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                        char *argv[])
{
    struct policy_db *db = vmroam_connect(ctx);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    struct sset names = SSET_INITIALIZER(&names);
    ipam_footprint_names(db->idl, &names);
    if (!sset_contains(&names, argv[0])) {
        fprintf(stderr, "vmroam: no footprint named %s\n", argv[0]);
        sset_destroy(&names);
        policy_db_close(db);
        return VMROAM_EXIT_BAD_INPUT;
    }
    sset_destroy(&names);

    struct table t;
    table_init(&t);
    table_set_caption(&t, xasprintf("Footprint %s", argv[0]));
    table_add_column(&t, "subnet");
    table_add_column(&t, "gateway");
    table_add_column(&t, "host");
    table_add_column(&t, "pa");
    table_add_column(&t, "vms");

    const struct vmroamrec_provider_subnet *ps;
    VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, db->idl) {
        if (strcmp(ps->footprint, argv[0])) {
            continue;
        }
        const struct vmroamrec_pa_lease *pl;
        bool any = false;
        VMROAMREC_PA_LEASE_FOR_EACH (pl, db->idl) {
            if (strcmp(pl->provider_subnet, ps->prefix)
                || !strcmp(pl->state, "released")) {
                continue;
            }
            struct ds vms = DS_EMPTY_INITIALIZER;
            const struct vmroamrec_lookup_record *r;
            VMROAMREC_LOOKUP_RECORD_FOR_EACH (r, db->idl) {
                if (!strcmp(r->pa, pl->address)) {
                    ds_put_format(&vms, "%s%s", vms.length ? " " : "",
                                  r->vm ? r->vm : r->ca);
                }
            }
            table_add_row(&t);
            vmroam_cell(&t, ps->prefix);
            vmroam_cell(&t, ps->gateway);
            vmroam_cell(&t, pl->chassis);
            vmroam_cell(&t, pl->address);
            vmroam_cell_nocopy(&t, ds_steal_cstr(&vms));
            any = true;
        }
        if (!any) {
            table_add_row(&t);
            vmroam_cell(&t, ps->prefix);
            vmroam_cell(&t, ps->gateway);
            vmroam_cell(&t, "");
            vmroam_cell(&t, "");
            vmroam_cell(&t, "");
        }
    }
    vmroam_print_table(ctx, &t);
    policy_db_close(db);
    return VMROAM_EXIT_OK;
}

/* Provider subnets. */

static enum ipam_error
build_subnet_add(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                 struct change *c)
{
    const struct vmroam_ctx *ctx = c->ctx;
    return ipam_subnet_add(idl, txn, c->arg,
                           smap_get(&ctx->opts, "footprint"),
                           smap_get(&ctx->opts, "gateway"),
                           ctx->reserve.names, ctx->reserve.n, &c->error);
}

static int
ipam_subnet_add_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                    char *argv[])
{
    if (!required_opt(ctx, "ipam subnet add", "footprint")) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    struct change c = { .build = build_subnet_add, .ctx = ctx,
                        .arg = argv[0] };
    int status = run_one(ctx, &c);
    if (!status) {
        printf("provider subnet %s added to footprint %s\n", argv[0],
               smap_get(&ctx->opts, "footprint"));
    }
    return status;
}

static enum ipam_error
build_subnet_del(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                 struct change *c)
{
    return ipam_subnet_del(idl, txn, c->arg, &c->error);
}

static enum ipam_error
build_footprint_del(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
                    struct change *c)
{
    return ipam_footprint_del(idl, txn, c->arg, &c->error);
}

static int
ipam_footprint_del_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                       char *argv[])
{
    struct change c = { .build = build_footprint_del, .ctx = ctx,
                        .arg = argv[0] };
    int status = run_one(ctx, &c);
    if (!status) {
        printf("footprint %s and its provider subnets deleted\n", argv[0]);
    }
    return status;
}

static int
ipam_subnet_del_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                    char *argv[])
{
    struct change c = { .build = build_subnet_del, .ctx = ctx,
                        .arg = argv[0] };
    int status = run_one(ctx, &c);
    if (!status) {
        printf("provider subnet %s deleted\n", argv[0]);
    }
    return status;
}

static int
ipam_subnet_list_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                     char *argv[] OVS_UNUSED)
{
    struct policy_db *db = vmroam_connect(ctx);
    if (!db) {
        return VMROAM_EXIT_FAILURE;
    }
    struct table t;
    table_init(&t);
    table_set_caption(&t, xstrdup("Provider subnets"));
    table_add_column(&t, "prefix");
    table_add_column(&t, "footprint");
    table_add_column(&t, "gateway");
    table_add_column(&t, "reserved");
    table_add_column(&t, "pa leases");
    const struct vmroamrec_provider_subnet *ps;
    VMROAMREC_PROVIDER_SUBNET_FOR_EACH (ps, db->idl) {
        struct ds reserved = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < ps->n_reserved; i++) {
            ds_put_format(&reserved, "%s%s", i ? " " : "", ps->reserved[i]);
        }
        table_add_row(&t);
        vmroam_cell(&t, ps->prefix);
        vmroam_cell(&t, ps->footprint);
        vmroam_cell(&t, ps->gateway);
        vmroam_cell_nocopy(&t, ds_steal_cstr(&reserved));
        vmroam_cell_nocopy(&t, xasprintf("%"PRIuSIZE,
                                      ipam_subnet_pa_leases(db->idl, ps->prefix)));
    }
    vmroam_print_table(ctx, &t);
    policy_db_close(db);
    return VMROAM_EXIT_OK;
}

static enum ipam_error
build_pool_set(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
               struct change *c)
{
    const struct vmroam_ctx *ctx = c->ctx;
    return ipam_pool_set(idl, txn, c->req.vsid,
                         ctx->ranges.names, ctx->ranges.n,
                         ctx->reserve.names, ctx->reserve.n, &c->error);
}

static int
ipam_pool_set_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
                  char *argv[] OVS_UNUSED)
{
    long long int vsid = 0;
    if (!vsid_opt(ctx, "ipam pool set", true, &vsid)) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    struct change c = {
        .build = build_pool_set, .ctx = ctx, .req = { .vsid = vsid },
    };
    int status = run_one(ctx, &c);
    if (!status) {
        printf("CA pool of VSID %lld: %"PRIuSIZE" range%s, %"PRIuSIZE
               " reserved\n", vsid, ctx->ranges.n,
               ctx->ranges.n == 1 ? "" : "s", ctx->reserve.n);
    }
    return status;
}

const struct vmroam_command vmroam_ipam_commands[] = {
    {.name = "ipam footprint add",
     .args = "NAME [--description TEXT]",
     .summary = "add a footprint (a named set of provider subnets)",
     .options = "description",
     .min_args = 1, .max_args = 1, .run = ipam_footprint_add_cmd},
    {.name = "ipam footprint list",
     .args = "",
     .summary = "footprints with their subnets and leases",
     .options = "format",
     .min_args = 0, .max_args = 0, .run = ipam_footprint_list_cmd},
    {.name = "ipam footprint show",
     .args = "NAME",
     .summary = "a footprint's subnets, hosts, PAs and VMs",
     .options = "format",
     .min_args = 1, .max_args = 1, .run = ipam_footprint_show_cmd},
    {.name = "ipam footprint del",
     .args = "NAME",
     .summary = "delete a footprint and its provider subnets (refused while "
                "a host there runs a VM or holds a PA lease)",
     .options = "",
     .min_args = 1, .max_args = 1, .run = ipam_footprint_del_cmd},
    {.name = "ipam subnet add",
     .args = "PREFIX --footprint F [--gateway A] [--reserve R]...",
     .summary = "add a provider subnet (refused if it overlaps one)",
     .options = "footprint gateway reserve",
     .min_args = 1, .max_args = 1, .run = ipam_subnet_add_cmd},
    {.name = "ipam subnet list",
     .args = "",
     .summary = "provider subnets",
     .options = "format",
     .min_args = 0, .max_args = 0, .run = ipam_subnet_list_cmd},
    {.name = "ipam subnet del",
     .args = "PREFIX",
     .summary = "delete a provider subnet without leases",
     .options = "",
     .min_args = 1, .max_args = 1, .run = ipam_subnet_del_cmd},
    {.name = "ipam pool set",
     .args = "--vsid N [--range R]... [--reserve R]...",
     .summary = "where a virtual subnet hands out CAs (default: all usable)",
     .options = "vsid range reserve",
     .min_args = 0, .max_args = 0, .run = ipam_pool_set_cmd},
    {.name = "ipam allocate",
     .args = "--vsid N [--vm NAME] [--mac MAC] [--address A] [--count N] "
             "[--owner O --ttl SECS]",
     .summary = "lease customer addresses of a virtual subnet",
     .options = "vsid vm mac address count owner ttl",
     .min_args = 0, .max_args = 0, .run = ipam_allocate_cmd},
    {.name = "ipam pa allocate",
     .args = "--host NAME [--footprint F] [--address A] [--count N] "
             "[--owner O --ttl SECS]",
     .summary = "lease a provider address to a host",
     .options = "host footprint address count owner ttl",
     .min_args = 0, .max_args = 0, .run = ipam_pa_allocate_cmd},
    {.name = "ipam release",
     .args = "ADDRESS [--vsid N] | --host NAME",
     .summary = "release a CA (with --vsid) or PA lease, or every PA lease "
                "of a host",
     .options = "vsid host",
     .min_args = 0, .max_args = 1, .run = ipam_release_cmd},
    {.name = "ipam leases",
     .args = "[--format table|json]",
     .summary = "every lease",
     .options = "format",
     .min_args = 0, .max_args = 0, .run = ipam_leases_cmd},
    {.name = "ipam check",
     .args = "",
     .summary = "lookup records without leases, leases without records",
     .options = "",
     .min_args = 0, .max_args = 0, .run = ipam_check_cmd},
    {.name = NULL},
};
