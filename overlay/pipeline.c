#include <config.h>

#include "overlay/pipeline.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
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
#define ND_ANSWER_REG "reg2"

/* The MAC that answers an ARP or ND question, in its low 48 bits, which
 * the flow for the address asked about writes with ANSWER_FLAG set and
 * the answer's flow common to all addresses reads (registers xreg2 =
 * reg4:reg5, and reg6 to swap ARP's addresses). */
#define ANSWER_REG "xreg2"
#define ANSWER_MAC "OXM_OF_PKT_REG2[0..47]"
#define ANSWER_FLAG (UINT64_C(1) << 48)
#define ANSWER_SWAP_REG "NXM_NX_REG6[]"

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
    struct ds match;
};

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

/* Adds a flow written as "MATCH actions=ACTIONS" (MATCH may be empty). */
static void OVS_PRINTF_FORMAT(5, 6)
add_flow(struct xlate *x, enum overlay_table table, uint16_t priority,
         uint64_t cookie, const char *format, ...)
{
    va_list args;

    ds_clear(&x->match);
    va_start(args, format);
    ds_put_format_valist(&x->match, format, args);
    va_end(args);

    char *s = ds_cstr(&x->match);
    char *actions = strstr(s, "actions=");
    ovs_assert(actions);
    char *end = actions;
    while (end > s && end[-1] == ' ') {
        end--;
    }
    *end = '\0';
    overlay_desired_add(x->desired, x->owner, table, priority, cookie, s,
                        actions + strlen("actions="));
}

/* The field of a tunnel's remote or local end at 'pa', by its family. */
static const char *
tun_dst_field(const char *pa)
{
    return strchr(pa, ':') ? "tun_ipv6_dst" : "tun_dst";
}

static const char *
tun_src_field(const char *pa)
{
    return strchr(pa, ':') ? "tun_ipv6_src" : "tun_src";
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

static const char *
ip_kw(const struct in6_addr *a)
{
    return policy_addr_is_ipv4(a) ? "ip" : "ipv6";
}

static const char *
dst_kw(const struct in6_addr *a)
{
    return policy_addr_is_ipv4(a) ? "nw_dst" : "ipv6_dst";
}

/* Adds a flow in 'table' for each way the VM of 'r' announces itself,
 * matching 'match' too: the RARPs QEMU sends after a migration and the
 * gratuitous ARP or unsolicited neighbour advertisement of a guest that
 * announces itself. */
static void
xlate_announcements(struct xlate *x, enum overlay_table table,
                    uint16_t priority, const struct policy_lookup_record *r,
                    const char *match, const char *actions)
{
    uint64_t cookie = cookie_of(&r->origin);

    add_flow(x, table, priority, cookie, "%s,dl_src=%s,rarp actions=%s",
             match, r->mac, actions);
    if (policy_addr_is_ipv4(&r->ca_a)) {
        add_flow(x, table, priority, cookie,
                 "%s,dl_src=%s,arp,arp_spa=%s,arp_tpa=%s actions=%s",
                 match, r->mac, r->ca, r->ca, actions);
    } else {
        add_flow(x, table, priority, cookie,
                 "%s,dl_src=%s,icmp6,icmp_type=136,nd_target=%s actions=%s",
                 match, r->mac, r->ca, actions);
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
    char *match = xasprintf("in_port=%"PRId64, port->iface->ofport);
    char *actions = xasprintf(
        "learn(table=%d,priority=%d,hard_timeout=%d,delete_learned,"
        "OXM_OF_METADATA[],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
        "output:NXM_OF_IN_PORT[]),"
        "set_field:%s->%s,set_field:%#"PRIx32"->tun_id,output:%"PRId64
        ",controller", OVERLAY_T_FORWARD, LEARNT_PRIORITY, LEARNT_TIMEOUT_S, r->pa,
        tun_dst_field(r->pa),
        overlay_gre_key(r->vsid), x->in->gre_ofport);
    xlate_announcements(x, OVERLAY_T_PORT_SECURITY, 110, r, match, actions);
    free(actions);
    free(match);
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
    const char *family = policy_addr_is_ipv4(&r->pa_a) ? "IPV4" : "IPV6";
    char *match = xasprintf("reg0=1,metadata=%"PRId64, r->vsid);
    char *actions = xasprintf(
        "learn(table=%d,priority=%d,hard_timeout=%d,OXM_OF_METADATA[],"
        "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
        "load:NXM_NX_TUN_%s_SRC[]->NXM_NX_TUN_%s_DST[],"
        "load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],load:0->NXM_OF_IN_PORT[],"
        "output:NXM_OF_IN_PORT[])",
        OVERLAY_T_FORWARD, LEARNT_PRIORITY, LEARNT_TIMEOUT_S, family, family);
    xlate_announcements(x, OVERLAY_T_FORWARD, 130, r, match, actions);
    free(actions);
    free(match);
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

/* Table 2 for a local IPv6 port: anything from its CA; from its link-local
 * address (the one made from its MAC, as OVN's port security allows) and
 * from :: only the ICMPv6 of 'vm_icmp6'; neighbour advertisements only
 * for its own addresses, so that it cannot claim another VM's. */
static void
xlate_port_security_ipv6(struct xlate *x, const struct overlay_port *port)
{
    const struct policy_lookup_record *r = port->record;
    uint64_t cookie = cookie_of(&r->origin);
    int64_t ofport = port->iface->ofport;
    struct in6_addr lla_a;
    char lla[INET6_ADDRSTRLEN];

    in6_generate_lla(r->mac_e, &lla_a);
    inet_ntop(AF_INET6, &lla_a, lla, sizeof lla);

    add_flow(x, OVERLAY_T_PORT_SECURITY, 100, cookie,
             "in_port=%"PRId64",dl_src=%s,ipv6,ipv6_src=%s "
             "actions=goto_table:%d", ofport, r->mac, r->ca,
             OVERLAY_T_RESPONDER);
    for (size_t i = 0; i < ARRAY_SIZE(vm_icmp6); i++) {
        for (int unspec = 0; unspec <= vm_icmp6[i].unspecified; unspec++) {
            add_flow(x, OVERLAY_T_PORT_SECURITY, 100, cookie,
                     "in_port=%"PRId64",dl_src=%s,icmp6,ipv6_src=%s,"
                     "icmp_type=%d actions=goto_table:%d", ofport, r->mac,
                     unspec ? "::" : lla, vm_icmp6[i].type,
                     OVERLAY_T_RESPONDER);
        }
    }
    const char *own[] = { r->ca, lla };
    for (size_t src = 0; src < ARRAY_SIZE(own); src++) {
        for (size_t target = 0; target < ARRAY_SIZE(own); target++) {
            add_flow(x, OVERLAY_T_PORT_SECURITY, 106, cookie,
                     "in_port=%"PRId64",dl_src=%s,icmp6,ipv6_src=%s,"
                     "icmp_type=136,nd_target=%s actions=goto_table:%d",
                     ofport, r->mac, own[src], own[target],
                     OVERLAY_T_RESPONDER);
        }
    }
}

/* Table 0 and 2 for a local port: classify, then port security. */
static void
xlate_port(struct xlate *x, const struct overlay_port *port)
{
    const struct policy_lookup_record *r = port->record;
    uint64_t cookie = cookie_of(&r->origin);
    int64_t ofport = port->iface->ofport;
    int rd = record_rd_index(x->in->policy, r);

    add_flow(x, OVERLAY_T_CLASSIFY, 100, cookie,
             "in_port=%"PRId64" actions=set_field:%"PRId64"->metadata,"
             "set_field:%d->reg1,goto_table:%d",
             ofport, r->vsid, rd + 1, OVERLAY_T_PORT_SECURITY);

    if (policy_addr_is_ipv4(&r->ca_a)) {
        add_flow(x, OVERLAY_T_PORT_SECURITY, 100, cookie,
                 "in_port=%"PRId64",dl_src=%s,ip,nw_src=%s "
                 "actions=goto_table:%d", ofport, r->mac, r->ca,
                 OVERLAY_T_RESPONDER);
        add_flow(x, OVERLAY_T_PORT_SECURITY, 100, cookie,
                 "in_port=%"PRId64",dl_src=%s,arp,arp_spa=%s,arp_sha=%s "
                 "actions=goto_table:%d", ofport, r->mac, r->ca, r->mac,
                 OVERLAY_T_RESPONDER);
    } else {
        xlate_port_security_ipv6(x, port);
    }

    if (port->incoming) {
        xlate_activation(x, port);
        add_flow(x, OVERLAY_T_FORWARD, INCOMING_PRIORITY, cookie,
                 "reg0=1,metadata=%"PRId64",dl_dst=%s actions=output:%"PRId64,
                 r->vsid, r->mac, ofport);
    } else {
        bool departing = (r->vm && x->in->outgoing
                          && sset_contains(x->in->outgoing, r->vm));
        add_flow(x, OVERLAY_T_FORWARD, departing ? 100 : SETTLED_PRIORITY,
                 cookie, "metadata=%"PRId64",dl_dst=%s actions=output:%"PRId64,
                 r->vsid, r->mac, ofport);
        xlate_departure(x, r);
    }
}

/* Table 3: answers "who has ADDR" for 'addr' with 'mac' in 'vsid'.  The
 * flow names the MAC alone; the answer is made by the flows of
 * xlate_answers(), the same for every address, so that each record's
 * flow is a few bytes in the switch and in the agent. */
static void
xlate_responder(struct xlate *x, uint64_t cookie, int64_t vsid,
                const char *addr, const struct in6_addr *addr_a,
                const struct eth_addr mac)
{
    bool ipv4 = policy_addr_is_ipv4(addr_a);
    add_flow(x, OVERLAY_T_RESPONDER, 100, cookie,
             "metadata=%"PRId64",%s=%s actions=set_field:%#"PRIx64"->"
             ANSWER_REG",resubmit(,%d)", vsid,
             ipv4 ? "arp,arp_op=1,arp_tpa" : "icmp6,icmp_type=135,nd_target",
             addr, ANSWER_FLAG | eth_addr_to_uint64(mac),
             OVERLAY_T_RESPONDER);
}

/* Table 3: the answers to the questions xlate_responder() takes, from the
 * MAC it gives. */
static void
xlate_answers(struct xlate *x)
{
    /* ARP: the reply comes from the MAC asked about, for the address asked
     * about, to the asker. */
    add_flow(x, OVERLAY_T_RESPONDER, 130, 0,
             ANSWER_REG"=%#"PRIx64"/%#"PRIx64",arp,arp_op=1 "
             "actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
             "move:"ANSWER_MAC"->NXM_OF_ETH_SRC[],set_field:2->arp_op,"
             "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
             "move:"ANSWER_MAC"->NXM_NX_ARP_SHA[],"
             "move:NXM_OF_ARP_TPA[]->"ANSWER_SWAP_REG","
             "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
             "move:"ANSWER_SWAP_REG"->NXM_OF_ARP_SPA[],in_port",
             ANSWER_FLAG, ANSWER_FLAG);
    /* ND: a neighbor advertisement made from the solicitation (S and O
     * flags set, the option now a target link-layer address).  OVS checks
     * set_field prerequisites against the flow's match, so the option's
     * address is set by the flow that the advertisement meets when
     * resubmitted (see xlate_defaults()). */
    add_flow(x, OVERLAY_T_RESPONDER, 130, 0,
             ANSWER_REG"=%#"PRIx64"/%#"PRIx64",icmp6,icmp_type=135 "
             "actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
             "move:"ANSWER_MAC"->NXM_OF_ETH_SRC[],"
             "move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],"
             "move:NXM_NX_ND_TARGET[]->NXM_NX_IPV6_SRC[],"
             "set_field:136->icmpv6_type,"
             "set_field:0x60000000->nd_reserved,"
             "set_field:2->nd_options_type,"
             "set_field:1->"ND_ANSWER_REG",resubmit(,%d)",
             ANSWER_FLAG, ANSWER_FLAG, OVERLAY_T_RESPONDER);
}

/* Flows for one lookup record of a routing domain present on this chassis:
 * its ARP/ND answer, its route from the other subnets of the domain, and,
 * if it is remote, the tunnel to its PA. */
static void
xlate_record(struct xlate *x, const struct policy_lookup_record *r,
             const struct policy_virtual_subnet *vs, bool local)
{
    uint64_t cookie = cookie_of(&r->origin);
    struct eth_addr rmac = overlay_router_mac(vs->routing_domain);
    int rd = rd_index(x->in->policy, vs->routing_domain);

    xlate_responder(x, cookie, r->vsid, r->ca, &r->ca_a, r->mac_e);

    add_flow(x, OVERLAY_T_ROUTER, 1000, cookie,
             "reg1=%d,dl_dst="ETH_ADDR_FMT",%s,%s=%s "
             "actions=dec_ttl,set_field:"ETH_ADDR_FMT"->eth_src,"
             "set_field:%s->eth_dst,set_field:%"PRId64"->metadata,"
             "goto_table:%d", rd + 1, ETH_ADDR_ARGS(rmac), ip_kw(&r->ca_a),
             dst_kw(&r->ca_a), r->ca, ETH_ADDR_ARGS(rmac), r->mac, r->vsid,
             OVERLAY_T_FORWARD);

    if (!local && x->in->gre_ofport > 0) {
        add_flow(x, OVERLAY_T_FORWARD, 100, cookie,
                 "reg0=0,metadata=%"PRId64",dl_dst=%s "
                 "actions=set_field:%s->%s,set_field:%#"PRIx32"->tun_id,"
                 "output:%"PRId64, r->vsid, r->mac, r->pa,
                 tun_dst_field(r->pa),
                 overlay_gre_key(r->vsid), x->in->gre_ofport);
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

    add_flow(x, OVERLAY_T_ROUTER, 1100, cookie_of(&vs->origin),
             "reg1=%d,dl_dst="ETH_ADDR_FMT",%s,%s=%s,icmp_type=%d,"
             "icmp_code=0 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
             "set_field:"ETH_ADDR_FMT"->eth_src,"
             "move:%s[]->%s[],set_field:%s->%s,set_field:255->nw_ttl,"
             "set_field:%d->%s,in_port", rd + 1, ETH_ADDR_ARGS(rmac),
             ipv4 ? "icmp" : "icmp6", dst_kw(&vs->gateway_a), vs->gateway,
             ipv4 ? 8 : 128, ETH_ADDR_ARGS(rmac),
             ipv4 ? "NXM_OF_IP_SRC" : "NXM_NX_IPV6_SRC",
             ipv4 ? "NXM_OF_IP_DST" : "NXM_NX_IPV6_DST",
             vs->gateway, ipv4 ? "ip_src" : "ipv6_src",
             ipv4 ? 0 : 129, ipv4 ? "icmp_type" : "icmpv6_type");
}

/* Table 1: accept the GRE key of 'vs'. */
static void
xlate_tunnel_key(struct xlate *x, const struct policy_virtual_subnet *vs)
{
    if (x->in->gre_ofport > 0) {
        add_flow(x, OVERLAY_T_TUNNEL_KEY, 100, cookie_of(&vs->origin),
                 "tun_id=%#"PRIx32"/%#x actions=set_field:%"PRId64
                 "->metadata,set_field:%d->reg1,set_field:1->reg0,"
                 "goto_table:%d", overlay_gre_key(vs->vsid), GRE_KEY_MASK,
                 vs->vsid, rd_index(x->in->policy, vs->routing_domain) + 1,
                 OVERLAY_T_FORWARD);
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
        xlate_responder(x, cookie, vs->vsid, vs->gateway, &vs->gateway_a,
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
    uint64_t cookie = cookie_of(&cr->origin);
    bool ipv4 = policy_addr_is_ipv4(&cr->prefix_p.addr);

    for (size_t i = 0; i < x->n_ports; i++) {
        const struct overlay_port *port = &x->ports[i];
        if (port->record != nh) {
            continue;
        }
        int64_t ofport = port->iface->ofport;
        add_flow(x, OVERLAY_T_PORT_SECURITY, 100, cookie,
                 "in_port=%"PRId64",dl_src=%s,%s,%s=%s actions=goto_table:%d",
                 ofport, nh->mac, ipv4 ? "ip" : "ipv6",
                 ipv4 ? "nw_src" : "ipv6_src", cr->prefix,
                 OVERLAY_T_RESPONDER);
        if (ipv4) {
            add_flow(x, OVERLAY_T_PORT_SECURITY, 100, cookie,
                     "in_port=%"PRId64",dl_src=%s,arp,arp_spa=%s,arp_sha=%s "
                     "actions=goto_table:%d", ofport, nh->mac, cr->prefix,
                     nh->mac, OVERLAY_T_RESPONDER);
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

    struct eth_addr rmac = overlay_router_mac(cr->routing_domain);
    unsigned int plen = cr->prefix_p.plen;
    add_flow(x, OVERLAY_T_ROUTER, 100 + plen, cookie_of(&cr->origin),
             "reg1=%d,dl_dst="ETH_ADDR_FMT",%s,%s=%s "
             "actions=dec_ttl,set_field:"ETH_ADDR_FMT"->eth_src,"
             "set_field:%s->eth_dst,set_field:%"PRId64"->metadata,"
             "goto_table:%d", rd_index(p, cr->routing_domain) + 1,
             ETH_ADDR_ARGS(rmac), ip_kw(&cr->prefix_p.addr),
             dst_kw(&cr->prefix_p.addr), cr->prefix, ETH_ADDR_ARGS(rmac),
             nh->mac, nh->vsid, OVERLAY_T_FORWARD);
}

/* Table 0: GRE from the PA of another host, one that carries records or
 * one of the chassis, and only those. */
static void
xlate_tunnel_source(struct xlate *x, const char *pa)
{
    add_flow(x, OVERLAY_T_CLASSIFY, 100, 0,
             "in_port=%"PRId64",%s=%s actions=goto_table:%d",
             x->in->gre_ofport, tun_src_field(pa),
             pa, OVERLAY_T_TUNNEL_KEY);
}

/* The other hosts' PAs, whether or not they carry records. */
static void
xlate_peer_tunnel_sources(struct xlate *x)
{
    if (x->in->peer_pas) {
        const char *pa;
        SSET_FOR_EACH (pa, x->in->peer_pas) {
            xlate_tunnel_source(x, pa);
        }
    }
}

/* Table 5: packets for 'r''s MAC that match 'match' too (empty, or ending
 * in a comma) go on by tunnel to its PA.  One that came in on the GRE
 * port has its in_port cleared first: OpenFlow never outputs to the port a
 * packet came from. */
static void
xlate_tunnel_on(struct xlate *x, uint16_t priority, const char *match,
                const struct overlay_redirect *r)
{
    struct in6_addr pa;
    char *error = policy_addr_parse(r->pa, &pa);
    if (error) {
        free(error);
        return;
    }
    add_flow(x, OVERLAY_T_FORWARD, priority, 0,
             "%smetadata=%"PRId64",dl_dst=%s "
             "actions=set_field:%s->%s,set_field:%#"PRIx32"->tun_id,"
             "load:0->NXM_OF_IN_PORT[],output:%"PRId64, match, r->vsid,
             r->mac, r->pa, tun_dst_field(r->pa), overlay_gre_key(r->vsid),
             x->in->gre_ofport);
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
        xlate_tunnel_on(x, 110, "reg0=1,", r);
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
    struct xlate x = {
        .in = &in,
        .desired = desired,
        .owner = owner,
        .match = DS_EMPTY_INITIALIZER,
    };
    for (size_t i = 0; i < n; i++) {
        xlate_tunnel_on(&x, HOLD_PRIORITY, "", &held[i]);
    }
    ds_destroy(&x.match);
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
        const char *miss = (t == OVERLAY_T_RESPONDER ? "goto_table:4"
                            : t == OVERLAY_T_ROUTER ? "goto_table:5"
                            : "drop");
        add_flow(x, t, 0, 0, "actions=%s", miss);
    }
    /* What no VM may send (see vm_icmp6): router advertisements,
     * redirects, and neighbour advertisements but for its own addresses
     * (those go at a higher priority). */
    add_flow(x, OVERLAY_T_PORT_SECURITY, 105, 0,
             "icmp6,icmp_type=134 actions=drop");
    add_flow(x, OVERLAY_T_PORT_SECURITY, 105, 0,
             "icmp6,icmp_type=136 actions=drop");
    add_flow(x, OVERLAY_T_PORT_SECURITY, 105, 0,
             "icmp6,icmp_type=137 actions=drop");
    xlate_answers(x);
    /* The second half of an ND answer: its target link-layer address is
     * the MAC it comes from.  (Setting the option while the packet is a
     * solicitation writes the source option, which the datapath then
     * leaves as the asker's own MAC once the option is a target one.) */
    add_flow(x, OVERLAY_T_RESPONDER, 120, 0,
             ND_ANSWER_REG"=1,icmp6,icmp_type=136,icmp_code=0 "
             "actions=move:NXM_OF_ETH_SRC[]->NXM_NX_ND_TLL[],in_port");
    /* Duplicate address detection (a solicitation from ::) is never
     * answered: a VM asks for its own new address, which the lookup
     * records give it alone, and an answer would make it give the address
     * up. */
    add_flow(x, OVERLAY_T_RESPONDER, 110, 0,
             "icmp6,ipv6_src=::,icmp_type=135 actions=drop");
    /* ARP and ND the responder did not answer, and other broadcast and
     * multicast, stop here: the overlay never floods. */
    add_flow(x, OVERLAY_T_RESPONDER, 50, 0, "arp actions=drop");
    add_flow(x, OVERLAY_T_RESPONDER, 50, 0,
             "icmp6,icmp_type=135 actions=drop");
    add_flow(x, OVERLAY_T_RESPONDER, 40, 0,
             "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop");
}

/* All the flows of lookup record 'r', remote or local, but for those of a
 * port bound to it. */
static void
xlate_record_flows(struct xlate *x, const struct policy_lookup_record *r)
{
    bool local = !strcmp(r->host, x->in->chassis);
    x->owner = cookie_of(&r->origin);
    if (!local && x->in->gre_ofport > 0) {
        xlate_tunnel_source(x, r->pa);
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
    struct xlate x = {
        .in = in,
        .ports = ports,
        .n_ports = n_ports,
        .desired = desired,
        .local_rds = local_rds,
        .match = DS_EMPTY_INITIALIZER,
    };

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
    ds_destroy(&x.match);
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
        struct xlate x = {
            .in = in,
            .desired = desired,
            .local_rds = local_rds,
            .match = DS_EMPTY_INITIALIZER,
        };
        xlate_record_flows(&x, r);
        ds_destroy(&x.match);
    }
    return true;
}
