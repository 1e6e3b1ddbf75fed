#include <config.h>

#include "overlay/routectl.h"

#include <errno.h>
#include <string.h>

#include "daemon.h"
#include "jsonrpc.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "overlay/routes.h"
#include "stream.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(overlay_routectl);

#define CHECK_INTERVAL_MS 5000
#define RETRY_MS 1000
/* How long a check waits for the switch to answer.  A switch busy with a
 * large bundle answers late; one that never answers is asked afresh. */
#define ANSWER_TIMEOUT_MS 30000
/* The first request of a check; its answer is the plan's input. */
#define SHOW "ovs/route/show"

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

    /* A check under way: its connection to the switch, the request it
     * waits for the answer to and since when, and, once the switch's
     * routes are read, the changes still to make (deletions first). */
    struct jsonrpc *rpc;
    const char *asked;          /* The command of the request... */
    struct json *request_id;    /* ...its id... */
    long long int asked_at;     /* ...and when it was sent. */
    struct overlay_routes del, add;
    size_t n_del, n_add;        /* Of them, already made. */
};

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

struct overlay_routectl *
overlay_routectl_create(const char *ctl_path, const char *rundir)
{
    struct overlay_routectl *rc = xzalloc(sizeof *rc);
    rc->ctl_path = nullable_xstrdup(ctl_path);
    rc->rundir = xstrdup(rundir);
    overlay_routes_init(&rc->desired);
    overlay_routes_init(&rc->del);
    overlay_routes_init(&rc->add);
    return rc;
}

/* Drops the check under way, if any. */
static void
stop_check(struct overlay_routectl *rc)
{
    jsonrpc_close(rc->rpc);
    rc->rpc = NULL;
    json_destroy(rc->request_id);
    rc->request_id = NULL;
    overlay_routes_destroy(&rc->del);
    overlay_routes_destroy(&rc->add);
    rc->n_del = rc->n_add = 0;
}

/* Ends the check under way with 'error' (taken over; NULL if the switch
 * holds the desired routes now), and schedules the next. */
static void
end_check(struct overlay_routectl *rc, char *error)
{
    stop_check(rc);
    if (error) {
        VLOG_WARN_RL(&rl, "switch routes: %s", error);
    }
    free(rc->error);
    rc->error = error;
    rc->converged = !error;
    rc->next_check = time_msec() + (error ? RETRY_MS : CHECK_INTERVAL_MS);
}

void
overlay_routectl_destroy(struct overlay_routectl *rc)
{
    if (rc) {
        stop_check(rc);
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
    stop_check(rc);             /* Its plan was for the old routes. */
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

/* Asks the switch to run 'command' (a string constant) with 'argc'
 * arguments 'argv', as "ovs-appctl" would; its answer comes to
 * overlay_routectl_run().  A request that cannot be sent fails the
 * connection, which the next jsonrpc_recv() reports. */
static void
ask(struct overlay_routectl *rc, const char *command, int argc,
    char *argv[])
{
    struct json **args = xmalloc(argc * sizeof *args);
    for (int i = 0; i < argc; i++) {
        args[i] = json_string_create(argv[i]);
    }
    struct json *id;
    struct jsonrpc_msg *request = jsonrpc_create_request(
        command, json_array_create(args, argc), &id);
    json_destroy(rc->request_id);
    rc->asked = command;
    rc->request_id = id;
    rc->asked_at = time_msec();
    jsonrpc_send(rc->rpc, request);
}

/* Asks for the next route change of the plan, or ends the check once all
 * are made. */
static void
ask_next_change(struct overlay_routectl *rc)
{
    if (rc->n_del < rc->del.n) {
        struct overlay_route *r = &rc->del.routes[rc->n_del];
        ask(rc, "ovs/route/del", 1, &r->prefix);
    } else if (rc->n_add < rc->add.n) {
        struct overlay_route *r = &rc->add.routes[rc->n_add];
        char *argv[3] = { r->prefix, r->dev, r->gw };
        ask(rc, "ovs/route/add", r->gw ? 3 : 2, argv);
    } else {
        end_check(rc, NULL);
    }
}

/* Takes the switch's routes, 'show', and plans what makes them the desired
 * ones. */
static void
plan(struct overlay_routectl *rc, const char *show)
{
    struct overlay_routes installed;
    overlay_routes_parse(show, &installed);
    if (installed.system && !rc->warned_system) {
        rc->warned_system = true;
        VLOG_WARN("ovs-vswitchd also routes along the kernel's routes, which "
                  "it reloads at every link change of this host, ending no "
                  "tunnel meanwhile: run it with --disable-system-route");
    }
    overlay_routes_plan(&installed, &rc->desired, rc->dev, &rc->del,
                        &rc->add);
    overlay_routes_destroy(&installed);
}

/* Takes the switch's answer 'output' to the last request. */
static void
take_answer(struct overlay_routectl *rc, const char *output)
{
    if (!strcmp(rc->asked, SHOW)) {
        plan(rc, output);
    } else {
        bool add = rc->n_del == rc->del.n;
        const struct overlay_route *r = (add ? &rc->add.routes[rc->n_add++]
                                         : &rc->del.routes[rc->n_del++]);
        VLOG_INFO("switch route %s: %s dev %s%s%s", add ? "added" : "deleted",
                  r->prefix, r->dev, r->gw ? " via " : "",
                  r->gw ? r->gw : "");
    }
    ask_next_change(rc);
}

/* Why reply 'msg' to the last request does not say that it was carried
 * out, or NULL if it does, its output then in '*output'. */
static char *
reply_error(const struct overlay_routectl *rc, const struct jsonrpc_msg *msg,
            const char **output)
{
    if (msg->type == JSONRPC_ERROR) {
        return xasprintf("%s: %s", rc->asked,
                         (msg->error && msg->error->type == JSON_STRING
                          ? json_string(msg->error) : "refused"));
    } else if (!msg->result || msg->result->type != JSON_STRING) {
        return xasprintf("%s: the switch's answer has no output", rc->asked);
    }
    *output = json_string(msg->result);
    return NULL;
}

/* Goes on with the check under way: takes what the switch answered, or
 * gives up on a switch that does not answer. */
static void
continue_check(struct overlay_routectl *rc)
{
    jsonrpc_run(rc->rpc);
    for (;;) {
        struct jsonrpc_msg *msg;
        int error = jsonrpc_recv(rc->rpc, &msg);
        if (error == EAGAIN) {
            break;
        } else if (error) {
            end_check(rc, xasprintf("%s: %s", rc->target,
                                    ovs_retval_to_string(error)));
            return;
        }
        if (json_equal(msg->id, rc->request_id)) {
            const char *output = NULL;
            char *why = reply_error(rc, msg, &output);
            if (why) {
                end_check(rc, why);
            } else {
                take_answer(rc, output);
            }
        }
        jsonrpc_msg_destroy(msg);
        if (!rc->rpc) {
            return;
        }
    }
    if (time_msec() >= rc->asked_at + ANSWER_TIMEOUT_MS) {
        end_check(rc, xasprintf("%s did not answer within %d s", rc->target,
                                ANSWER_TIMEOUT_MS / 1000));
    }
}

/* Connects to the switch at 'target' (NULL: none runs) and asks for its
 * routes, the first step of a check. */
static void
start_check(struct overlay_routectl *rc, const char *target)
{
    if (!target) {
        end_check(rc, xasprintf("no ovs-vswitchd runs (no ovs-vswitchd.pid "
                                "in %s)", rc->rundir));
        return;
    }
    char *name = xasprintf("unix:%s", target);
    struct stream *stream;
    int error = stream_open(name, &stream, DSCP_DEFAULT);
    free(name);
    if (error) {
        end_check(rc, xasprintf("%s: %s", target, ovs_strerror(error)));
        return;
    }
    rc->rpc = jsonrpc_open(stream);
    ask(rc, SHOW, 0, NULL);
}

/* Keeps the switch's routes the desired ones, without ever waiting for the
 * switch: a check is a few requests on its control socket, each taken up
 * when its answer comes. */
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
        stop_check(rc);
        rc->next_check = 0;
    }
    if (rc->rpc) {
        continue_check(rc);
    } else if (time_msec() >= rc->next_check) {
        start_check(rc, target);
    }
    free(target);
}

void
overlay_routectl_wait(struct overlay_routectl *rc)
{
    if (rc->rpc) {
        jsonrpc_wait(rc->rpc);
        jsonrpc_recv_wait(rc->rpc);
        poll_timer_wait_until(rc->asked_at + ANSWER_TIMEOUT_MS);
    } else if (rc->dev) {
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
    ds_put_format(s, "%s%s%s%s", rc->desired.n ? "; " : "none; ",
                  rc->converged ? "in place" : "not in place",
                  rc->error ? ": " : "", rc->error ? rc->error : "");
    if (rc->rpc) {
        ds_put_format(s, " (checking: the switch has not answered for "
                      "%lld ms)", time_msec() - rc->asked_at);
    }
    ds_put_char(s, '\n');
}
