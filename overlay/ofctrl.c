#include <config.h>

#include "overlay/ofctrl.h"

#include <string.h>

#include "byte-order.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-connection.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "overlay/desired.h"
#include "overlay/flow.h"
#include "packets.h"
#include "socket-util.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ofctrl);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

/* One flow_mod of a bundle on its way: adds (or modifies) 'new', a flow
 * of 'installed', or, with 'new' NULL, deletes 'old'.  'old' is the flow
 * that 'installed' held before, if any (overlay_flows_apply()), kept until
 * the flow_mod that names it is sent. */
struct outgoing {
    struct overlay_flow *new;
    struct overlay_flow *old;
};

/* A bundle sent and not yet committed. */
struct pending {
    ovs_be32 commit_xid;
    uint64_t req;
};

struct overlay_ofctrl {
    struct rconn *rconn;
    struct rconn_packet_counter *backlog;   /* Queued, not yet sent. */
    unsigned int conn_seqno;    /* rconn's connection seqno we synced to. */
    bool asked_packet_ins;      /* On this connection. */
    bool need_resync;
    unsigned int n_resyncs;

    struct hmap installed;      /* What the switch holds, as we sent it. */
    uint32_t next_bundle_id;

    /* A bundle on its way: 'out[next_out...]' are still to be sent, then
     * its commit, as request 'out_req'.  'installed' already holds what
     * the switch will once it commits. */
    struct outgoing *out;       /* NULL if none. */
    size_t n_out, next_out, allocated_out;
    uint32_t out_id;
    uint64_t out_req;

    struct pending *pending;    /* Oldest first. */
    size_t n_pending, allocated_pending;
    uint64_t put_req;           /* Of the last put. */
    uint64_t acked;

    struct overlay_packet_in *packet_ins;   /* Not yet taken. */
    size_t n_packet_ins, allocated_packet_ins;
};

/* Bytes a bundle queues at most before it waits for the socket to take
 * them: the switch installs the first flows of a large set while the agent
 * encodes the rest, and the agent's loop goes on between the pieces. */
#define MAX_BACKLOG (1024 * 1024)

static void send_more(struct overlay_ofctrl *);
static void stop_sending(struct overlay_ofctrl *);

/* Packet-ins kept at most between two takes: the pipeline sends only a
 * migrated VM's first announcements, a handful per migration. */
#define MAX_PACKET_INS 64

struct overlay_ofctrl *
overlay_ofctrl_create(const char *target)
{
    struct overlay_ofctrl *oc = xzalloc(sizeof *oc);
    oc->rconn = rconn_create(5, 4, DSCP_DEFAULT,
                             (1u << OFP13_VERSION) | (1u << OFP14_VERSION)
                             | (1u << OFP15_VERSION));
    rconn_connect(oc->rconn, target, target);
    oc->backlog = rconn_packet_counter_create();
    hmap_init(&oc->installed);
    oc->need_resync = true;
    return oc;
}

void
overlay_ofctrl_destroy(struct overlay_ofctrl *oc)
{
    if (oc) {
        rconn_destroy(oc->rconn);
        rconn_packet_counter_destroy(oc->backlog);
        overlay_flows_clear(&oc->installed);
        hmap_destroy(&oc->installed);
        stop_sending(oc);
        free(oc->pending);
        free(oc->packet_ins);
        free(oc);
    }
}

static void
ack_bundle(struct overlay_ofctrl *oc, ovs_be32 xid, bool ok)
{
    for (size_t i = 0; i < oc->n_pending; i++) {
        if (oc->pending[i].commit_xid == xid) {
            if (ok) {
                oc->acked = MAX(oc->acked, oc->pending[i].req);
            }
            memmove(&oc->pending[i], &oc->pending[i + 1],
                    (oc->n_pending - i - 1) * sizeof *oc->pending);
            oc->n_pending--;
            return;
        }
    }
}

static void
handle_error(struct overlay_ofctrl *oc, const struct ofp_header *oh)
{
    struct ofpbuf payload;
    enum ofperr error = ofperr_decode_msg(oh, &payload);
    VLOG_WARN_RL(&rl, "switch rejected a bundle (%s); resyncing all flows",
                 error ? ofperr_to_string(error) : "unknown error");
    /* The bundle was atomic, so none of it applied: what we think is
     * installed is wrong now. */
    oc->need_resync = true;
    ack_bundle(oc, oh->xid, false);
}

/* Keeps what the agent needs of a packet the pipeline sent it: the virtual
 * subnet (metadata) and Ethernet source. */
static void
handle_packet_in(struct overlay_ofctrl *oc, const struct ofp_header *oh)
{
    struct ofputil_packet_in pin;
    if (ofputil_decode_packet_in(oh, true, NULL, NULL, &pin, NULL, NULL,
                                 NULL)
        || pin.packet_len < sizeof(struct eth_header)
        || oc->n_packet_ins >= MAX_PACKET_INS) {
        return;
    }
    const struct eth_header *eth = pin.packet;
    if (oc->n_packet_ins >= oc->allocated_packet_ins) {
        oc->packet_ins = x2nrealloc(oc->packet_ins, &oc->allocated_packet_ins,
                                    sizeof *oc->packet_ins);
    }
    oc->packet_ins[oc->n_packet_ins++] = (struct overlay_packet_in) {
        .vsid = ntohll(pin.flow_metadata.flow.metadata),
        .eth_src = eth->eth_src,
    };
}

static void
handle_message(struct overlay_ofctrl *oc, const struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        return;
    }
    if (type == OFPTYPE_ECHO_REQUEST) {
        rconn_send(oc->rconn, ofputil_encode_echo_reply(oh), NULL);
    } else if (type == OFPTYPE_ERROR) {
        handle_error(oc, oh);
    } else if (type == OFPTYPE_PACKET_IN) {
        handle_packet_in(oc, oh);
    } else if (type == OFPTYPE_BUNDLE_CONTROL) {
        struct ofputil_bundle_ctrl_msg bc;
        if (!ofputil_decode_bundle_ctrl(oh, &bc)
            && bc.type == OFPBCT_COMMIT_REPLY) {
            ack_bundle(oc, oh->xid, true);
        }
    }
}

/* The switch sends a service connection such as ours no asynchronous
 * messages unless asked: ask for the packets its flows send to the
 * controller. */
static void
ask_packet_ins(struct overlay_ofctrl *oc)
{
    struct ofputil_async_cfg ac = OFPUTIL_ASYNC_CFG_INIT;
    ac.primary[OAM_PACKET_IN] = 1u << OFPR_ACTION;
    rconn_send(oc->rconn, ofputil_encode_set_async_config(
                   &ac, 1u << OAM_PACKET_IN, rconn_get_version(oc->rconn)),
               NULL);
    oc->asked_packet_ins = true;
}

void
overlay_ofctrl_run(struct overlay_ofctrl *oc)
{
    rconn_run(oc->rconn);
    if (rconn_get_connection_seqno(oc->rconn) != oc->conn_seqno) {
        oc->conn_seqno = rconn_get_connection_seqno(oc->rconn);
        oc->need_resync = true;
        oc->n_pending = 0;
        oc->asked_packet_ins = false;
        stop_sending(oc);
    }
    if (!oc->asked_packet_ins && rconn_is_connected(oc->rconn)) {
        ask_packet_ins(oc);
    }
    for (int i = 0; i < 100; i++) {
        struct ofpbuf *msg = rconn_recv(oc->rconn);
        if (!msg) {
            break;
        }
        handle_message(oc, msg);
        ofpbuf_delete(msg);
    }
    if (oc->out) {
        send_more(oc);
    }
}

/* Sends the packet-out 's', in ovs-ofctl syntax.  Returns false if not
 * connected or 's' is no packet-out (a bug, logged). */
bool
overlay_ofctrl_packet_out(struct overlay_ofctrl *oc, const char *s)
{
    if (!rconn_is_connected(oc->rconn)) {
        return false;
    }
    struct ofputil_packet_out po;
    enum ofputil_protocol usable;
    char *error = parse_ofp_packet_out_str(&po, s, NULL, NULL, &usable);
    if (error) {
        VLOG_ERR_RL(&rl, "cannot encode packet-out \"%s\": %s", s, error);
        free(error);
        return false;
    }
    enum ofputil_protocol protocol = ofputil_protocol_from_ofp_version(
        rconn_get_version(oc->rconn));
    rconn_send(oc->rconn, ofputil_encode_packet_out(&po, protocol), NULL);
    free(CONST_CAST(void *, po.packet));
    free(po.ofpacts);
    return true;
}

/* Returns the packets the pipeline sent to the agent since the last call,
 * in '*packet_ins' (the caller frees it). */
size_t
overlay_ofctrl_take_packet_ins(struct overlay_ofctrl *oc,
                               struct overlay_packet_in **packet_ins)
{
    size_t n = oc->n_packet_ins;
    *packet_ins = oc->packet_ins;
    oc->packet_ins = NULL;
    oc->n_packet_ins = oc->allocated_packet_ins = 0;
    return n;
}

void
overlay_ofctrl_wait(struct overlay_ofctrl *oc)
{
    rconn_run_wait(oc->rconn);
    rconn_recv_wait(oc->rconn);
    if (oc->out
        && rconn_packet_counter_n_bytes(oc->backlog) <= MAX_BACKLOG) {
        poll_immediate_wake();
    }
}

/* Sends 'msg' (which it takes) inside bundle 'id'. */
static void
bundle_add(struct overlay_ofctrl *oc, uint32_t id, struct ofpbuf *msg)
{
    struct ofputil_bundle_add_msg bam = {
        .bundle_id = id,
        .flags = OFPBF_ORDERED | OFPBF_ATOMIC,
        .msg = msg->data,
    };
    enum ofp_version version = rconn_get_version(oc->rconn);
    rconn_send(oc->rconn, ofputil_encode_bundle_add(version, &bam),
               oc->backlog);
    ofpbuf_delete(msg);
}

static ovs_be32
bundle_ctrl(struct overlay_ofctrl *oc, uint32_t id, uint16_t type)
{
    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = id,
        .type = type,
        .flags = OFPBF_ORDERED | OFPBF_ATOMIC,
    };
    struct ofpbuf *msg = ofputil_encode_bundle_ctrl_request(
        rconn_get_version(oc->rconn), &bc);
    ovs_be32 xid = ((const struct ofp_header *) msg->data)->xid;
    rconn_send(oc->rconn, msg, NULL);
    return xid;
}

/* Adds to bundle 'id' a flow_mod 'command' for 'f' (NULL: every flow). */
static void
bundle_flow_mod(struct overlay_ofctrl *oc, uint32_t id, int command,
                const struct overlay_flow *f)
{
    struct ofputil_flow_mod fm;
    overlay_flow_mod(f, command, &fm);
    enum ofputil_protocol protocol = ofputil_protocol_from_ofp_version(
        rconn_get_version(oc->rconn));
    bundle_add(oc, id, ofputil_encode_flow_mod(&fm, protocol));
}

static void
add_pending(struct overlay_ofctrl *oc, ovs_be32 commit_xid, uint64_t req)
{
    if (oc->n_pending >= oc->allocated_pending) {
        oc->pending = x2nrealloc(oc->pending, &oc->allocated_pending,
                                 sizeof *oc->pending);
    }
    oc->pending[oc->n_pending++] = (struct pending) {
        .commit_xid = commit_xid,
        .req = req,
    };
}

/* Opens the bundle of request 'req', to which the caller adds 'n'
 * flow_mods. */
static void
start_sending(struct overlay_ofctrl *oc, uint64_t req, size_t n)
{
    oc->allocated_out = MAX(n, 1);
    oc->out = xmalloc(oc->allocated_out * sizeof *oc->out);
    oc->n_out = oc->next_out = 0;
    oc->out_id = ++oc->next_bundle_id;
    oc->out_req = req;
    bundle_ctrl(oc, oc->out_id, OFPBCT_OPEN_REQUEST);
}

static void
add_outgoing(struct overlay_ofctrl *oc, struct overlay_flow *new,
             struct overlay_flow *old)
{
    if (oc->n_out >= oc->allocated_out) {
        oc->out = x2nrealloc(oc->out, &oc->allocated_out, sizeof *oc->out);
    }
    oc->out[oc->n_out++] = (struct outgoing) { new, old };
}

/* Opens a bundle that deletes every flow and adds 'desired', as request
 * 'req'. */
static void
start_resync(struct overlay_ofctrl *oc, const struct hmap *desired,
             uint64_t req)
{
    const struct overlay_flow *f;

    start_sending(oc, req, hmap_count(desired));
    bundle_flow_mod(oc, oc->out_id, OFPFC_DELETE, NULL);
    overlay_flows_clear(&oc->installed);
    HMAP_FOR_EACH (f, node, desired) {
        struct overlay_flow *copy = overlay_flow_clone(f);
        hmap_insert(&oc->installed, &copy->node, f->node.hash);
        add_outgoing(oc, copy, NULL);
    }
    oc->need_resync = false;
    oc->n_resyncs++;
    VLOG_INFO("replacing all flows with %"PRIuSIZE" in one bundle",
              oc->n_out);
}

/* Opens a bundle of 'changes', as request 'req', and makes 'installed'
 * follow them. */
static void
start_changes(struct overlay_ofctrl *oc,
              const struct overlay_flow_change *changes, size_t n,
              uint64_t req)
{
    start_sending(oc, req, n);
    for (size_t i = 0; i < n; i++) {
        const struct overlay_flow_change *c = &changes[i];
        struct overlay_flow *old = overlay_flows_apply(&oc->installed, c);
        add_outgoing(oc, (c->new ? overlay_flows_find(&oc->installed, c->new)
                          : NULL), old);
    }
    VLOG_DBG("sending %"PRIuSIZE" flow changes in bundle %"PRIu32, n,
             oc->out_id);
}

/* Sends the bundle's next flow_mods, as many as fit in MAX_BACKLOG, and
 * its commit after the last. */
static void
send_more(struct overlay_ofctrl *oc)
{
    while (oc->next_out < oc->n_out
           && rconn_packet_counter_n_bytes(oc->backlog) <= MAX_BACKLOG
           && rconn_is_connected(oc->rconn)) {
        struct outgoing *o = &oc->out[oc->next_out++];
        /* An add replaces a flow with the same key in place. */
        bundle_flow_mod(oc, oc->out_id,
                        o->new ? OFPFC_ADD : OFPFC_DELETE_STRICT,
                        o->new ? o->new : o->old);
        overlay_flow_destroy(o->old);
        o->old = NULL;
    }
    if (oc->next_out == oc->n_out) {
        add_pending(oc, bundle_ctrl(oc, oc->out_id, OFPBCT_COMMIT_REQUEST),
                    oc->out_req);
        stop_sending(oc);
    }
}

/* Drops what is left of the bundle on its way (the connection went: the
 * next put resyncs). */
static void
stop_sending(struct overlay_ofctrl *oc)
{
    for (size_t i = oc->next_out; i < oc->n_out; i++) {
        overlay_flow_destroy(oc->out[i].old);
    }
    free(oc->out);
    oc->out = NULL;
    oc->n_out = oc->next_out = oc->allocated_out = 0;
}

/* Makes the switch hold 'desired', as request number 'req', and clears
 * what 'desired' tracked as changed.  A put with the same 'req' as the
 * last one is a no-op unless the switch needs a resync.  Returns false if
 * not connected (the caller tries again later). */
bool
overlay_ofctrl_put(struct overlay_ofctrl *oc, struct overlay_desired *desired,
                   uint64_t req)
{
    if (!rconn_is_connected(oc->rconn)) {
        return false;
    }
    if (oc->out) {
        /* Once it is all sent, the next put sends what changed since. */
        return true;
    }
    if (req == oc->put_req && !oc->need_resync) {
        return true;
    }
    oc->put_req = req;
    if (oc->need_resync) {
        overlay_desired_clear_changed(desired);
        start_resync(oc, &desired->flows, req);
        send_more(oc);
        return true;
    }

    struct overlay_flow_change *changes;
    size_t n = overlay_desired_diff(desired, &oc->installed, &changes);
    overlay_desired_clear_changed(desired);
    if (!n) {
        /* Nothing to send: 'req' is in once what is already on its way
         * is. */
        if (oc->n_pending) {
            oc->pending[oc->n_pending - 1].req = req;
        } else {
            oc->acked = MAX(oc->acked, req);
        }
        free(changes);
        return true;
    }

    start_changes(oc, changes, n, req);
    free(changes);
    send_more(oc);
    return true;
}

uint64_t
overlay_ofctrl_acked(const struct overlay_ofctrl *oc)
{
    return oc->acked;
}

bool
overlay_ofctrl_is_connected(const struct overlay_ofctrl *oc)
{
    return rconn_is_connected(oc->rconn);
}

size_t
overlay_ofctrl_n_flows(const struct overlay_ofctrl *oc)
{
    return hmap_count(&oc->installed);
}

unsigned int
overlay_ofctrl_n_resyncs(const struct overlay_ofctrl *oc)
{
    return oc->n_resyncs;
}

/* Whether a bundle is on its way to the switch; if so, how many of its
 * flow_mods were sent, of how many. */
bool
overlay_ofctrl_sending(const struct overlay_ofctrl *oc, size_t *sent,
                       size_t *total)
{
    *sent = oc->next_out;
    *total = oc->n_out;
    return oc->out != NULL;
}

void
overlay_ofctrl_force_resync(struct overlay_ofctrl *oc)
{
    oc->need_resync = true;
}
