/* The OpenFlow pipeline of br-int: policy + local ports -> desired flows.
 *
 * Pure translation: given the policy (as loaded from the database), the
 * chassis name, the GRE port and the VM interfaces on br-int, it computes
 * the complete flow set the switch should hold.  It does no I/O, so it is
 * unit-tested without a switch; overlay/ofctrl installs its result.
 *
 * Tables (README.md, "The pipeline on br-int"):
 *   0 classify: VM port -> VSID in metadata, routing domain in reg1;
 *     GRE packets only from known PAs (tun_src) go on to table 1
 *   1 tunnel key: known VSIDs only (GRE key = VSID << 8 | FlowID);
 *     marks reg0=1 (from the overlay) and goes straight to forwarding
 *   2 port security: a VM sends only from its own MAC and CA; an IPv6
 *     VM also neighbour discovery, router solicitations and MLD from its
 *     link-local address, never router advertisements or redirects; the
 *     next hop of a customer route also from the route's prefix
 *   3 ARP and ND responder from the lookup records (duplicate address
 *     detection is never answered): a flow per address gives the MAC,
 *     one flow per protocol makes the answer; other ARP, ND, broadcast
 *     and multicast go no further
 *   4 distributed router: to the routing domain's router MAC -> TTL-1,
 *     MACs rewritten, destination VSID in metadata; a ping to one of its
 *     gateway addresses is answered
 *   5 forward: (VSID, MAC) -> local port, or GRE to the PA with the key;
 *     for a VM that just migrated away, what still arrives by tunnel is
 *     sent on to its new PA; flows learnt from a migrated VM's
 *     announcement (see struct overlay_port) take precedence
 * Everything that matches nothing is dropped; nothing is ever flooded.
 *
 * Only routing domains that have a VM on this chassis get flows here: a
 * host needs to know where its own tenants' addresses live, and nothing
 * else.  A VM that just migrated away keeps its subnet's GRE key accepted
 * while its redirects last, whether or not it was the last of its domain
 * here.
 *
 * A full translation fills a desired set (overlay/desired.h) whose flows
 * are owned by the row each comes from; the change of one remote lookup
 * record is then applied by replacing its flows alone, and gives the same
 * set as a full translation would. */

#ifndef OVERLAY_PIPELINE_H
#define OVERLAY_PIPELINE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packets.h"

struct overlay_desired;
struct sset;
struct uuid;
struct policy;
struct policy_lookup_record;

enum overlay_table {
    OVERLAY_T_CLASSIFY = 0,
    OVERLAY_T_TUNNEL_KEY = 1,
    OVERLAY_T_PORT_SECURITY = 2,
    OVERLAY_T_RESPONDER = 3,
    OVERLAY_T_ROUTER = 4,
    OVERLAY_T_FORWARD = 5,
};

/* A VM interface on br-int, as the switch reports it. */
struct overlay_iface {
    const char *name;           /* Interface name. */
    int64_t ofport;             /* OpenFlow port, or <= 0 if none yet. */
    const char *vm_id;          /* external_ids:vm-id, or NULL. */
    const char *attached_mac;   /* external_ids:attached-mac, or NULL. */
};

/* A lookup record placed on this chassis and the interface it is bound to.
 *
 * A VM migrating here has its port bound while its record still places it
 * on the source: the port is 'incoming'.  It can send at once, and what
 * comes to it by tunnel (what its source holds for it during its last
 * pause) is delivered to it, but nothing else until it is announced here (QEMU sends RARPs once the
 * VM's memory is all here, just before libvirt resumes it; a guest may
 * also send gratuitous ARPs): that packet makes the switch learn the
 * delivery flow to the port, and is tunnelled on to the source, where it
 * makes the switch learn to redirect to this host.  Both happen in the
 * datapath, before any agent or database hears of it.  The first goes with
 * the port's activation flows, once the moved lookup record gives this
 * host its own; the second times out, and never outranks the delivery
 * flow of a VM that is not migrating away (one whose migration failed
 * after all, or that came back). */
struct overlay_port {
    const struct overlay_iface *iface;
    const struct policy_lookup_record *record;
    bool incoming;
};

/* A VM that just left this chassis: packets still tunnelled here for it
 * (other hosts' flows not yet updated) go on to its new PA. */
struct overlay_redirect {
    int64_t vsid;
    const char *mac;
    const char *pa;             /* Its new PA. */
};

struct overlay_input {
    const struct policy *policy;
    const char *chassis;
    int64_t gre_ofport;         /* <= 0 if the GRE port is not there yet. */
    const struct overlay_iface *ifaces;
    size_t n_ifaces;
    const struct overlay_redirect *redirects;
    size_t n_redirects;
    const struct sset *incoming;    /* VMs migrating here, by name. */
    const struct sset *outgoing;    /* VMs migrating away, by name. */
    const struct sset *peer_pas;    /* PAs of the other chassis. */
};

size_t overlay_pipeline_bind(const struct overlay_input *,
                             struct overlay_port **ports);
void overlay_pipeline_translate(const struct overlay_input *,
                                const struct overlay_port *, size_t n_ports,
                                struct overlay_desired *,
                                struct sset *local_rds);
bool overlay_pipeline_update_record(const struct overlay_input *,
                                    const struct sset *local_rds,
                                    struct overlay_desired *,
                                    const struct uuid *row,
                                    const struct policy_lookup_record *);

void overlay_pipeline_hold(struct overlay_desired *, int64_t gre_ofport,
                           uint64_t owner,
                           const struct overlay_redirect *held, size_t n);

char *overlay_pipeline_tunnel_probe(int64_t gre_ofport, const char *pa);

uint32_t overlay_gre_key(int64_t vsid);
struct eth_addr overlay_router_mac(const char *routing_domain);

#endif /* overlay/pipeline.h */
