#include <config.h>

#include "overlay/routectl.h"

#include <errno.h>
#include <string.h>

#include "daemon.h"
#include "jsonrpc.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "overlay/routes.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(overlay_routectl);

#define CHECK_INTERVAL_MS 5000
#define RETRY_MS 1000

struct overlay_routectl {
    char *ctl_path;             /* Given, or NULL to follow the pidfile. */
    char *rundir;
    char *pa_cidr, *gateway, *dev;  /* What 'desired' was made from. */
    struct overlay_routes desired;
    char *target;               /* The socket last talked to. */
    long long int next_check;   /* 0: check at once. */
    bool converged;             /* The switch held 'desired' at last check. */
    bool warned_system;
    char *error;                /* The last check's failure, or NULL. */
};

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

struct overlay_routectl *
overlay_routectl_create(const char *ctl_path, const char *rundir)
{
    struct overlay_routectl *rc = xzalloc(sizeof *rc);
    rc->ctl_path = nullable_xstrdup(ctl_path);
    rc->rundir = xstrdup(rundir);
    overlay_routes_init(&rc->desired);
    return rc;
}

void
overlay_routectl_destroy(struct overlay_routectl *rc)
{
    if (rc) {
        free(rc->ctl_path);
        free(rc->rundir);
        free(rc->pa_cidr);
        free(rc->gateway);
        free(rc->dev);
        overlay_routes_destroy(&rc->desired);
        free(rc->target);
        free(rc->error);
        free(rc);
    }
}

/* Makes the routes that 'pa_cidr' (NULL: none) out of 'dev' via 'gateway'
 * call for the ones the switch should hold.  Called on every pass of the
 * agent: works only when one of them changed. */
void
overlay_routectl_set(struct overlay_routectl *rc, const char *pa_cidr,
                     const char *gateway, const char *dev)
{
    if (!pa_cidr && !rc->dev) {
        return;                 /* No PA yet: routes to keep come with one. */
    }
    if (nullable_string_is_equal(pa_cidr, rc->pa_cidr)
        && nullable_string_is_equal(gateway, rc->gateway)
        && nullable_string_is_equal(dev, rc->dev)) {
        return;
    }
    free(rc->pa_cidr);
    free(rc->gateway);
    free(rc->dev);
    rc->pa_cidr = nullable_xstrdup(pa_cidr);
    rc->gateway = nullable_xstrdup(gateway);
    rc->dev = nullable_xstrdup(dev);

    overlay_routes_destroy(&rc->desired);
    if (pa_cidr) {
        char *error = overlay_routes_for_pa(pa_cidr, gateway, dev,
                                            &rc->desired);
        if (error) {
            VLOG_WARN("%s", error);
            free(error);
        }
    }
    rc->next_check = 0;
}

/* The control socket of the switch now running, or NULL if none runs. */
static char *
find_target(const struct overlay_routectl *rc)
{
    if (rc->ctl_path) {
        return xstrdup(rc->ctl_path);
    }
    char *pidfile = xasprintf("%s/ovs-vswitchd.pid", rc->rundir);
    pid_t pid = read_pidfile(pidfile);
    free(pidfile);
    return pid > 0 ? xasprintf("%s/ovs-vswitchd.%ld.ctl", rc->rundir,
                               (long int) pid)
                   : NULL;
}

/* Runs 'command' with 'argv' on 'client'; returns its output, or NULL and
 * an error in '*errorp'. */
static char *
transact(struct jsonrpc *client, const char *command, int argc,
         char *argv[], char **errorp)
{
    char *result = NULL, *err = NULL;
    int error = unixctl_client_transact(client, command, argc, argv,
                                        &result, &err);
    if (error) {
        *errorp = xasprintf("%s: %s", command, ovs_strerror(error));
    } else if (err) {
        *errorp = xasprintf("%s: %s", command, err);
        free(result);
        result = NULL;
    }
    free(err);
    return result;
}

static char *
apply_route(struct jsonrpc *client, const struct overlay_route *r, bool add)
{
    char *argv[3] = { r->prefix, r->dev, r->gw };
    char *error = NULL;
    char *out = add ? transact(client, "ovs/route/add", r->gw ? 3 : 2, argv,
                               &error)
                    : transact(client, "ovs/route/del", 1, argv, &error);
    if (!error) {
        VLOG_INFO("switch route %s: %s dev %s%s%s", add ? "added" : "deleted",
                  r->prefix, r->dev, r->gw ? " via " : "",
                  r->gw ? r->gw : "");
    }
    free(out);
    return error;
}

/* Reads the switch's routes on 'client' and makes them the desired ones. */
static char *
reconcile(struct overlay_routectl *rc, struct jsonrpc *client)
{
    char *error = NULL;
    char *show = transact(client, "ovs/route/show", 0, NULL, &error);
    if (error) {
        return error;
    }

    struct overlay_routes installed, del, add;
    overlay_routes_parse(show, &installed);
    free(show);
    if (installed.system && !rc->warned_system) {
        rc->warned_system = true;
        VLOG_WARN("ovs-vswitchd also routes along the kernel's routes, which "
                  "it reloads at every link change of this host, ending no "
                  "tunnel meanwhile: run it with --disable-system-route");
    }

    overlay_routes_plan(&installed, &rc->desired, rc->dev, &del, &add);
    for (size_t i = 0; !error && i < del.n; i++) {
        error = apply_route(client, &del.routes[i], false);
    }
    for (size_t i = 0; !error && i < add.n; i++) {
        error = apply_route(client, &add.routes[i], true);
    }
    overlay_routes_destroy(&installed);
    overlay_routes_destroy(&del);
    overlay_routes_destroy(&add);
    return error;
}

/* Connects to the switch at 'target' (NULL: none runs) and makes its
 * routes the desired ones.  Returns an error message on failure. */
static char *
check(struct overlay_routectl *rc, const char *target)
{
    if (!target) {
        return xasprintf("no ovs-vswitchd runs (no ovs-vswitchd.pid in %s)",
                         rc->rundir);
    }

    struct jsonrpc *client;
    int retval = unixctl_client_create(target, &client);
    if (retval) {
        return xasprintf("%s: %s", target, ovs_strerror(retval));
    }
    char *error = reconcile(rc, client);
    jsonrpc_close(client);
    return error;
}

void
overlay_routectl_run(struct overlay_routectl *rc)
{
    if (!rc->dev) {
        return;
    }
    char *target = find_target(rc);
    if (!nullable_string_is_equal(target, rc->target)) {
        free(rc->target);
        rc->target = nullable_xstrdup(target);
        rc->next_check = 0;
    }
    if (time_msec() >= rc->next_check) {
        char *error = check(rc, target);
        if (error) {
            VLOG_WARN_RL(&rl, "switch routes: %s", error);
        }
        free(rc->error);
        rc->error = error;
        rc->converged = !error;
        rc->next_check = time_msec() + (error ? RETRY_MS : CHECK_INTERVAL_MS);
    }
    free(target);
}

void
overlay_routectl_wait(struct overlay_routectl *rc)
{
    if (rc->dev) {
        poll_timer_wait_until(rc->next_check);
    }
}

void
overlay_routectl_describe(const struct overlay_routectl *rc, struct ds *s)
{
    if (!rc->dev) {
        return;
    }
    ds_put_format(s, "switch routes (%s): ", rc->target ? rc->target
                                                        : "no ovs-vswitchd");
    for (size_t i = 0; i < rc->desired.n; i++) {
        const struct overlay_route *r = &rc->desired.routes[i];
        ds_put_format(s, "%s%s%s%s", i ? ", " : "", r->prefix,
                      r->gw ? " via " : "", r->gw ? r->gw : "");
    }
    ds_put_format(s, "%s%s%s%s\n", rc->desired.n ? "; " : "none; ",
                  rc->converged ? "in place" : "not in place",
                  rc->error ? ": " : "", rc->error ? rc->error : "");
}
