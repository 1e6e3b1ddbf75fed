#include <config.h>

#include "overlay/pipeline.h"

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "overlay/desired.h"
#include "policy/policy.h"
#include "sset.h"
#include "util.h"

/* NVGRE (RFC 7637): the 32-bit key is VSID << 8 | FlowID.  vmroam sends
 * FlowID 0 and accepts any. */
#define GRE_KEY_MASK 0xffffff00

/* Flows learnt from a migrated VM's announcement outrank the agent's own
 * (priority 100), but not the delivery to a local VM that is not migrating
 * away.  A host's newest announcement for a MAC replaces the one before,
 * so redirects lead to where the VM was announced last. */
#define LEARNT_PRIORITY 120
#define LEARNT_TIMEOUT_S 10
#define SETTLED_PRIORITY 125
/* Packets for a VM whose guest paused here for the last time of its
 * migration go to its destination: above its delivery here, settled or
 * not (a migration's start is no change to the flows it needs). */
#define HOLD_PRIORITY 127
/* A VM migrating here receives what comes by tunnel at once: its port
 * holds it until the VM runs.  Above what this host learnt or keeps to
 * send on a VM that left it (the same VM, back within seconds), which
 * would send the packets held for it back to its source. */
#define INCOMING_PRIORITY 122

/* Marks a neighbour advertisement that the responder made (registers start
 * at 0 for every packet the switch receives). */
#define ND_ANSWER_REG 2

/* The MAC that answers an ARP or ND question, in its low 48 bits, which
 * the flow for the address asked about writes with ANSWER_FLAG set and
 * the answer's flow common to all addresses reads (registers xreg2 =
 * reg4:reg5, and reg6 to swap ARP's addresses). */
#define ANSWER_XREG 2
#define ANSWER_REG (MFF_XREG0 + ANSWER_XREG)
#define ANSWER_FLAG (UINT64_C(1) << 48)
#define ANSWER_SWAP_REG MFF_REG6

uint32_t
overlay_gre_key(int64_t vsid)
{
    return (uint32_t) vsid << 8;
}

/* The distributed router's MAC in 'routing_domain': locally administered,
 * derived from the name, so every host answers with the same one. */
struct eth_addr
overlay_router_mac(const char *routing_domain)
{
    uint32_t h = hash_string(routing_domain, 0);
    return (struct eth_addr) { .ea = { 0x02, 0x76, 0x72, h >> 16, h >> 8,
                                       h } };
}

/* State of one translation. */
struct xlate {
    const struct overlay_input *in;
    const struct overlay_port *ports;   /* The VM ports bound here. */
    size_t n_ports;
    struct overlay_desired *desired;
    uint64_t owner;             /* Of the flows added now. */
    const struct sset *local_rds;

    /* The flow being built: flow_start(), then its match and actions,
     * then flow_add(). */
    struct match match;
    struct ofpbuf ofpacts;
    uint64_t ofpacts_stub[64];
};

static void
xlate_init(struct xlate *x, const struct overlay_input *in,
           struct overlay_desired *desired, const struct sset *local_rds)
{
    *x = (struct xlate) {
        .in = in,
        .desired = desired,
        .local_rds = local_rds,
    };
    ofpbuf_use_stub(&x->ofpacts, x->ofpacts_stub, sizeof x->ofpacts_stub);
}

static void
xlate_destroy(struct xlate *x)
{
    ofpbuf_uninit(&x->ofpacts);
}

/* Starts a new flow, matching everything, with no actions (a drop); returns
 * its match. */
static struct match *
flow_start(struct xlate *x)
{
    match_init_catchall(&x->match);
    ofpbuf_clear(&x->ofpacts);
    return &x->match;
}

/* Adds the flow built since flow_start(). */
static void
flow_add(struct xlate *x, enum overlay_table table, uint16_t priority,
         uint64_t cookie)
{
    /* A match on any field of an Ethernet frame matches Ethernet frames
     * only, as the switch reads it (and as ovs-ofctl writes it). */
    const struct flow_wildcards *wc = &x->match.wc;
    if (wc->masks.dl_type || !eth_addr_is_zero(wc->masks.dl_src)
        || !eth_addr_is_zero(wc->masks.dl_dst)) {
        match_set_default_packet_type(&x->match);
    }
    overlay_desired_add(x->desired, x->owner, table, priority, cookie,
                        &x->match, x->ofpacts.data, x->ofpacts.size);
}

/* Matches: each also matches the protocol its field needs. */

static ovs_be32
ipv4_of(const struct in6_addr *a)
{
    return in6_addr_get_mapped_ipv4(a);
}

/* 'a'/'plen' as a packet's source or destination IP address. */
static void
match_ip(struct match *m, bool src, const struct in6_addr *a,
         unsigned int plen)
{
    if (policy_addr_is_ipv4(a)) {
        ovs_be32 mask = be32_prefix_mask(plen - 96);
        match_set_dl_type(m, htons(ETH_TYPE_IP));
        (src ? match_set_nw_src_masked
             : match_set_nw_dst_masked)(m, ipv4_of(a), mask);
    } else {
        struct in6_addr mask = ipv6_create_mask(plen);
        match_set_dl_type(m, htons(ETH_TYPE_IPV6));
        (src ? match_set_ipv6_src_masked
             : match_set_ipv6_dst_masked)(m, a, &mask);
    }
}

static void
match_icmp(struct match *m, bool ipv6, uint8_t type)
{
    match_set_dl_type(m, htons(ipv6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP));
    match_set_nw_proto(m, ipv6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
    match_set_icmp_type(m, type);
}

/* An ARP packet whose sender (or target) address is in 'a'/'plen', an
 * IPv4 address (96..128). */
static void
match_arp(struct match *m, bool sender, const struct in6_addr *a,
          unsigned int plen)
{
    ovs_be32 mask = be32_prefix_mask(plen - 96);
    match_set_dl_type(m, htons(ETH_TYPE_ARP));
    (sender ? match_set_nw_src_masked
            : match_set_nw_dst_masked)(m, ipv4_of(a), mask);
}

static void
match_metadata(struct match *m, int64_t vsid)
{
    match_set_metadata(m, htonll(vsid));
}

static void
match_port(struct match *m, int64_t ofport)
{
    match_set_in_port(m, OFP_PORT_C(ofport));
}

/* Actions. */

/* Sets 'id' to the field-sized 'value', as a load if 'reg_load' (the
 * switch encodes it as NXAST_REG_LOAD, not OFPAT_SET_FIELD).  The value
 * and mask are written into zeroed space, so that the bytes that pad them
 * are zeros: equal actions are then equal bytes, shared as one copy
 * (overlay_shared_get()). */
static void
put_set(struct ofpbuf *ofpacts, enum mf_field_id id, const void *value,
        bool reg_load)
{
    const struct mf_field *field = mf_from_id(id);
    struct ofpact_set_field *sf
        = (reg_load ? ofpact_put_reg_load : ofpact_put_set_field)(
            ofpacts, field, NULL, NULL);
    memcpy(sf->value, value, field->n_bytes);
    memset(ofpact_set_field_mask(sf), 0xff, field->n_bytes);
}

/* Sets 'id' to 'value', given as an integer of the field's width. */
static void
put_set_int(struct ofpbuf *ofpacts, enum mf_field_id id, uint64_t value)
{
    union mf_value v;
    switch (mf_from_id(id)->n_bytes) {
    case 1:
        v.u8 = value;
        break;
    case 2:
        v.be16 = htons(value);
        break;
    case 4:
        v.be32 = htonl(value);
        break;
    case 8:
        v.be64 = htonll(value);
        break;
    default:
        OVS_NOT_REACHED();
    }
    put_set(ofpacts, id, &v, false);
}

static void
put_set_eth(struct ofpbuf *ofpacts, enum mf_field_id id, struct eth_addr e)
{
    put_set(ofpacts, id, &e, false);
}

/* Sets the IPv4 field 'id4' or the IPv6 field 'id6' to 'a', by its
 * family. */
static void
put_set_ip(struct ofpbuf *ofpacts, enum mf_field_id id4,
           enum mf_field_id id6, const struct in6_addr *a)
{
    if (policy_addr_is_ipv4(a)) {
        ovs_be32 ip = ipv4_of(a);
        put_set(ofpacts, id4, &ip, false);
    } else {
        put_set(ofpacts, id6, a, false);
    }
}

/* Copies bits 'src_ofs'... of field 'src' to 'dst', 'n_bits' of them
 * (0: the whole of 'src'). */
static void
put_move_bits(struct ofpbuf *ofpacts, enum mf_field_id src, int src_ofs,
              enum mf_field_id dst, int n_bits)
{
    struct ofpact_reg_move *move = ofpact_put_REG_MOVE(ofpacts);
    move->src.field = mf_from_id(src);
    move->src.ofs = src_ofs;
    move->src.n_bits = n_bits ? n_bits : move->src.field->n_bits;
    move->dst.field = mf_from_id(dst);
    move->dst.ofs = 0;
    move->dst.n_bits = move->src.n_bits;
}

static void
put_move(struct ofpbuf *ofpacts, enum mf_field_id src, enum mf_field_id dst)
{
    put_move_bits(ofpacts, src, 0, dst, 0);
}

static void
put_output(struct ofpbuf *ofpacts, ofp_port_t port)
{
    struct ofpact_output *output = ofpact_put_OUTPUT(ofpacts);
    output->port = port;
    output->max_len = port == OFPP_CONTROLLER ? UINT16_MAX : 0;
}

static void
put_goto(struct ofpbuf *ofpacts, enum overlay_table table)
{
    ofpact_put_GOTO_TABLE(ofpacts)->table_id = table;
}

static void
put_resubmit(struct ofpbuf *ofpacts, enum overlay_table table)
{
    struct ofpact_resubmit *resubmit = ofpact_put_RESUBMIT(ofpacts);
    resubmit->in_port = OFPP_IN_PORT;
    resubmit->table_id = table;
}

/* Decrements the TTL, and sends a packet whose TTL runs out to controller
 * 0 (no controller listens for it: the packet is dropped). */
static void
put_dec_ttl(struct ofpbuf *ofpacts)
{
    static const uint16_t controller_id = 0;
    ofpact_put_DEC_TTL(ofpacts);
    ofpbuf_put(ofpacts, &controller_id, sizeof controller_id);
    struct ofpact_cnt_ids *ids = ofpacts->header;
    ids->n_controllers = 1;
    ofpact_finish_DEC_TTL(ofpacts, &ids);
}

/* Sends by tunnel to 'pa', with the GRE key of 'vsid', out of 'gre_ofport';
 * 'from_tunnel' clears in_port first, since OpenFlow never outputs to the
 * port a packet came in on. */
static void
put_tunnel(struct ofpbuf *ofpacts, const struct in6_addr *pa, int64_t vsid,
           int64_t gre_ofport, bool from_tunnel)
{
    put_set_ip(ofpacts, MFF_TUN_DST, MFF_TUN_IPV6_DST, pa);
    put_set_int(ofpacts, MFF_TUN_ID, overlay_gre_key(vsid));
    if (from_tunnel) {
        static const ovs_be16 none = 0;
        put_set(ofpacts, MFF_IN_PORT, &none, true);
    }
    put_output(ofpacts, OFP_PORT_C(gre_ofport));
}

/* A flow's cookie, and the owner of its flows in a desired set, is the
 * first half of the row it is translated from. */
static uint64_t
cookie_of_row(const struct uuid *row)
{
    return (uint64_t) row->parts[0] << 32 | row->parts[1];
}

static uint64_t
cookie_of(const struct policy_origin *o)
{
    return cookie_of_row(&o->row);
}

static int
compare_vsid(const void *key_, const void *vs_)
{
    const int64_t *key = key_;
    const struct policy_virtual_subnet *vs = vs_;
    return (*key > vs->vsid) - (*key < vs->vsid);
}

static const struct policy_virtual_subnet *
find_subnet(const struct policy *p, int64_t vsid)
{
    return bsearch(&vsid, p->vsubnets, p->n_vsubnets, sizeof *p->vsubnets,
                   compare_vsid);
}

static int
compare_rd_name(const void *key, const void *rd_)
{
    const struct policy_routing_domain *rd = rd_;
    return strcmp(key, rd->name);
}

/* Returns the index of routing domain 'name' in 'p', or -1.  reg1 carries
 * index + 1, so that 0 means "none". */
static int
rd_index(const struct policy *p, const char *name)
{
    const struct policy_routing_domain *rd
        = bsearch(name, p->rds, p->n_rds, sizeof *p->rds, compare_rd_name);
    return rd ? rd - p->rds : -1;
}

static bool
rd_is_local(const struct xlate *x, const char *routing_domain)
{
    return sset_contains(x->local_rds, routing_domain);
}

static int
record_rd_index(const struct policy *p, const struct policy_lookup_record *r)
{
    const struct policy_virtual_subnet *vs = find_subnet(p, r->vsid);
    return vs ? rd_index(p, vs->routing_domain) : -1;
}

static bool
iface_matches(const struct overlay_iface *iface,
              const struct policy_lookup_record *r)
{
    return ((iface->vm_id && r->vm && !strcmp(iface->vm_id, r->vm))
            || (iface->attached_mac
                && !strcasecmp(iface->attached_mac, r->mac)));
}

/* Binds the VM interfaces of 'in' to the lookup records that place a VM on
 * this chassis, or whose VM migrates here.  Stores the bindings in
 * '*ports' (freed by the caller) and returns how many.  An interface
 * without an OpenFlow port yet is not bound. */
size_t
overlay_pipeline_bind(const struct overlay_input *in,
                      struct overlay_port **ports)
{
    const struct policy *p = in->policy;
    size_t n = 0, allocated = 0;

    *ports = NULL;
    for (size_t i = 0; i < p->n_records; i++) {
        const struct policy_lookup_record *r = &p->records[i];
        bool incoming = (strcmp(r->host, in->chassis) && r->vm
                         && in->incoming && sset_contains(in->incoming, r->vm));
        if (strcmp(r->host, in->chassis) && !incoming) {
            continue;
        }
        for (size_t j = 0; j < in->n_ifaces; j++) {
            const struct overlay_iface *iface = &in->ifaces[j];
            if (iface->ofport > 0 && iface_matches(iface, r)) {
                if (n >= allocated) {
                    *ports = x2nrealloc(*ports, &allocated, sizeof **ports);
                }
                (*ports)[n++] = (struct overlay_port) { iface, r, incoming };
                break;
            }
        }
    }
    return n;
}

/* The learn() actions of the pipeline, each parsed once: their specs are
 * constants (tables, priorities, timeout) but for a tunnel's family, and
 * read far better as ovs-ofctl writes them than as learn_spec structs. */
enum learn_kind {
    /* A migrated VM's announcement on its new port: deliver to it here. */
    LEARN_DELIVERY,
    /* Its announcement arriving by tunnel at its old host: send it there
     * what still comes here. */
    LEARN_REDIRECT_IPV4,
    LEARN_REDIRECT_IPV6,
    N_LEARN_KINDS
};

static char *
learn_text(enum learn_kind kind)
{
    if (kind == LEARN_DELIVERY) {
        return xasprintf("learn(table=%d,priority=%d,hard_timeout=%d,"
                         "delete_learned,OXM_OF_METADATA[],"
                         "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
                         "output:NXM_OF_IN_PORT[])", OVERLAY_T_FORWARD,
                         LEARNT_PRIORITY, LEARNT_TIMEOUT_S);
    }
    const char *family = kind == LEARN_REDIRECT_IPV4 ? "IPV4" : "IPV6";
    return xasprintf("learn(table=%d,priority=%d,hard_timeout=%d,"
                     "OXM_OF_METADATA[],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
                     "load:NXM_NX_TUN_%s_SRC[]->NXM_NX_TUN_%s_DST[],"
                     "load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],"
                     "load:0->NXM_OF_IN_PORT[],output:NXM_OF_IN_PORT[])",
                     OVERLAY_T_FORWARD, LEARNT_PRIORITY, LEARNT_TIMEOUT_S,
                     family, family);
}

static void
put_learn(struct ofpbuf *ofpacts, enum learn_kind kind)
{
    static struct ofpbuf learns[N_LEARN_KINDS];
    struct ofpbuf *learn = &learns[kind];
    if (!learn->size) {
        char *text = learn_text(kind);
        enum ofputil_protocol usable;
        struct ofpact_parse_params pp = {
            .ofpacts = learn,
            .usable_protocols = &usable,
        };
        ofpbuf_init(learn, 0);
        char *error = ofpacts_parse_actions(text, &pp);
        /* The texts are constants that the unit tests parse. */
        ovs_assert(!error);
        free(text);
    }
    ofpbuf_put(ofpacts, learn->data, learn->size);
}

/* Adds a flow in 'table' for each way the VM of 'r' announces itself,
 * matching 'base' too, with the actions in 'actions': the RARPs QEMU sends
 * after a migration and the gratuitous ARP or unsolicited neighbour
 * advertisement of a guest that announces itself. */
static void
xlate_announcements(struct xlate *x, enum overlay_table table,
                    uint16_t priority, const struct policy_lookup_record *r,
                    const struct match *base, const struct ofpbuf *actions)
{
    uint64_t cookie = cookie_of(&r->origin);

    for (int rarp = 0; rarp <= 1; rarp++) {
        struct match *m = flow_start(x);
        *m = *base;
        match_set_dl_src(m, r->mac_e);
        if (rarp) {
            match_set_dl_type(m, htons(ETH_TYPE_RARP));
        } else if (policy_addr_is_ipv4(&r->ca_a)) {
            match_arp(m, true, &r->ca_a, 128);
            match_arp(m, false, &r->ca_a, 128);
        } else {
            match_icmp(m, true, ND_NEIGHBOR_ADVERT);
            match_set_nd_target(m, &r->ca_a);
        }
        ofpbuf_put(&x->ofpacts, actions->data, actions->size);
        flow_add(x, table, priority, cookie);
    }
}

/* Table 2 for a VM migrating here: its announcement activates the port
 * (the switch learns to deliver to it), goes on to the source, whose PA
 * its record still holds, and to the agent, which moves the record. */
static void
xlate_activation(struct xlate *x, const struct overlay_port *port)
{
    const struct policy_lookup_record *r = port->record;
    if (x->in->gre_ofport <= 0) {
        return;
    }
    struct match base;
    match_init_catchall(&base);
    match_port(&base, port->iface->ofport);

    uint64_t stub[32];
    struct ofpbuf actions = OFPBUF_STUB_INITIALIZER(stub);
    put_learn(&actions, LEARN_DELIVERY);
    put_tunnel(&actions, &r->pa_a, r->vsid, x->in->gre_ofport, false);
    put_output(&actions, OFPP_CONTROLLER);
    xlate_announcements(x, OVERLAY_T_PORT_SECURITY, 110, r, &base, &actions);
    ofpbuf_uninit(&actions);
}

/* Table 5 for a VM here: its announcement arriving by tunnel means it now
 * runs on the sender's host; the switch learns to send it there what
 * still comes here (in_port is cleared so the learnt flow may send back
 * out of the GRE port a packet came in on). */
static void
xlate_departure(struct xlate *x, const struct policy_lookup_record *r)
{
    if (x->in->gre_ofport <= 0) {
        return;
    }
    struct match base;
    match_init_catchall(&base);
    match_set_reg(&base, 0, 1);
    match_metadata(&base, r->vsid);

    uint64_t stub[32];
    struct ofpbuf actions = OFPBUF_STUB_INITIALIZER(stub);
    put_learn(&actions, (policy_addr_is_ipv4(&r->pa_a) ? LEARN_REDIRECT_IPV4
                         : LEARN_REDIRECT_IPV6));
    xlate_announcements(x, OVERLAY_T_FORWARD, 130, r, &base, &actions);
    ofpbuf_uninit(&actions);
}

/* ICMPv6 that a VM sends from its link-local address, and some of it from
 * the unspecified address while it has none yet: what it needs to find
 * its router and neighbours and to join multicast groups.  Router
 * advertisements and redirects are a router's to send, and the
 * distributed router is the only router here. */
static const struct {
    uint8_t type;
    bool unspecified;
} vm_icmp6[] = {
    { 133, false },             /* Router solicitation. */
    { 135, true },              /* Neighbour solicitation (DAD from ::). */
    { 131, false },             /* MLDv1 report. */
    { 132, false },             /* MLDv1 done. */
    { 143, true },              /* MLDv2 report. */
};

/* Starts a table 2 flow for what 'port''s VM sends from its MAC, and
 * returns its match. */
static struct match *
port_security_start(struct xlate *x, const struct overlay_port *port)
{
    struct match *m = flow_start(x);
    match_port(m, port->iface->ofport);
    match_set_dl_src(m, port->record->mac_e);
    put_goto(&x->ofpacts, OVERLAY_T_RESPONDER);
    return m;
}

/* Table 2: 'port''s VM may send from 'addr'/'plen' with its own MAC, and,
 * from an IPv4 address, ARP too. */
static void
xlate_sources(struct xlate *x, const struct overlay_port *port,
              uint64_t cookie, const struct in6_addr *addr, unsigned int plen)
{
    match_ip(port_security_start(x, port), true, addr, plen);
    flow_add(x, OVERLAY_T_PORT_SECURITY, 100, cookie);
    if (policy_addr_is_ipv4(addr)) {
        struct match *m = port_security_start(x, port);
        match_arp(m, true, addr, plen);
        match_set_arp_sha(m, port->record->mac_e);
        flow_add(x, OVERLAY_T_PORT_SECURITY, 100, cookie);
    }
}

/* Table 2 for a local IPv6 port, besides what it sends from its CA: from
 * its link-local address (the one made from its MAC, as OVN's port security
 * allows) and from :: only the ICMPv6 of 'vm_icmp6'; neighbour
 * advertisements only for its own addresses, so that it cannot claim
 * another VM's. */
static void
xlate_port_security_ipv6(struct xlate *x, const struct overlay_port *port)
{
    const struct policy_lookup_record *r = port->record;
    uint64_t cookie = cookie_of(&r->origin);
    struct in6_addr lla;

    in6_generate_lla(r->mac_e, &lla);
    for (size_t i = 0; i < ARRAY_SIZE(vm_icmp6); i++) {
        for (int unspec = 0; unspec <= vm_icmp6[i].unspecified; unspec++) {
            struct match *m = port_security_start(x, port);
            match_icmp(m, true, vm_icmp6[i].type);
            match_set_ipv6_src(m, unspec ? &in6addr_any : &lla);
            flow_add(x, OVERLAY_T_PORT_SECURITY, 100, cookie);
        }
    }
    const struct in6_addr *own[] = { &r->ca_a, &lla };
    for (size_t src = 0; src < ARRAY_SIZE(own); src++) {
        for (size_t target = 0; target < ARRAY_SIZE(own); target++) {
            struct match *m = port_security_start(x, port);
            match_icmp(m, true, ND_NEIGHBOR_ADVERT);
            match_set_ipv6_src(m, own[src]);
            match_set_nd_target(m, own[target]);
            flow_add(x, OVERLAY_T_PORT_SECURITY, 106, cookie);
        }
    }
}

/* Starts a table 5 flow for packets to 'mac' in 'vsid', and returns its
 * match. */
static struct match *
forward_start(struct xlate *x, int64_t vsid, struct eth_addr mac)
{
    struct match *m = flow_start(x);
    match_metadata(m, vsid);
    match_set_dl_dst(m, mac);
    return m;
}

/* Table 0 and 2 for a local port: classify, then port security. */
static void
xlate_port(struct xlate *x, const struct overlay_port *port)
{
    const struct policy_lookup_record *r = port->record;
    uint64_t cookie = cookie_of(&r->origin);
    int64_t ofport = port->iface->ofport;
    int rd = record_rd_index(x->in->policy, r);

    match_port(flow_start(x), ofport);
    put_set_int(&x->ofpacts, MFF_METADATA, r->vsid);
    put_set_int(&x->ofpacts, MFF_REG1, rd + 1);
    put_goto(&x->ofpacts, OVERLAY_T_PORT_SECURITY);
    flow_add(x, OVERLAY_T_CLASSIFY, 100, cookie);

    xlate_sources(x, port, cookie, &r->ca_a, 128);
    if (!policy_addr_is_ipv4(&r->ca_a)) {
        xlate_port_security_ipv6(x, port);
    }

    if (port->incoming) {
        xlate_activation(x, port);
        match_set_reg(forward_start(x, r->vsid, r->mac_e), 0, 1);
        put_output(&x->ofpacts, OFP_PORT_C(ofport));
        flow_add(x, OVERLAY_T_FORWARD, INCOMING_PRIORITY, cookie);
    } else {
        bool departing = (r->vm && x->in->outgoing
                          && sset_contains(x->in->outgoing, r->vm));
        forward_start(x, r->vsid, r->mac_e);
        put_output(&x->ofpacts, OFP_PORT_C(ofport));
        flow_add(x, OVERLAY_T_FORWARD, departing ? 100 : SETTLED_PRIORITY,
                 cookie);
        xlate_departure(x, r);
    }
}

/* Table 3: answers "who has ADDR" for 'addr' with 'mac' in 'vsid'.  The
 * flow names the MAC alone; the answer is made by the flows of
 * xlate_answers(), the same for every address, so that each record's
 * flow is a few bytes in the switch and in the agent. */
static void
xlate_responder(struct xlate *x, uint64_t cookie, int64_t vsid,
                const struct in6_addr *addr, const struct eth_addr mac)
{
    struct match *m = flow_start(x);
    match_metadata(m, vsid);
    if (policy_addr_is_ipv4(addr)) {
        match_arp(m, false, addr, 128);
        match_set_nw_proto(m, ARP_OP_REQUEST);
    } else {
        match_icmp(m, true, ND_NEIGHBOR_SOLICIT);
        match_set_nd_target(m, addr);
    }
    put_set_int(&x->ofpacts, ANSWER_REG,
                ANSWER_FLAG | eth_addr_to_uint64(mac));
    put_resubmit(&x->ofpacts, OVERLAY_T_RESPONDER);
    flow_add(x, OVERLAY_T_RESPONDER, 100, cookie);
}

/* Starts a table 3 flow for the questions xlate_responder() takes, with
 * the answering MAC's moves to the answer's Ethernet addresses. */
static struct match *
answer_start(struct xlate *x)
{
    struct match *m = flow_start(x);
    match_set_xreg_masked(m, ANSWER_XREG, ANSWER_FLAG, ANSWER_FLAG);
    put_move(&x->ofpacts, MFF_ETH_SRC, MFF_ETH_DST);
    put_move_bits(&x->ofpacts, ANSWER_REG, 0, MFF_ETH_SRC, 48);
    return m;
}

/* Table 3: the answers to the questions xlate_responder() takes, from the
 * MAC it gives. */
static void
xlate_answers(struct xlate *x)
{
    /* ARP: the reply comes from the MAC asked about, for the address asked
     * about, to the asker. */
    struct match *m = answer_start(x);
    match_set_dl_type(m, htons(ETH_TYPE_ARP));
    match_set_nw_proto(m, ARP_OP_REQUEST);
    put_set_int(&x->ofpacts, MFF_ARP_OP, ARP_OP_REPLY);
    put_move(&x->ofpacts, MFF_ARP_SHA, MFF_ARP_THA);
    put_move_bits(&x->ofpacts, ANSWER_REG, 0, MFF_ARP_SHA, 48);
    put_move(&x->ofpacts, MFF_ARP_TPA, ANSWER_SWAP_REG);
    put_move(&x->ofpacts, MFF_ARP_SPA, MFF_ARP_TPA);
    put_move(&x->ofpacts, ANSWER_SWAP_REG, MFF_ARP_SPA);
    put_output(&x->ofpacts, OFPP_IN_PORT);
    flow_add(x, OVERLAY_T_RESPONDER, 130, 0);

    /* ND: a neighbor advertisement made from the solicitation (S and O
     * flags set, the option now a target link-layer address).  OVS checks
     * set_field prerequisites against the flow's match, so the option's
     * address is set by the flow that the advertisement meets when
     * resubmitted (see xlate_defaults()). */
    match_icmp(answer_start(x), true, ND_NEIGHBOR_SOLICIT);
    put_move(&x->ofpacts, MFF_IPV6_SRC, MFF_IPV6_DST);
    put_move(&x->ofpacts, MFF_ND_TARGET, MFF_IPV6_SRC);
    put_set_int(&x->ofpacts, MFF_ICMPV6_TYPE, ND_NEIGHBOR_ADVERT);
    put_set_int(&x->ofpacts, MFF_ND_RESERVED, 0x60000000);
    put_set_int(&x->ofpacts, MFF_ND_OPTIONS_TYPE, ND_OPT_TARGET_LINKADDR);
    put_set_int(&x->ofpacts, MFF_REG0 + ND_ANSWER_REG, 1);
    put_resubmit(&x->ofpacts, OVERLAY_T_RESPONDER);
    flow_add(x, OVERLAY_T_RESPONDER, 130, 0);
}

/* Table 4: what the distributed router of routing domain 'rd' (by index)
 * routes to 'prefix'/'plen' goes to 'mac' in 'vsid'. */
static void
xlate_route_to(struct xlate *x, uint16_t priority, uint64_t cookie,
               const char *routing_domain, const struct in6_addr *prefix,
               unsigned int plen, struct eth_addr mac, int64_t vsid)
{
    struct eth_addr rmac = overlay_router_mac(routing_domain);
    struct match *m = flow_start(x);
    match_set_reg(m, 1, rd_index(x->in->policy, routing_domain) + 1);
    match_set_dl_dst(m, rmac);
    match_ip(m, false, prefix, plen);
    put_dec_ttl(&x->ofpacts);
    put_set_eth(&x->ofpacts, MFF_ETH_SRC, rmac);
    put_set_eth(&x->ofpacts, MFF_ETH_DST, mac);
    put_set_int(&x->ofpacts, MFF_METADATA, vsid);
    put_goto(&x->ofpacts, OVERLAY_T_FORWARD);
    flow_add(x, OVERLAY_T_ROUTER, priority, cookie);
}

/* Flows for one lookup record of a routing domain present on this chassis:
 * its ARP/ND answer, its route from the other subnets of the domain, and,
 * if it is remote, the tunnel to its PA. */
static void
xlate_record(struct xlate *x, const struct policy_lookup_record *r,
             const struct policy_virtual_subnet *vs, bool local)
{
    uint64_t cookie = cookie_of(&r->origin);

    xlate_responder(x, cookie, r->vsid, &r->ca_a, r->mac_e);
    xlate_route_to(x, 1000, cookie, vs->routing_domain, &r->ca_a, 128,
                   r->mac_e, r->vsid);
    if (!local && x->in->gre_ofport > 0) {
        match_set_reg(forward_start(x, r->vsid, r->mac_e), 0, 0);
        put_tunnel(&x->ofpacts, &r->pa_a, r->vsid, x->in->gre_ofport, false);
        flow_add(x, OVERLAY_T_FORWARD, 100, cookie);
    }
}

/* Table 4: the router answers a ping to its address in 'vs' from any VM
 * of the routing domain, as OVN's router does: the request goes back out
 * of its port with addresses swapped and the type of a reply.  The switch
 * keeps the checksums right: the ICMP one when it sets the type (the
 * swapped addresses add up to the same pseudo-header sum), the IPv4
 * header's when it sets the addresses and TTL. */
static void
xlate_gateway_echo(struct xlate *x, const struct policy_virtual_subnet *vs,
                   int rd)
{
    struct eth_addr rmac = overlay_router_mac(vs->routing_domain);
    bool ipv4 = policy_addr_is_ipv4(&vs->gateway_a);

    struct match *m = flow_start(x);
    match_set_reg(m, 1, rd + 1);
    match_set_dl_dst(m, rmac);
    match_ip(m, false, &vs->gateway_a, 128);
    match_icmp(m, !ipv4, ipv4 ? ICMP4_ECHO_REQUEST : ICMP6_ECHO_REQUEST);
    match_set_icmp_code(m, 0);
    put_move(&x->ofpacts, MFF_ETH_SRC, MFF_ETH_DST);
    put_set_eth(&x->ofpacts, MFF_ETH_SRC, rmac);
    put_move(&x->ofpacts, ipv4 ? MFF_IPV4_SRC : MFF_IPV6_SRC,
             ipv4 ? MFF_IPV4_DST : MFF_IPV6_DST);
    put_set_ip(&x->ofpacts, MFF_IPV4_SRC, MFF_IPV6_SRC, &vs->gateway_a);
    put_set_int(&x->ofpacts, MFF_IP_TTL, 255);
    put_set_int(&x->ofpacts, ipv4 ? MFF_ICMPV4_TYPE : MFF_ICMPV6_TYPE,
                ipv4 ? ICMP4_ECHO_REPLY : ICMP6_ECHO_REPLY);
    put_output(&x->ofpacts, OFPP_IN_PORT);
    flow_add(x, OVERLAY_T_ROUTER, 1100, cookie_of(&vs->origin));
}

/* Table 1: accept the GRE key of 'vs'. */
static void
xlate_tunnel_key(struct xlate *x, const struct policy_virtual_subnet *vs)
{
    if (x->in->gre_ofport > 0) {
        match_set_tun_id_masked(flow_start(x),
                                htonll(overlay_gre_key(vs->vsid)),
                                htonll(GRE_KEY_MASK));
        put_set_int(&x->ofpacts, MFF_METADATA, vs->vsid);
        put_set_int(&x->ofpacts, MFF_REG1,
                    rd_index(x->in->policy, vs->routing_domain) + 1);
        put_set_int(&x->ofpacts, MFF_REG0, 1);
        put_goto(&x->ofpacts, OVERLAY_T_FORWARD);
        flow_add(x, OVERLAY_T_TUNNEL_KEY, 100, cookie_of(&vs->origin));
    }
}

/* Flows of a virtual subnet of a routing domain present here: accept its
 * GRE key, answer for its gateway. */
static void
xlate_subnet(struct xlate *x, const struct policy_virtual_subnet *vs)
{
    uint64_t cookie = cookie_of(&vs->origin);
    int rd = rd_index(x->in->policy, vs->routing_domain);

    xlate_tunnel_key(x, vs);
    if (vs->gateway) {
        xlate_responder(x, cookie, vs->vsid, &vs->gateway_a,
                        overlay_router_mac(vs->routing_domain));
        xlate_gateway_echo(x, vs, rd);
    }
}

static const struct policy_lookup_record *
find_record(const struct policy *p, int64_t vsid, const struct in6_addr *ca)
{
    struct policy_lookup_record key = { .vsid = vsid, .ca_a = *ca };
    return bsearch(&key, p->records, p->n_records, sizeof *p->records,
                   policy_tables[POLICY_LOOKUP_RECORDS].cmp);
}

/* Table 2: the VM that a customer route's next hop names, when it runs
 * here, forwards for the route's prefix, so it may send from addresses in
 * it (with its own MAC): without that, what it routes back would be
 * dropped as spoofed.  That includes ARP, which Linux sends from the
 * address of the packet that needs it; ARP never leaves the host, so this
 * lets it claim nothing elsewhere. */
static void
xlate_route_sources(struct xlate *x, const struct policy_customer_route *cr,
                    const struct policy_lookup_record *nh)
{
    for (size_t i = 0; i < x->n_ports; i++) {
        if (x->ports[i].record == nh) {
            xlate_sources(x, &x->ports[i], cookie_of(&cr->origin),
                          &cr->prefix_p.addr, cr->prefix_p.plen);
        }
    }
}

/* Table 4: a customer route sends to the VM that owns its next hop. */
static void
xlate_route(struct xlate *x, const struct policy_customer_route *cr)
{
    const struct policy *p = x->in->policy;
    const struct policy_lookup_record *nh = NULL;

    for (size_t i = 0; i < p->n_vsubnets && !nh; i++) {
        const struct policy_virtual_subnet *vs = &p->vsubnets[i];
        if (!strcmp(vs->routing_domain, cr->routing_domain)
            && policy_prefix_contains(&vs->prefix_p, &cr->next_hop_a)) {
            nh = find_record(p, vs->vsid, &cr->next_hop_a);
        }
    }
    if (!nh) {
        /* The next hop is no VM (or the router itself): nothing to send
         * to; packets for the prefix are dropped like any unknown one. */
        return;
    }
    /* The route's flows follow the next hop's record. */
    overlay_desired_pin(x->desired, cookie_of(&nh->origin));

    xlate_route_sources(x, cr, nh);
    xlate_route_to(x, 100 + cr->prefix_p.plen, cookie_of(&cr->origin),
                   cr->routing_domain, &cr->prefix_p.addr, cr->prefix_p.plen,
                   nh->mac_e, nh->vsid);
}

/* Table 0: GRE from the PA of another host, one that carries records or
 * one of the chassis, and only those. */
static void
xlate_tunnel_source(struct xlate *x, const struct in6_addr *pa)
{
    struct match *m = flow_start(x);
    match_port(m, x->in->gre_ofport);
    if (policy_addr_is_ipv4(pa)) {
        match_set_tun_src(m, ipv4_of(pa));
    } else {
        match_set_tun_ipv6_src(m, pa);
    }
    put_goto(&x->ofpacts, OVERLAY_T_TUNNEL_KEY);
    flow_add(x, OVERLAY_T_CLASSIFY, 100, 0);
}

/* The other hosts' PAs, whether or not they carry records. */
static void
xlate_peer_tunnel_sources(struct xlate *x)
{
    if (x->in->peer_pas) {
        const char *pa;
        SSET_FOR_EACH (pa, x->in->peer_pas) {
            struct in6_addr pa_a;
            char *error = policy_addr_parse(pa, &pa_a);
            if (!error) {
                xlate_tunnel_source(x, &pa_a);
            }
            free(error);
        }
    }
}

/* Table 5: packets for 'r''s MAC, from a tunnel only if 'from_tunnel', go
 * on by tunnel to its PA. */
static void
xlate_tunnel_on(struct xlate *x, uint16_t priority, bool from_tunnel,
                const struct overlay_redirect *r)
{
    struct in6_addr pa;
    struct eth_addr mac;
    char *error = policy_addr_parse(r->pa, &pa);
    if (error || !eth_addr_from_string(r->mac, &mac)) {
        free(error);
        return;
    }
    struct match *m = forward_start(x, r->vsid, mac);
    if (from_tunnel) {
        match_set_reg(m, 0, 1);
    }
    put_tunnel(&x->ofpacts, &pa, r->vsid, x->in->gre_ofport, true);
    flow_add(x, OVERLAY_T_FORWARD, priority, 0);
}

/* Late packets for a VM that migrated away, still tunnelled here.  The
 * VM may have been the last of its routing domain here, whose flows went
 * with it: its GRE key is still accepted, or those packets would be
 * dropped before they meet their redirect. */
static void
xlate_redirects(struct xlate *x)
{
    for (size_t i = 0; i < x->in->n_redirects; i++) {
        const struct overlay_redirect *r = &x->in->redirects[i];
        const struct policy_virtual_subnet *vs = find_subnet(x->in->policy,
                                                             r->vsid);
        if (vs && !rd_is_local(x, vs->routing_domain)) {
            x->owner = cookie_of(&vs->origin);
            xlate_tunnel_key(x, vs);
            x->owner = 0;
        }
        xlate_tunnel_on(x, 110, true, r);
    }
}

/* Replaces the flows of 'owner' in 'desired' by those that send every
 * packet for the NICs of 'held' (a VM migrating away whose guest has
 * paused here for the last time) to its destination's PA, whatever their
 * origin: its port there holds them until the VM runs, where they would be
 * lost here.  With 'n' 0, only removes them. */
void
overlay_pipeline_hold(struct overlay_desired *desired, int64_t gre_ofport,
                      uint64_t owner, const struct overlay_redirect *held,
                      size_t n)
{
    overlay_desired_remove_owner(desired, owner);
    if (gre_ofport <= 0) {
        return;
    }
    struct overlay_input in = { .gre_ofport = gre_ofport };
    struct xlate x;
    xlate_init(&x, &in, desired, NULL);
    x.owner = owner;
    for (size_t i = 0; i < n; i++) {
        xlate_tunnel_on(&x, HOLD_PRIORITY, false, &held[i]);
    }
    xlate_destroy(&x);
}

/* The field of a tunnel's remote end at 'pa', by its family. */
static const char *
tun_dst_field(const char *pa)
{
    return strchr(pa, ':') ? "tun_ipv6_dst" : "tun_dst";
}

/* A packet-out that sends a frame by GRE to 'pa' with key 0, which no
 * virtual subnet uses (the receiver drops it).  If the switch does not
 * know the next hop toward 'pa' yet, it asks for it (ARP or ND) and learns
 * it, so that no packet of a migration is the one lost to a cold tunnel
 * neighbour cache. */
char *
overlay_pipeline_tunnel_probe(int64_t gre_ofport, const char *pa)
{
    /* To 00:00:00:00:00:00 from a local address, the local experimental
     * ethertype, zeros up to the minimum frame size. */
    static const char frame[] = "000000000000" "020000000000" "88b5"
        "0000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000";
    return xasprintf("in_port=controller packet=%s "
                     "actions=set_field:%s->%s,set_field:0->tun_id,"
                     "output:%"PRId64, frame, pa,
                     tun_dst_field(pa),
                     gre_ofport);
}

/* What every table does with what its other flows do not match. */
static void
xlate_defaults(struct xlate *x)
{
    for (int t = OVERLAY_T_CLASSIFY; t <= OVERLAY_T_FORWARD; t++) {
        flow_start(x);
        if (t == OVERLAY_T_RESPONDER || t == OVERLAY_T_ROUTER) {
            put_goto(&x->ofpacts, t + 1);
        }
        flow_add(x, t, 0, 0);
    }
    /* What no VM may send (see vm_icmp6): router advertisements,
     * redirects, and neighbour advertisements but for its own addresses
     * (those go at a higher priority). */
    static const uint8_t router_only[] = {
        ND_ROUTER_ADVERT, ND_NEIGHBOR_ADVERT, ND_REDIRECT
    };
    for (size_t i = 0; i < ARRAY_SIZE(router_only); i++) {
        match_icmp(flow_start(x), true, router_only[i]);
        flow_add(x, OVERLAY_T_PORT_SECURITY, 105, 0);
    }
    xlate_answers(x);
    /* The second half of an ND answer: its target link-layer address is
     * the MAC it comes from.  (Setting the option while the packet is a
     * solicitation writes the source option, which the datapath then
     * leaves as the asker's own MAC once the option is a target one.) */
    struct match *m = flow_start(x);
    match_set_reg(m, ND_ANSWER_REG, 1);
    match_icmp(m, true, ND_NEIGHBOR_ADVERT);
    match_set_icmp_code(m, 0);
    put_move(&x->ofpacts, MFF_ETH_SRC, MFF_ND_TLL);
    put_output(&x->ofpacts, OFPP_IN_PORT);
    flow_add(x, OVERLAY_T_RESPONDER, 120, 0);
    /* Duplicate address detection (a solicitation from ::) is never
     * answered: a VM asks for its own new address, which the lookup
     * records give it alone, and an answer would make it give the address
     * up. */
    m = flow_start(x);
    match_icmp(m, true, ND_NEIGHBOR_SOLICIT);
    match_set_ipv6_src(m, &in6addr_any);
    flow_add(x, OVERLAY_T_RESPONDER, 110, 0);
    /* ARP and ND the responder did not answer, and other broadcast and
     * multicast, stop here: the overlay never floods. */
    match_set_dl_type(flow_start(x), htons(ETH_TYPE_ARP));
    flow_add(x, OVERLAY_T_RESPONDER, 50, 0);
    match_icmp(flow_start(x), true, ND_NEIGHBOR_SOLICIT);
    flow_add(x, OVERLAY_T_RESPONDER, 50, 0);
    static const struct eth_addr group = ETH_ADDR_C(01,00,00,00,00,00);
    match_set_dl_dst_masked(flow_start(x), group, group);
    flow_add(x, OVERLAY_T_RESPONDER, 40, 0);
}

/* All the flows of lookup record 'r', remote or local, but for those of a
 * port bound to it. */
static void
xlate_record_flows(struct xlate *x, const struct policy_lookup_record *r)
{
    bool local = !strcmp(r->host, x->in->chassis);
    x->owner = cookie_of(&r->origin);
    if (!local && x->in->gre_ofport > 0) {
        xlate_tunnel_source(x, &r->pa_a);
    }
    const struct policy_virtual_subnet *vs = find_subnet(x->in->policy,
                                                         r->vsid);
    if (vs && rd_is_local(x, vs->routing_domain)) {
        xlate_record(x, r, vs, local);
    }
}

/* Fills 'desired' (emptied first) with the flow set for 'in' and the
 * ports bound to its VMs, and 'local_rds' with the routing domains that
 * have one. */
void
overlay_pipeline_translate(const struct overlay_input *in,
                           const struct overlay_port *ports, size_t n_ports,
                           struct overlay_desired *desired,
                           struct sset *local_rds)
{
    const struct policy *p = in->policy;
    struct xlate x;
    xlate_init(&x, in, desired, local_rds);
    x.ports = ports;
    x.n_ports = n_ports;

    overlay_desired_clear(desired);
    sset_clear(local_rds);
    for (size_t i = 0; i < n_ports; i++) {
        const struct policy_lookup_record *r = ports[i].record;
        const struct policy_virtual_subnet *vs = find_subnet(p, r->vsid);
        if (vs && rd_index(p, vs->routing_domain) >= 0) {
            sset_add(local_rds, vs->routing_domain);
            x.owner = cookie_of(&r->origin);
            overlay_desired_pin(desired, x.owner);
            xlate_port(&x, &ports[i]);
        }
    }
    for (size_t i = 0; i < p->n_vsubnets; i++) {
        const struct policy_virtual_subnet *vs = &p->vsubnets[i];
        if (rd_is_local(&x, vs->routing_domain)) {
            x.owner = cookie_of(&vs->origin);
            xlate_subnet(&x, vs);
        }
    }
    for (size_t i = 0; i < p->n_records; i++) {
        xlate_record_flows(&x, &p->records[i]);
    }
    for (size_t i = 0; i < p->n_routes; i++) {
        const struct policy_customer_route *cr = &p->routes[i];
        if (rd_is_local(&x, cr->routing_domain)) {
            x.owner = cookie_of(&cr->origin);
            xlate_route(&x, cr);
        }
    }
    x.owner = 0;
    if (in->gre_ofport > 0) {
        xlate_peer_tunnel_sources(&x);
        xlate_redirects(&x);
    }
    xlate_defaults(&x);
    xlate_destroy(&x);
}

/* Whether lookup record 'r' is the next hop of a customer route. */
static bool
is_next_hop(const struct policy *p, const struct policy_lookup_record *r)
{
    for (size_t i = 0; i < p->n_routes; i++) {
        if (ipv6_addr_equals(&p->routes[i].next_hop_a, &r->ca_a)) {
            return true;
        }
    }
    return false;
}

/* Whether the flows of lookup record 'r' depend on more than 'r': it is
 * placed here, migrates, or routes for others. */
static bool
needs_full_translation(const struct overlay_input *in,
                       const struct policy_lookup_record *r)
{
    return (!strcmp(r->host, in->chassis)
            || (r->vm && ((in->incoming && sset_contains(in->incoming, r->vm))
                          || (in->outgoing
                              && sset_contains(in->outgoing, r->vm))))
            || is_next_hop(in->policy, r));
}

/* Applies to 'desired', last filled by overlay_pipeline_translate() for
 * 'in' and 'local_rds', the change of one lookup record: 'row' is its row,
 * 'r' its new contents, or NULL if it was deleted.  'in->policy' need not
 * hold 'r': its other tables are what matter.
 *
 * Returns false, having changed nothing, if only a full translation can
 * apply the change: the record is placed here, or was bound to a port
 * here, migrates, or is a route's next hop. */
bool
overlay_pipeline_update_record(const struct overlay_input *in,
                               const struct sset *local_rds,
                               struct overlay_desired *desired,
                               const struct uuid *row,
                               const struct policy_lookup_record *r)
{
    uint64_t owner = cookie_of_row(row);
    if (overlay_desired_is_pinned(desired, owner)
        || (r && needs_full_translation(in, r))) {
        return false;
    }

    overlay_desired_remove_owner(desired, owner);
    if (r) {
        struct xlate x;
        xlate_init(&x, in, desired, local_rds);
        xlate_record_flows(&x, r);
        xlate_destroy(&x);
    }
    return true;
}
