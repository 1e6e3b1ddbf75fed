/* Unit tests of the pure pipeline translation: policy + local interfaces ->
 * flows, with no switch. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-packet.h"
#include "overlay/desired.h"
#include "overlay/flow.h"
#include "overlay/pipeline.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "random.h"
#include "sset.h"
#include "svec.h"
#include "util.h"
#include "uuid.h"

/* tenant-a and tenant-b use the same customer prefix; web-1 (a) and db-1
 * (b) both have CA 192.168.10.1. */
static const char policy_json[] =
"{\"routing_domains\": ["
"  {\"name\": \"tenant-a\", \"virtual_subnets\": ["
"     {\"vsid\": 5001, \"prefix\": \"192.168.10.0/24\","
"      \"gateway\": \"192.168.10.254\"},"
"     {\"vsid\": 5002, \"prefix\": \"192.168.20.0/24\","
"      \"gateway\": \"192.168.20.254\"}]},"
"  {\"name\": \"tenant-b\", \"virtual_subnets\": ["
"     {\"vsid\": 6001, \"prefix\": \"192.168.10.0/24\"}]}],"
" \"provider_subnets\": ["
"  {\"footprint\": \"r1\", \"prefix\": \"10.0.1.0/24\"},"
"  {\"footprint\": \"r2\", \"prefix\": \"10.0.2.0/24\"}],"
" \"lookup_records\": ["
"  {\"vsid\": 5001, \"ca\": \"192.168.10.1\", \"mac\": \"02:00:00:00:50:01\","
"   \"pa\": \"10.0.1.11\", \"host\": \"hv1\", \"vm\": \"web-1\"},"
"  {\"vsid\": 5001, \"ca\": \"192.168.10.2\", \"mac\": \"02:00:00:00:50:02\","
"   \"pa\": \"10.0.2.11\", \"host\": \"hv3\", \"vm\": \"web-2\"},"
"  {\"vsid\": 5002, \"ca\": \"192.168.20.1\", \"mac\": \"02:00:00:00:50:03\","
"   \"pa\": \"10.0.2.11\", \"host\": \"hv3\", \"vm\": \"app-1\"},"
"  {\"vsid\": 6001, \"ca\": \"192.168.10.1\", \"mac\": \"02:00:00:00:60:01\","
"   \"pa\": \"10.0.1.12\", \"host\": \"hv2\", \"vm\": \"db-1\"},"
"  {\"vsid\": 6001, \"ca\": \"192.168.10.2\", \"mac\": \"02:00:00:00:60:02\","
"   \"pa\": \"10.0.2.11\", \"host\": \"hv3\", \"vm\": \"db-2\"}],"
" \"customer_routes\": ["
"  {\"routing_domain\": \"tenant-a\", \"prefix\": \"10.99.0.0/16\","
"   \"next_hop\": \"192.168.20.1\", \"metric\": 1}]}";

struct fixture {
    struct policy policy;
    struct overlay_iface ifaces[3];
    struct overlay_input in;
    struct overlay_desired desired;
    struct sset local_rds;
    struct overlay_port *ports;
    size_t n_ports;
    struct svec texts;          /* Returned by actions_of(). */
};

static void
load(struct fixture *f, const char *json)
{
    struct svec errors = SVEC_EMPTY_INITIALIZER;
    policy_init(&f->policy);
    assert_true(policy_parse_string(json, "t.json", &f->policy, &errors));
    svec_destroy(&errors);
    policy_canonicalize(&f->policy);
}

static void
translate(struct fixture *f)
{
    free(f->ports);
    f->n_ports = overlay_pipeline_bind(&f->in, &f->ports);
    overlay_pipeline_translate(&f->in, f->ports, f->n_ports, &f->desired,
                               &f->local_rds);
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    svec_init(&f->texts);
    load(f, policy_json);
    f->ifaces[0] = (struct overlay_iface) {
        .name = "v-web1", .ofport = 5, .vm_id = "web-1",
    };
    f->ifaces[1] = (struct overlay_iface) {
        .name = "v-other", .ofport = 6, .vm_id = "nobody",
    };
    f->ifaces[2] = (struct overlay_iface) {
        .name = "v-new", .ofport = 0, .attached_mac = "02:00:00:00:60:01",
    };
    f->in = (struct overlay_input) {
        .policy = &f->policy, .chassis = "hv1", .gre_ofport = 1,
        .ifaces = f->ifaces, .n_ifaces = ARRAY_SIZE(f->ifaces),
    };
    overlay_desired_init(&f->desired);
    sset_init(&f->local_rds);
    translate(f);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    overlay_desired_destroy(&f->desired);
    sset_destroy(&f->local_rds);
    policy_destroy(&f->policy);
    svec_destroy(&f->texts);
    free(f->ports);
    free(f);
    return 0;
}

/* Returns the flow of 'flows' in 'table' at 'priority' with 'match' (in
 * ovs-ofctl syntax), or NULL. */
static const struct overlay_flow *
find_flow(const struct hmap *flows, int table, int priority,
          const char *match)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    char *s = xasprintf("table=%d,priority=%d%s%s", table, priority,
                        match[0] ? "," : "", match);
    char *error = parse_ofp_flow_mod_str(&fm, s, NULL, NULL,
                                         OFPFC_DELETE_STRICT, &usable);
    if (error) {
        fail_msg("%s: %s", s, error);
    }
    free(s);

    struct match m;
    minimatch_expand(&fm.match, &m);
    minimatch_destroy(&fm.match);
    struct overlay_flow key = {
        .table_id = table, .priority = priority,
        .match = overlay_match_new(&m),
    };
    const struct overlay_flow *flow = overlay_flows_find(flows, &key);
    overlay_match_unref(key.match);
    return flow;
}

/* Returns 'a' as ovs-ofctl writes actions, kept in 'f'. */
static const char *
actions_text(struct fixture *f, const struct overlay_shared *a)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    overlay_actions_format(a, &s);
    svec_add_nocopy(&f->texts, ds_steal_cstr(&s));
    return f->texts.names[f->texts.n - 1];
}

/* Returns 'actions', in ovs-ofctl syntax, as ovs-ofctl writes them back
 * (set_field:1->reg1 as set_field:0x1->reg1, say), kept in 'f'. */
static const char *
canon(struct fixture *f, const char *actions)
{
    uint64_t stub[128];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    enum ofputil_protocol usable;
    struct ofpact_parse_params pp = {
        .ofpacts = &ofpacts,
        .usable_protocols = &usable,
    };
    char *error = ofpacts_parse_instructions(actions, &pp);
    if (error) {
        fail_msg("%s: %s", actions, error);
    }
    const struct overlay_shared *a = overlay_shared_get(ofpacts.data,
                                                        ofpacts.size);
    const char *text = actions_text(f, a);
    overlay_shared_unref(a);
    ofpbuf_uninit(&ofpacts);
    return text;
}

/* Asserts that 'actual' (from actions_of()) are the actions 'expected', in
 * ovs-ofctl syntax, however written (set_field:1->reg1 or 0x1). */
#define assert_actions(F, ACTUAL, EXPECTED) \
    assert_string_equal(ACTUAL, canon(F, EXPECTED))

/* Returns the actions of the flow with this key, as ovs-ofctl writes them,
 * or NULL. */
static const char *
actions_of(struct fixture *f, int table, int priority, const char *match)
{
    const struct overlay_flow *flow = find_flow(&f->desired.flows, table,
                                                priority, match);
    if (!flow) {
        return NULL;
    }
    return actions_text(f, flow->actions);
}

static size_t
count_matching(const struct fixture *f, const char *needle)
{
    const struct overlay_flow *flow;
    size_t n = 0;
    HMAP_FOR_EACH (flow, node, &f->desired.flows) {
        struct ds s = DS_EMPTY_INITIALIZER;
        overlay_flow_format(flow, &s);
        n += strstr(ds_cstr(&s), needle) != NULL;
        ds_destroy(&s);
    }
    return n;
}

/* Copies the flows of 'f' into 'copy' (freed with overlay_flows_clear()). */
static void
copy_flows(const struct fixture *f, struct hmap *copy)
{
    const struct overlay_flow *flow;
    HMAP_FOR_EACH (flow, node, &f->desired.flows) {
        struct overlay_flow *clone = overlay_flow_clone(flow);
        hmap_insert(copy, &clone->node, flow->node.hash);
    }
}

/* The switch takes every flow of 'f': each one's actions are consistent
 * with its match.  Returns how many there are. */
static size_t
assert_all_flows_check(const struct fixture *f)
{
    const struct overlay_flow *flow;
    size_t n = 0;
    HMAP_FOR_EACH (flow, node, &f->desired.flows) {
        char *error = overlay_flow_check(flow);
        if (error) {
            fail_msg("%s", error);
        }
        n++;
    }
    return n;
}

static void
test_binds_only_own_records_with_ofport(void **state)
{
    struct fixture *f = *state;
    /* web-1 is placed on hv1 and has an interface; db-1's interface has no
     * OpenFlow port yet, and db-1 lives on hv2 anyway. */
    assert_int_equal(f->n_ports, 1);
    assert_string_equal(f->ports[0].iface->name, "v-web1");
    assert_string_equal(f->ports[0].record->vm, "web-1");
}

static void
test_binds_by_attached_mac(void **state)
{
    struct fixture *f = *state;
    f->in.chassis = "hv2";
    f->ifaces[2].ofport = 7;
    translate(f);
    assert_int_equal(f->n_ports, 1);
    assert_string_equal(f->ports[0].record->vm, "db-1");
    assert_actions(f, actions_of(f, OVERLAY_T_CLASSIFY, 100, "in_port=7"),
                      "set_field:6001->metadata,set_field:2->reg1,"
                      "goto_table:2");
}

static void
test_classify_and_port_security(void **state)
{
    struct fixture *f = *state;
    assert_actions(f, actions_of(f, OVERLAY_T_CLASSIFY, 100, "in_port=5"),
                      "set_field:5001->metadata,set_field:1->reg1,"
                      "goto_table:2");
    assert_actions(f,
        actions_of(f, OVERLAY_T_PORT_SECURITY, 100,
                   "in_port=5,dl_src=02:00:00:00:50:01,ip,"
                   "nw_src=192.168.10.1"), "goto_table:3");
    assert_actions(f,
        actions_of(f, OVERLAY_T_PORT_SECURITY, 100,
                   "in_port=5,dl_src=02:00:00:00:50:01,arp,"
                   "arp_spa=192.168.10.1,arp_sha=02:00:00:00:50:01"),
        "goto_table:3");
    /* Nothing else from port 5 passes port security. */
    assert_int_equal(count_matching(f, "table=2,priority=100"), 2);
    assert_actions(f, actions_of(f, OVERLAY_T_PORT_SECURITY, 0, ""),
                      "drop");
}

static void
test_forward_local_and_remote(void **state)
{
    struct fixture *f = *state;
    /* web-1 here, above what a migrated VM's announcement may teach. */
    assert_actions(f,
        actions_of(f, OVERLAY_T_FORWARD, 125,
                   "metadata=5001,dl_dst=02:00:00:00:50:01"), "output:5");
    /* web-2 on hv3: GRE to its PA, key 5001 << 8 = 0x138900; never back
     * out of the tunnel it came from (reg0=0). */
    assert_actions(f,
        actions_of(f, OVERLAY_T_FORWARD, 100,
                   "reg0=0,metadata=5001,dl_dst=02:00:00:00:50:02"),
        "set_field:10.0.2.11->tun_dst,set_field:0x138900->tun_id,output:1");
    assert_int_equal(overlay_gre_key(5001), 0x138900);
    assert_int_equal(overlay_gre_key(16777214), 0xfffffe00);
}

/* Flows of one shape share their mask, and equal actions are one copy:
 * the agent keeps a few dozen masks for any number of records. */
static void
test_flows_share_masks_and_actions(void **state)
{
    struct fixture *f = *state;
    const struct overlay_flow *web2 = find_flow(
        &f->desired.flows, OVERLAY_T_FORWARD, 100,
        "reg0=0,metadata=5001,dl_dst=02:00:00:00:50:02");
    const struct overlay_flow *db1 = find_flow(
        &f->desired.flows, OVERLAY_T_FORWARD, 100,
        "reg0=0,metadata=5002,dl_dst=02:00:00:00:50:03");
    assert_non_null(web2);
    assert_non_null(db1);
    assert_ptr_equal(web2->match->mm.mask, db1->match->mm.mask);
    assert_ptr_not_equal(web2->actions, db1->actions);

    const struct overlay_flow *from_hv3 = find_flow(
        &f->desired.flows, OVERLAY_T_CLASSIFY, 100,
        "in_port=1,tun_src=10.0.2.11");
    const struct overlay_flow *from_hv2 = find_flow(
        &f->desired.flows, OVERLAY_T_CLASSIFY, 100,
        "in_port=1,tun_src=10.0.1.12");
    assert_non_null(from_hv3);
    assert_non_null(from_hv2);
    assert_ptr_equal(from_hv3->actions, from_hv2->actions);
    assert_ptr_not_equal(from_hv3->match, from_hv2->match);
}

static void
test_other_tenant_gets_no_flows(void **state)
{
    struct fixture *f = *state;
    /* hv1 hosts nothing of tenant-b: none of its records, keys or MACs. */
    assert_int_equal(count_matching(f, "metadata=0x1771"), 0);
    assert_int_equal(count_matching(f, "02:00:00:00:60:0"), 0);
    assert_int_equal(count_matching(f, "tun_id=0x177100"), 0);
    assert_non_null(actions_of(f, OVERLAY_T_TUNNEL_KEY, 100,
                               "tun_id=0x138900/0xffffff00"));
}

static void
test_tunnel_accepts_known_pas_only(void **state)
{
    struct fixture *f = *state;
    assert_actions(f, actions_of(f, OVERLAY_T_CLASSIFY, 100,
                                 "in_port=1,tun_src=10.0.2.11"),
                      "goto_table:1");
    assert_actions(f, actions_of(f, OVERLAY_T_CLASSIFY, 100,
                                 "in_port=1,tun_src=10.0.1.12"),
                      "goto_table:1");
    /* Our own PA is not a source of tunnel traffic. */
    assert_null(actions_of(f, OVERLAY_T_CLASSIFY, 100,
                           "in_port=1,tun_src=10.0.1.11"));
    assert_actions(f, actions_of(f, OVERLAY_T_CLASSIFY, 0, ""), "drop");
    assert_actions(f,
        actions_of(f, OVERLAY_T_TUNNEL_KEY, 100,
                   "tun_id=0x138900/0xffffff00"),
        "set_field:5001->metadata,set_field:1->reg1,set_field:1->reg0,"
        "goto_table:5");
    assert_actions(f, actions_of(f, OVERLAY_T_TUNNEL_KEY, 0, ""), "drop");
}

/* The actions that make the answer to a question about an address come
 * from 'mac'. */
static char *
answer_from(struct eth_addr mac)
{
    return xasprintf("set_field:%#"PRIx64"->xreg2,resubmit(,3)",
                     (UINT64_C(1) << 48) | eth_addr_to_uint64(mac));
}

static void
test_arp_responder(void **state)
{
    struct fixture *f = *state;
    struct eth_addr web2;
    assert_true(eth_addr_from_string("02:00:00:00:50:02", &web2));
    char *want = answer_from(web2);
    const char *a = actions_of(f, OVERLAY_T_RESPONDER, 100,
                               "metadata=5001,arp,arp_op=1,"
                               "arp_tpa=192.168.10.2");
    assert_non_null(a);
    assert_actions(f, a, want);
    free(want);

    /* The gateway is answered with the routing domain's router MAC. */
    want = answer_from(overlay_router_mac("tenant-a"));
    a = actions_of(f, OVERLAY_T_RESPONDER, 100,
                   "metadata=5001,arp,arp_op=1,arp_tpa=192.168.10.254");
    assert_non_null(a);
    assert_actions(f, a, want);
    free(want);

    /* One flow answers for all: from that MAC, for the address asked
     * about, to the asker, out of the port it asked on. */
    assert_actions(f,
        actions_of(f, OVERLAY_T_RESPONDER, 130,
                   "xreg2=0x1000000000000/0x1000000000000,arp,arp_op=1"),
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
        "move:OXM_OF_PKT_REG2[0..47]->NXM_OF_ETH_SRC[],set_field:2->arp_op,"
        "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
        "move:OXM_OF_PKT_REG2[0..47]->NXM_NX_ARP_SHA[],"
        "move:NXM_OF_ARP_TPA[]->NXM_NX_REG6[],"
        "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
        "move:NXM_NX_REG6[]->NXM_OF_ARP_SPA[],in_port");

    /* Unanswered ARP and any broadcast stop here. */
    assert_actions(f, actions_of(f, OVERLAY_T_RESPONDER, 50, "arp"),
                      "drop");
    assert_actions(f,
        actions_of(f, OVERLAY_T_RESPONDER, 40,
                   "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00"), "drop");
}

static void
test_router(void **state)
{
    struct fixture *f = *state;
    struct eth_addr rmac = overlay_router_mac("tenant-a");
    char *match = xasprintf("reg1=1,dl_dst="ETH_ADDR_FMT",ip,"
                            "nw_dst=192.168.20.1", ETH_ADDR_ARGS(rmac));
    char *want = xasprintf("dec_ttl,set_field:"ETH_ADDR_FMT"->eth_src,"
                           "set_field:02:00:00:00:50:03->eth_dst,"
                           "set_field:5002->metadata,goto_table:5",
                           ETH_ADDR_ARGS(rmac));
    assert_actions(f, actions_of(f, OVERLAY_T_ROUTER, 1000, match), want);
    free(match);

    /* The customer route to 10.99.0.0/16 goes via app-1 (192.168.20.1). */
    match = xasprintf("reg1=1,dl_dst="ETH_ADDR_FMT",ip,nw_dst=10.99.0.0/16",
                      ETH_ADDR_ARGS(rmac));
    assert_actions(f, actions_of(f, OVERLAY_T_ROUTER, 100 + 96 + 16,
                                 match), want);
    free(match);
    free(want);
}

static void
load_ipv6(struct fixture *f)
{
    policy_destroy(&f->policy);
    load(f,
"{\"routing_domains\": [{\"name\": \"v6\", \"virtual_subnets\": ["
"   {\"vsid\": 7001, \"prefix\": \"fd00:10::/64\","
"    \"gateway\": \"fd00:10::ff\"}]}],"
" \"provider_subnets\": [{\"footprint\": \"r\", \"prefix\": \"10.0.1.0/24\"}],"
" \"lookup_records\": ["
"  {\"vsid\": 7001, \"ca\": \"fd00:10::1\", \"mac\": \"02:00:00:00:70:01\","
"   \"pa\": \"10.0.1.11\", \"host\": \"hv1\", \"vm\": \"web-1\"},"
"  {\"vsid\": 7001, \"ca\": \"fd00:10::2\", \"mac\": \"02:00:00:00:70:02\","
"   \"pa\": \"10.0.1.12\", \"host\": \"hv2\", \"vm\": \"web-2\"}]}");
    translate(f);
}

static void
test_ipv6_port_and_nd_responder(void **state)
{
    struct fixture *f = *state;
    load_ipv6(f);
    assert_actions(f,
        actions_of(f, OVERLAY_T_PORT_SECURITY, 100,
                   "in_port=5,dl_src=02:00:00:00:70:01,ipv6,"
                   "ipv6_src=fd00:10::1"), "goto_table:3");
    struct eth_addr web2;
    assert_true(eth_addr_from_string("02:00:00:00:70:02", &web2));
    char *want = answer_from(web2);
    const char *a = actions_of(f, OVERLAY_T_RESPONDER, 100,
                               "metadata=7001,icmp6,icmp_type=135,"
                               "nd_target=fd00:10::2");
    assert_non_null(a);
    assert_actions(f, a, want);
    free(want);
    /* The flow common to all answers makes the advertisement... */
    assert_actions(f,
        actions_of(f, OVERLAY_T_RESPONDER, 130,
                   "xreg2=0x1000000000000/0x1000000000000,icmp6,"
                   "icmp_type=135"),
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
        "move:OXM_OF_PKT_REG2[0..47]->NXM_OF_ETH_SRC[],"
        "move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],"
        "move:NXM_NX_ND_TARGET[]->NXM_NX_IPV6_SRC[],"
        "set_field:136->icmpv6_type,"
        "set_field:0x60000000->nd_reserved,"
        "set_field:2->nd_options_type,"
        "set_field:1->reg2,resubmit(,3)");
    /* ... and, resubmitted as an advertisement, gets web-2's MAC (its
     * source by now) as its target link-layer address. */
    assert_actions(f,
        actions_of(f, OVERLAY_T_RESPONDER, 120,
                   "reg2=1,icmp6,icmp_type=136,icmp_code=0"),
        "move:NXM_OF_ETH_SRC[]->NXM_NX_ND_TLL[],in_port");

    struct eth_addr rmac = overlay_router_mac("v6");
    char *match = xasprintf("reg1=1,dl_dst="ETH_ADDR_FMT",ipv6,"
                            "ipv6_dst=fd00:10::2", ETH_ADDR_ARGS(rmac));
    assert_non_null(actions_of(f, OVERLAY_T_ROUTER, 1000, match));
    free(match);
}

/* web-1's link-local address, made from its MAC 02:00:00:00:70:01. */
#define WEB1_LLA "fe80::ff:fe00:7001"

/* An IPv6 VM sends from its link-local address only the ICMPv6 it needs:
 * router solicitation, neighbour discovery, MLD; never a router
 * advertisement or a redirect, and advertisements only for itself. */
static void
test_ipv6_port_security(void **state)
{
    struct fixture *f = *state;
    load_ipv6(f);

    /* Not the whole of fe80::/10, not every ICMPv6 type. */
    assert_int_equal(count_matching(f, "fe80::/10"), 0);
    static const int allowed[] = { 133, 135, 131, 132, 143 };
    for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
        char *match = xasprintf("in_port=5,dl_src=02:00:00:00:70:01,icmp6,"
                                "ipv6_src="WEB1_LLA",icmp_type=%d",
                                allowed[i]);
        assert_actions(f, actions_of(f, OVERLAY_T_PORT_SECURITY, 100,
                                     match), "goto_table:3");
        free(match);
    }
    /* From ::, only DAD and MLDv2 reports. */
    assert_non_null(actions_of(f, OVERLAY_T_PORT_SECURITY, 100,
                               "in_port=5,dl_src=02:00:00:00:70:01,icmp6,"
                               "ipv6_src=::,icmp_type=135"));
    assert_non_null(actions_of(f, OVERLAY_T_PORT_SECURITY, 100,
                               "in_port=5,dl_src=02:00:00:00:70:01,icmp6,"
                               "ipv6_src=::,icmp_type=143"));
    assert_int_equal(count_matching(f, "ipv6_src=::,"), 2 + 1);
    /* Its CA, its link-local address and one each from :: (and the
     * responder's DAD flow, counted above, is not port security). */
    assert_int_equal(count_matching(f, "table=2,priority=100"),
                     1 + ARRAY_SIZE(allowed) + 2);

    /* Advertisements of its own addresses only, above the drop. */
    assert_int_equal(count_matching(f, "table=2,priority=106"), 4);
    assert_actions(f,
        actions_of(f, OVERLAY_T_PORT_SECURITY, 106,
                   "in_port=5,dl_src=02:00:00:00:70:01,icmp6,"
                   "ipv6_src="WEB1_LLA",icmp_type=136,nd_target=fd00:10::1"),
        "goto_table:3");
    assert_null(actions_of(f, OVERLAY_T_PORT_SECURITY, 106,
                           "in_port=5,dl_src=02:00:00:00:70:01,icmp6,"
                           "ipv6_src=fd00:10::1,icmp_type=136,"
                           "nd_target=fd00:10::2"));
    static const int dropped[] = { 134, 136, 137 };
    for (size_t i = 0; i < ARRAY_SIZE(dropped); i++) {
        char *match = xasprintf("icmp6,icmp_type=%d", dropped[i]);
        assert_actions(f, actions_of(f, OVERLAY_T_PORT_SECURITY, 105,
                                     match), "drop");
        free(match);
    }
    /* A VM's duplicate address detection is never answered. */
    assert_actions(f, actions_of(f, OVERLAY_T_RESPONDER, 110,
                                 "icmp6,ipv6_src=::,icmp_type=135"),
                      "drop");
    assert_all_flows_check(f);
}

/* A ping to a gateway address is answered by the router, IPv4 and IPv6. */
static void
test_gateway_echo(void **state)
{
    struct fixture *f = *state;
    struct eth_addr rmac = overlay_router_mac("tenant-a");
    /* Both of tenant-a's gateways, whichever subnet asks. */
    const char *gateways[] = { "192.168.10.254", "192.168.20.254" };
    for (size_t i = 0; i < ARRAY_SIZE(gateways); i++) {
        char *match = xasprintf("reg1=1,dl_dst="ETH_ADDR_FMT",icmp,nw_dst=%s,"
                                "icmp_type=8,icmp_code=0",
                                ETH_ADDR_ARGS(rmac), gateways[i]);
        char *want = xasprintf(
            "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
            "set_field:"ETH_ADDR_FMT"->eth_src,"
            "move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[],set_field:%s->ip_src,"
            "set_field:255->nw_ttl,set_field:0->icmp_type,in_port",
            ETH_ADDR_ARGS(rmac), gateways[i]);
        assert_actions(f, actions_of(f, OVERLAY_T_ROUTER, 1100, match),
                          want);
        free(want);
        free(match);
    }
    /* tenant-b's subnet has no gateway: nothing answers there. */
    assert_int_equal(count_matching(f, "icmp_type=8"), 2);

    load_ipv6(f);
    rmac = overlay_router_mac("v6");
    char *match = xasprintf("reg1=1,dl_dst="ETH_ADDR_FMT",icmp6,"
                            "ipv6_dst=fd00:10::ff,icmp_type=128,icmp_code=0",
                            ETH_ADDR_ARGS(rmac));
    char *want = xasprintf(
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
        "set_field:"ETH_ADDR_FMT"->eth_src,"
        "move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],"
        "set_field:fd00:10::ff->ipv6_src,set_field:255->nw_ttl,"
        "set_field:129->icmpv6_type,in_port", ETH_ADDR_ARGS(rmac));
    assert_actions(f, actions_of(f, OVERLAY_T_ROUTER, 1100, match), want);
    free(want);
    free(match);
    assert_all_flows_check(f);
}

/* app-1, the next hop of tenant-a's route to 10.99.0.0/16, runs on hv3:
 * there it may send from that prefix, which it routes for. */
static void
test_route_next_hop_sends_for_its_prefix(void **state)
{
    struct fixture *f = *state;
    f->in.chassis = "hv3";
    f->ifaces[1].vm_id = "app-1";
    translate(f);
    assert_actions(f,
        actions_of(f, OVERLAY_T_PORT_SECURITY, 100,
                   "in_port=6,dl_src=02:00:00:00:50:03,ip,"
                   "nw_src=10.99.0.0/16"), "goto_table:3");
    assert_actions(f,
        actions_of(f, OVERLAY_T_PORT_SECURITY, 100,
                   "in_port=6,dl_src=02:00:00:00:50:03,arp,"
                   "arp_spa=10.99.0.0/16,arp_sha=02:00:00:00:50:03"),
        "goto_table:3");
    /* No other port may: those two and the route itself. */
    assert_int_equal(count_matching(f, "10.99.0.0/16"), 2 + 1);
}

/* A route's metric changes no flow: a routing domain has one route per
 * prefix, and of overlapping prefixes the longest wins, so there is never
 * a tie for a metric to break. */
static void
test_route_metric_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct hmap before = HMAP_INITIALIZER(&before);
    copy_flows(f, &before);
    assert_int_equal(f->policy.n_routes, 1);
    f->policy.routes[0].metric = 50;
    translate(f);

    struct overlay_flow_change *changes;
    assert_int_equal(overlay_flows_diff(&before, &f->desired.flows, NULL, &changes), 0);
    free(changes);
    overlay_flows_clear(&before);
    hmap_destroy(&before);
}

/* The example of README.md's "Policy files", as written there: its route
 * goes via web-1, a VM of the routing domain, and so has a flow. */
static void
test_readme_example_route(void **state)
{
    struct fixture *f = *state;
    policy_destroy(&f->policy);
    load(f,
"{\"routing_domains\": ["
"    {\"name\": \"tenant-a\","
"     \"virtual_subnets\": [{\"vsid\": 5001, \"prefix\": \"192.168.10.0/24\","
"                           \"gateway\": \"192.168.10.254\"}]}"
"  ],"
"  \"provider_subnets\": [{\"footprint\": \"rack-1\","
"                         \"prefix\": \"10.0.1.0/24\","
"                         \"gateway\": \"10.0.1.1\"}],"
"  \"lookup_records\": ["
"    {\"vsid\": 5001, \"ca\": \"192.168.10.1\","
"     \"mac\": \"02:00:c0:a8:0a:01\", \"pa\": \"10.0.1.11\","
"     \"host\": \"hv1\", \"vm\": \"web-1\"}"
"  ],"
"  \"customer_routes\": [{\"routing_domain\": \"tenant-a\","
"                        \"prefix\": \"10.20.0.0/16\","
"                        \"next_hop\": \"192.168.10.1\"}]"
"}");
    translate(f);
    struct eth_addr rmac = overlay_router_mac("tenant-a");
    char *match = xasprintf("reg1=1,dl_dst="ETH_ADDR_FMT",ip,"
                            "nw_dst=10.20.0.0/16", ETH_ADDR_ARGS(rmac));
    char *want = xasprintf("dec_ttl,set_field:"ETH_ADDR_FMT"->eth_src,"
                           "set_field:02:00:c0:a8:0a:01->eth_dst,"
                           "set_field:5001->metadata,goto_table:5",
                           ETH_ADDR_ARGS(rmac));
    assert_actions(f, actions_of(f, OVERLAY_T_ROUTER, 100 + 96 + 16,
                                 match), want);
    free(want);
    free(match);
    /* web-1 runs here: it may send from the prefix it routes for. */
    assert_non_null(actions_of(f, OVERLAY_T_PORT_SECURITY, 100,
                               "in_port=5,dl_src=02:00:c0:a8:0a:01,ip,"
                               "nw_src=10.20.0.0/16"));
}

static void
test_translation_is_stable_and_diffs_are_small(void **state)
{
    struct fixture *f = *state;
    struct hmap before = HMAP_INITIALIZER(&before);
    copy_flows(f, &before);

    struct overlay_flow_change *changes;
    translate(f);
    assert_int_equal(overlay_flows_diff(&before, &f->desired.flows, NULL, &changes), 0);
    free(changes);

    /* web-2 moves from hv3 (10.0.2.11) to hv2 (10.0.1.12): its tunnel flow
     * changes in place, and nothing else does (both PAs stay known). */
    for (size_t i = 0; i < f->policy.n_records; i++) {
        struct policy_lookup_record *r = &f->policy.records[i];
        if (r->vm && !strcmp(r->vm, "web-2")) {
            free(r->pa);
            r->pa = xstrdup("10.0.1.12");
            assert_null(policy_parse_addr(&r->pa, &r->pa_a));
            free(r->host);
            r->host = xstrdup("hv2");
        }
    }
    translate(f);
    assert_int_equal(overlay_flows_diff(&before, &f->desired.flows, NULL, &changes), 1);
    assert_non_null(changes[0].old);
    assert_non_null(changes[0].new);
    assert_actions(f, actions_text(f, changes[0].new->actions),
                      "set_field:10.0.1.12->tun_dst,"
                      "set_field:0x138900->tun_id,output:1");
    free(changes);
    overlay_flows_clear(&before);
    hmap_destroy(&before);
}

static void
test_redirect_after_departure(void **state)
{
    struct fixture *f = *state;
    const struct overlay_redirect r = { 5001, "02:00:00:00:50:01",
                                        "10.0.2.11" };
    f->in.redirects = &r;
    f->in.n_redirects = 1;
    translate(f);
    assert_actions(f,
        actions_of(f, OVERLAY_T_FORWARD, 110,
                   "reg0=1,metadata=5001,dl_dst=02:00:00:00:50:01"),
        "set_field:10.0.2.11->tun_dst,set_field:0x138900->tun_id,"
        "load:0->NXM_OF_IN_PORT[],output:1");
}

/* A VM that migrated away was the last of its routing domain here: the
 * domain's flows went with it, but its GRE key is still accepted, so that
 * what is still tunnelled here meets the redirect. */
static void
test_redirect_of_the_last_vm_of_a_domain(void **state)
{
    struct fixture *f = *state;
    const char *key = "tun_id=0x177100/0xffffff00";   /* VSID 6001. */
    assert_null(actions_of(f, OVERLAY_T_TUNNEL_KEY, 100, key));

    const struct overlay_redirect r = { 6001, "02:00:00:00:60:01",
                                        "10.0.2.11" };
    f->in.redirects = &r;
    f->in.n_redirects = 1;
    translate(f);
    assert_false(sset_contains(&f->local_rds, "tenant-b"));
    const char *accept = actions_of(f, OVERLAY_T_TUNNEL_KEY, 100, key);
    assert_non_null(accept);
    assert_actions(f, accept, "set_field:6001->metadata,set_field:2->reg1,"
                      "set_field:1->reg0,goto_table:5");
    assert_non_null(actions_of(f, OVERLAY_T_FORWARD, 110,
                               "reg0=1,metadata=6001,"
                               "dl_dst=02:00:00:00:60:01"));
    /* Nothing else of the domain is here. */
    assert_null(actions_of(f, OVERLAY_T_RESPONDER, 100,
                           "metadata=6001,arp,arp_op=1,"
                           "arp_tpa=192.168.10.2"));
}

static void
test_flows_per_remote_record(void **state)
{
    struct fixture *f = *state;
    /* ARP answer (which names its MAC as a number), route, tunnel: three
     * flows for web-2. */
    assert_int_equal(count_matching(f, "02:00:00:00:50:02")
                     + count_matching(f, "0x1020000005002->xreg2"), 3);
}

/* Another chassis's PA is accepted even if it hosts no VM yet: a VM's
 * destination announces it from there. */
static void
test_tunnel_accepts_peer_chassis(void **state)
{
    struct fixture *f = *state;
    struct sset peers = SSET_INITIALIZER(&peers);
    sset_add(&peers, "10.0.3.9");
    f->in.peer_pas = &peers;
    translate(f);
    assert_actions(f, actions_of(f, OVERLAY_T_CLASSIFY, 100,
                                 "in_port=1,tun_src=10.0.3.9"),
                      "goto_table:1");
    sset_destroy(&peers);
}

/* db-1 (tenant-b, on hv2) is on its way to hv1: its port is there. */
static void
migrate_db1_here(struct fixture *f, struct sset *incoming)
{
    sset_add(incoming, "db-1");
    f->ifaces[2].ofport = 7;
    f->in.incoming = incoming;
}

/* db-1 (tenant-b, on hv2) migrates to hv1, where its port appears: the
 * port may send at once; before it announces itself, only what comes by
 * tunnel is delivered to it (what hv2 holds for it during its last pause,
 * which the port queues until it runs); its announcement activates it and
 * goes on to hv2. */
static void
test_incoming_port_activates_on_announcement(void **state)
{
    struct fixture *f = *state;
    struct sset incoming = SSET_INITIALIZER(&incoming);
    migrate_db1_here(f, &incoming);
    translate(f);

    assert_int_equal(f->n_ports, 2);
    assert_true(f->ports[1].incoming);
    assert_false(f->ports[0].incoming);
    assert_string_equal(f->ports[1].iface->name, "v-new");
    assert_non_null(actions_of(f, OVERLAY_T_CLASSIFY, 100, "in_port=7"));
    assert_non_null(actions_of(
        f, OVERLAY_T_PORT_SECURITY, 100,
        "in_port=7,dl_src=02:00:00:00:60:01,ip,nw_src=192.168.10.1"));
    /* Inactive: local senders still reach db-1 on hv2, and only packets
     * held for it come in. */
    assert_int_equal(count_matching(f, "output:7"), 1);
    assert_actions(f,
        actions_of(f, OVERLAY_T_FORWARD, 122,
                   "reg0=1,metadata=6001,dl_dst=02:00:00:00:60:01"),
        "output:7");
    assert_actions(f,
        actions_of(f, OVERLAY_T_FORWARD, 100,
                   "reg0=0,metadata=6001,dl_dst=02:00:00:00:60:01"),
        "set_field:10.0.1.12->tun_dst,set_field:0x177100->tun_id,output:1");

    static const char activate[] =
        "learn(table=5,priority=120,hard_timeout=10,delete_learned,"
        "OXM_OF_METADATA[],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
        "output:NXM_OF_IN_PORT[]),"
        "set_field:10.0.1.12->tun_dst,set_field:0x177100->tun_id,output:1,"
        "controller";
    assert_actions(f,
        actions_of(f, OVERLAY_T_PORT_SECURITY, 110,
                   "in_port=7,dl_src=02:00:00:00:60:01,rarp"),
        activate);
    assert_actions(f,
        actions_of(f, OVERLAY_T_PORT_SECURITY, 110,
                   "in_port=7,dl_src=02:00:00:00:60:01,arp,"
                   "arp_spa=192.168.10.1,arp_tpa=192.168.10.1"),
        activate);

    /* Once its record moved here it is an ordinary local port. */
    f->in.incoming = NULL;
    free(f->policy.records[3].host);
    f->policy.records[3].host = xstrdup("hv1");
    translate(f);
    assert_false(f->ports[1].incoming);
    assert_actions(f, actions_of(f, OVERLAY_T_FORWARD, 125,
                                 "metadata=6001,dl_dst=02:00:00:00:60:01"),
                      "output:7");
    assert_null(actions_of(f, OVERLAY_T_PORT_SECURITY, 110,
                           "in_port=7,dl_src=02:00:00:00:60:01,rarp"));
    sset_destroy(&incoming);
}

/* web-1 runs here: its announcement arriving by tunnel (it is about to run
 * on another host) makes the switch redirect to the sender what still
 * comes here for it. */
static void
test_departure_learns_redirect(void **state)
{
    struct fixture *f = *state;
    static const char learn_redirect[] =
        "learn(table=5,priority=120,hard_timeout=10,OXM_OF_METADATA[],"
        "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
        "load:NXM_NX_TUN_IPV4_SRC[]->NXM_NX_TUN_IPV4_DST[],"
        "load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],load:0->NXM_OF_IN_PORT[],"
        "output:NXM_OF_IN_PORT[])";
    assert_actions(f,
        actions_of(f, OVERLAY_T_FORWARD, 130,
                   "reg0=1,metadata=5001,dl_src=02:00:00:00:50:01,rarp"),
        learn_redirect);
    assert_actions(f,
        actions_of(f, OVERLAY_T_FORWARD, 130,
                   "reg0=1,metadata=5001,dl_src=02:00:00:00:50:01,arp,"
                   "arp_spa=192.168.10.1,arp_tpa=192.168.10.1"),
        learn_redirect);
    /* Only for VMs here. */
    assert_int_equal(count_matching(f, "learn("), 2);

    /* While web-1 migrates away, what its announcement elsewhere teaches
     * (priority 120) outranks its delivery here. */
    struct sset outgoing = SSET_INITIALIZER(&outgoing);
    sset_add(&outgoing, "web-1");
    f->in.outgoing = &outgoing;
    translate(f);
    assert_actions(f,
        actions_of(f, OVERLAY_T_FORWARD, 100,
                   "metadata=5001,dl_dst=02:00:00:00:50:01"), "output:5");
    assert_null(actions_of(f, OVERLAY_T_FORWARD, 125,
                           "metadata=5001,dl_dst=02:00:00:00:50:01"));
    sset_destroy(&outgoing);
}

/* Whatever the pipeline makes, the switch can take: every flow parses as
 * an OpenFlow flow_mod, learn actions included. */
static void
test_every_flow_parses(void **state)
{
    struct fixture *f = *state;
    struct sset incoming = SSET_INITIALIZER(&incoming);
    const struct overlay_redirect r = { 5001, "02:00:00:00:50:02",
                                        "10.0.2.11" };
    migrate_db1_here(f, &incoming);
    f->in.redirects = &r;
    f->in.n_redirects = 1;
    translate(f);
    assert_true(assert_all_flows_check(f) > 40);
    sset_destroy(&incoming);
}

/* The tunnel probe is a packet-out the switch takes: a minimum-size frame
 * by GRE to the PA, with key 0. */
static void
test_tunnel_probe(void **state OVS_UNUSED)
{
    char *probe = overlay_pipeline_tunnel_probe(1, "10.0.2.11");
    struct ofputil_packet_out po;
    enum ofputil_protocol usable;
    char *error = parse_ofp_packet_out_str(&po, probe, NULL, NULL, &usable);
    if (error) {
        fail_msg("%s", error);
    }
    assert_int_equal(po.packet_len, 60);
    assert_non_null(strstr(probe, "set_field:10.0.2.11->tun_dst,"
                           "set_field:0->tun_id,output:1"));
    free(CONST_CAST(void *, po.packet));
    free(po.ofpacts);
    free(probe);

    probe = overlay_pipeline_tunnel_probe(1, "fd00::11");
    assert_non_null(strstr(probe, "set_field:fd00::11->tun_ipv6_dst"));
    free(probe);
}


/* Asserts that flow sets 'a' and 'b' hold the same flows with the same
 * values. */
static void
assert_same_flows(const struct hmap *a, const struct hmap *b)
{
    const struct overlay_flow *flow;
    HMAP_FOR_EACH (flow, node, b) {
        const struct overlay_flow *other = overlay_flows_find(a, flow);
        if (!other || !overlay_flow_same_value(other, flow)) {
            struct ds s = DS_EMPTY_INITIALIZER;
            overlay_flow_format(flow, &s);
            if (other) {
                ds_put_cstr(&s, " is instead ");
                overlay_flow_format(other, &s);
            }
            fail_msg("%s flow %s", other ? "changed" : "missing", ds_cstr(&s));
        }
    }
    assert_int_equal(hmap_count(a), hmap_count(b));
}

static char *
random_choice(const char *const *choices, size_t n)
{
    return xstrdup(choices[random_range(n)]);
}

/* Gives 'r' a random MAC, PA and host.  Few MACs and PAs, so that records
 * share flows (the delivery to one MAC, the tunnel source of one PA); now
 * and then the host is this one, which only a full translation applies. */
static void
randomize_record(struct policy_lookup_record *r)
{
    static const char *const macs[] = {
        "02:00:00:00:aa:01", "02:00:00:00:aa:02", "02:00:00:00:aa:03",
        "02:00:00:00:aa:04", "02:00:00:00:aa:05",
    };
    static const char *const pas[] = {
        "10.0.1.12", "10.0.2.11", "10.0.2.12", "fd00::21",
    };
    static const char *const hosts[] = {
        "hv2", "hv3", "hv2", "hv3", "hv2", "hv3", "hv2", "hv3", "hv1",
    };
    free(r->mac);
    free(r->pa);
    free(r->host);
    r->mac = random_choice(macs, ARRAY_SIZE(macs));
    r->pa = random_choice(pas, ARRAY_SIZE(pas));
    r->host = random_choice(hosts, ARRAY_SIZE(hosts));
    assert_null(policy_parse_mac(&r->mac, &r->mac_e));
    assert_null(policy_parse_addr(&r->pa, &r->pa_a));
}

/* Adds a record with a random key not in use yet, or returns NULL if it
 * drew one in use. */
static struct policy_lookup_record *
add_random_record(struct policy *p)
{
    static const int64_t vsids[] = { 5001, 5002, 6001 };
    int64_t vsid = vsids[random_range(ARRAY_SIZE(vsids))];
    char *ca = xasprintf("192.168.%d.%d", vsid == 5002 ? 20 : 10,
                         1 + (int) random_range(30));
    for (size_t i = 0; i < p->n_records; i++) {
        if (p->records[i].vsid == vsid && !strcmp(p->records[i].ca, ca)) {
            free(ca);
            return NULL;
        }
    }
    struct policy_lookup_record *r = policy_add_lookup_record(p);
    r->vsid = vsid;
    r->ca = ca;
    assert_null(policy_parse_addr(&r->ca, &r->ca_a));
    r->vm = xasprintf("vm-%s", r->ca);
    uuid_generate(&r->origin.row);
    randomize_record(r);
    return r;
}

static struct policy_lookup_record *
find_record_by_row(const struct policy *p, const struct uuid *row)
{
    for (size_t i = 0; i < p->n_records; i++) {
        if (uuid_equals(&p->records[i].origin.row, row)) {
            return &p->records[i];
        }
    }
    return NULL;
}

static void
delete_record(struct policy *p, struct policy_lookup_record *r)
{
    policy_tables[POLICY_LOOKUP_RECORDS].destroy(r);
    memmove(r, r + 1, (&p->records[p->n_records] - (r + 1)) * sizeof *r);
    p->n_records--;
}

/* Makes one random change to the lookup records of 'p' (inserting,
 * changing or deleting one record, but not web-1, whose port keeps its
 * routing domain here), stores the changed row in '*row', and returns its
 * new contents, or NULL if it was deleted. */
static const struct policy_lookup_record *
change_random_record(struct policy *p, struct uuid *row)
{
    for (;;) {
        int op = random_range(3);
        struct policy_lookup_record *r = NULL;
        if (op == 0 || p->n_records < 5) {
            r = add_random_record(p);
        } else {
            r = &p->records[random_range(p->n_records)];
            if (r->vm && !strcmp(r->vm, "web-1")) {
                continue;
            }
        }
        if (!r) {
            continue;
        }
        *row = r->origin.row;
        if (op == 2 && p->n_records >= 5) {
            delete_record(p, r);
            return NULL;
        }
        if (op == 1) {
            randomize_record(r);
        }
        policy_canonicalize(p);
        return find_record_by_row(p, row);
    }
}

/* The property the agent relies on: applying random record changes one by
 * one to a desired set gives, after each, what a full translation gives;
 * and what the set tracked as changed, installed, turns the switch's flows
 * into it.  Changes the update refuses (a record placed here, web-1's
 * routes' next hop) are applied by a full translation, as the agent
 * does. */
static void
test_record_changes_equal_full_translation(void **state)
{
    struct fixture *f = *state;
    struct overlay_desired full;
    struct sset full_rds = SSET_INITIALIZER(&full_rds);
    struct hmap installed = HMAP_INITIALIZER(&installed);
    size_t n_applied = 0, n_refused = 0;

    overlay_desired_init(&full);
    random_set_seed(0x76726d);
    for (int step = 0; step < 3000; step++) {
        struct overlay_flow_change *changes;
        size_t n = overlay_desired_diff(&f->desired, &installed, &changes);
        for (size_t i = 0; i < n; i++) {
            overlay_flow_destroy(overlay_flows_apply(&installed, &changes[i]));
        }
        free(changes);
        overlay_desired_clear_changed(&f->desired);
        assert_same_flows(&installed, &f->desired.flows);

        struct uuid row;
        const struct policy_lookup_record *r
            = change_random_record(&f->policy, &row);
        if (overlay_pipeline_update_record(&f->in, &f->local_rds,
                                           &f->desired, &row, r)) {
            n_applied++;
        } else {
            n_refused++;
            translate(f);
        }

        struct overlay_port *ports;
        size_t n_ports = overlay_pipeline_bind(&f->in, &ports);
        overlay_pipeline_translate(&f->in, ports, n_ports, &full, &full_rds);
        free(ports);
        assert_same_flows(&f->desired.flows, &full.flows);
    }
    assert_all_flows_check(f);
    /* Both paths were taken, the incremental one most of the time. */
    assert_true(n_applied > 2000);
    assert_true(n_refused > 50);

    overlay_desired_destroy(&full);
    sset_destroy(&full_rds);
    overlay_flows_clear(&installed);
    hmap_destroy(&installed);
}

/* web-1, paused on hv1 for the switchover of its migration, has every packet for its NIC, local or from the
 * tunnel, sent to its destination's PA, above its own delivery; the flows
 * go when the hold ends. */
static void
test_hold_sends_to_destination(void **state)
{
    struct fixture *f = *state;
    struct overlay_redirect held = { 5001, "02:00:00:00:50:01", "10.0.2.11" };
    size_t before = hmap_count(&f->desired.flows);

    overlay_pipeline_hold(&f->desired, 1, 42, &held, 1);
    assert_actions(f,
        actions_of(f, OVERLAY_T_FORWARD, 127,
                   "metadata=5001,dl_dst=02:00:00:00:50:01"),
        "set_field:10.0.2.11->tun_dst,set_field:0x138900->tun_id,"
        "load:0->NXM_OF_IN_PORT[],output:1");
    /* It outranks the delivery to web-1's port. */
    assert_non_null(actions_of(f, OVERLAY_T_FORWARD, 125,
                               "metadata=5001,dl_dst=02:00:00:00:50:01"));
    assert_int_equal(hmap_count(&f->desired.flows), before + 1);

    overlay_pipeline_hold(&f->desired, 1, 42, NULL, 0);
    assert_null(actions_of(f, OVERLAY_T_FORWARD, 127,
                           "metadata=5001,dl_dst=02:00:00:00:50:01"));
    assert_int_equal(hmap_count(&f->desired.flows), before);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
        T(test_binds_only_own_records_with_ofport),
        T(test_binds_by_attached_mac),
        T(test_classify_and_port_security),
        T(test_forward_local_and_remote),
        T(test_flows_share_masks_and_actions),
        T(test_other_tenant_gets_no_flows),
        T(test_tunnel_accepts_known_pas_only),
        T(test_arp_responder),
        T(test_router),
        T(test_ipv6_port_and_nd_responder),
        T(test_ipv6_port_security),
        T(test_gateway_echo),
        T(test_route_next_hop_sends_for_its_prefix),
        T(test_route_metric_changes_nothing),
        T(test_record_changes_equal_full_translation),
        T(test_hold_sends_to_destination),
        T(test_readme_example_route),
        T(test_translation_is_stable_and_diffs_are_small),
        T(test_redirect_after_departure),
        T(test_redirect_of_the_last_vm_of_a_domain),
        T(test_flows_per_remote_record),
        T(test_tunnel_accepts_peer_chassis),
        T(test_incoming_port_activates_on_announcement),
        T(test_departure_learns_redirect),
        T(test_every_flow_parses),
        cmocka_unit_test(test_tunnel_probe),
#undef T
    };
    return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
