#include <config.h>

#include "ipam/host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <string.h>

#include "openvswitch/compiler.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ipam_host);

struct ipam_host {
    char *underlay_dev;
    char *uplink;
    struct nl_sock *sock;           /* For requests. */
    struct nl_cache_mngr *mngr;     /* Keeps the caches current. */
    struct nl_cache *links, *addrs, *routes;

    const char *link_state;         /* "up", "down", NULL if no uplink. */
    unsigned int link_seqno;        /* Changes when 'link_state' does. */
    unsigned int change_seqno;      /* Changes on every netlink change. */
    char *pa;                       /* "ADDR/LEN" we put on, or NULL. */
};

static const char *
uplink_state(const struct ipam_host *h)
{
    struct rtnl_link *link = rtnl_link_get_by_name(h->links, h->uplink);
    if (!link) {
        return NULL;
    }
    unsigned int flags = rtnl_link_get_flags(link);
    bool up = (flags & IFF_UP) && rtnl_link_get_carrier(link);
    rtnl_link_put(link);
    return up ? "up" : "down";
}

static void
update_link(struct ipam_host *h)
{
    const char *state = uplink_state(h);
    if (!nullable_string_is_equal(state, h->link_state)) {
        VLOG_INFO("underlay link %s is %s", h->uplink,
                  state ? state : "missing");
        h->link_state = state;
        h->link_seqno++;
    }
}

static void
change_cb(struct nl_cache *cache OVS_UNUSED, struct nl_object *obj OVS_UNUSED,
          int action OVS_UNUSED, void *h_)
{
    struct ipam_host *h = h_;
    h->change_seqno++;
    update_link(h);
}

static char *
nl_error(const char *what, int error)
{
    return xasprintf("%s: %s", what, nl_geterror(error));
}

struct ipam_host *
ipam_host_create(const char *underlay_dev, const char *uplink, char **errorp)
{
    struct ipam_host *h = xzalloc(sizeof *h);
    int error;

    h->underlay_dev = xstrdup(underlay_dev);
    h->uplink = xstrdup(uplink ? uplink : underlay_dev);
    h->sock = nl_socket_alloc();
    if (!h->sock) {
        *errorp = nl_error("netlink socket", -NLE_NOMEM);
        ipam_host_destroy(h);
        return NULL;
    }
    if ((error = nl_connect(h->sock, NETLINK_ROUTE))
        || (error = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, NL_AUTO_PROVIDE,
                                        &h->mngr))
        || (error = nl_cache_mngr_add(h->mngr, "route/link", change_cb, h,
                                      &h->links))
        || (error = nl_cache_mngr_add(h->mngr, "route/addr", change_cb, h,
                                      &h->addrs))
        || (error = nl_cache_mngr_add(h->mngr, "route/route", change_cb, h,
                                      &h->routes))) {
        *errorp = nl_error("netlink", error);
        ipam_host_destroy(h);
        return NULL;
    }
    update_link(h);
    return h;
}

void
ipam_host_destroy(struct ipam_host *h)
{
    if (h) {
        if (h->mngr) {
            nl_cache_mngr_free(h->mngr);
        }
        nl_socket_free(h->sock);
        free(h->underlay_dev);
        free(h->uplink);
        free(h->pa);
        free(h);
    }
}

void
ipam_host_run(struct ipam_host *h)
{
    int error = nl_cache_mngr_data_ready(h->mngr);
    if (error < 0 && error != -NLE_AGAIN) {
        VLOG_WARN("netlink notifications: %s", nl_geterror(error));
    }
    update_link(h);
}

void
ipam_host_wait(struct ipam_host *h)
{
    poll_fd_wait(nl_cache_mngr_get_fd(h->mngr), POLLIN);
}

const char *
ipam_host_link_state(const struct ipam_host *h)
{
    return h->link_state;
}

unsigned int
ipam_host_link_seqno(const struct ipam_host *h)
{
    return h->link_seqno;
}

/* Changes whenever a link, address or route of this host does. */
unsigned int
ipam_host_change_seqno(const struct ipam_host *h)
{
    return h->change_seqno;
}

static int
underlay_ifindex(const struct ipam_host *h)
{
    return rtnl_link_name2i(h->links, h->underlay_dev);
}

/* Adds or deletes ("add" true or false) 'cidr' on the underlay device. */
static int
change_addr(struct ipam_host *h, const char *cidr, bool add)
{
    struct nl_addr *local;
    int error = nl_addr_parse(cidr, AF_UNSPEC, &local);
    if (error) {
        return error;
    }
    struct rtnl_addr *addr = rtnl_addr_alloc();
    if (!addr) {
        nl_addr_put(local);
        return -NLE_NOMEM;
    }
    rtnl_addr_set_ifindex(addr, underlay_ifindex(h));
    rtnl_addr_set_local(addr, local);
    error = (add
             ? rtnl_addr_add(h->sock, addr, NLM_F_REPLACE)
             : rtnl_addr_delete(h->sock, addr, 0));
    rtnl_addr_put(addr);
    nl_addr_put(local);
    return error;
}

/* Points the default route of the PA's family at 'gateway' through the
 * underlay device. */
static int
set_default_route(struct ipam_host *h, const char *gateway)
{
    struct nl_addr *gw, *dst;
    int error = nl_addr_parse(gateway, AF_UNSPEC, &gw);
    if (error) {
        return error;
    }
    int family = nl_addr_get_family(gw);
    error = nl_addr_parse("default", family, &dst);
    if (error) {
        nl_addr_put(gw);
        return error;
    }

    struct rtnl_route *route = rtnl_route_alloc();
    struct rtnl_nexthop *nh = route ? rtnl_route_nh_alloc() : NULL;
    if (!nh) {
        if (route) {
            rtnl_route_put(route);
        }
        nl_addr_put(dst);
        nl_addr_put(gw);
        return -NLE_NOMEM;
    }
    rtnl_route_set_family(route, family);
    rtnl_route_set_dst(route, dst);
    rtnl_route_nh_set_gateway(nh, gw);
    rtnl_route_nh_set_ifindex(nh, underlay_ifindex(h));
    rtnl_route_add_nexthop(route, nh);
    error = rtnl_route_add(h->sock, route, NLM_F_CREATE | NLM_F_REPLACE);
    rtnl_route_put(route);
    nl_addr_put(dst);
    nl_addr_put(gw);
    return error;
}

/* Puts 'pa_cidr' (ADDRESS/LENGTH) on the underlay device, replacing the PA
 * set before, and the default route via 'gateway' (if nonnull). */
char *
ipam_host_set_pa(struct ipam_host *h, const char *pa_cidr,
                 const char *gateway)
{
    if (underlay_ifindex(h) <= 0) {
        return xasprintf("underlay device %s does not exist",
                         h->underlay_dev);
    }
    if (h->pa && strcmp(h->pa, pa_cidr)) {
        char *error = ipam_host_clear_pa(h);
        free(error);
    }

    int error = change_addr(h, pa_cidr, true);
    if (error && error != -NLE_EXIST) {
        return nl_error(pa_cidr, error);
    }
    free(h->pa);
    h->pa = xstrdup(pa_cidr);
    if (gateway && (error = set_default_route(h, gateway))) {
        return xasprintf("default route via %s on %s: %s", gateway,
                         h->underlay_dev, nl_geterror(error));
    }
    VLOG_INFO("provider address %s on %s%s%s", pa_cidr, h->underlay_dev,
              gateway ? ", default route via " : "", gateway ? gateway : "");
    return NULL;
}

/* Removes the PA this module put on the underlay device (its routes go
 * with it). */
char *
ipam_host_clear_pa(struct ipam_host *h)
{
    if (!h->pa) {
        return NULL;
    }
    int error = change_addr(h, h->pa, false);
    char *msg = (error && error != -NLE_NOADDR && error != -NLE_OBJ_NOTFOUND
                 ? nl_error(h->pa, error) : NULL);
    if (!msg) {
        VLOG_INFO("provider address %s removed from %s", h->pa,
                  h->underlay_dev);
    }
    free(h->pa);
    h->pa = NULL;
    return msg;
}

struct pa_search {
    struct nl_addr *pa;
    int ifindex;
    bool found;
};

static void
find_pa_cb(struct nl_object *obj, void *s_)
{
    struct pa_search *s = s_;
    struct rtnl_addr *addr = (struct rtnl_addr *) obj;
    struct nl_addr *local = rtnl_addr_get_local(addr);
    s->found |= (rtnl_addr_get_ifindex(addr) == s->ifindex && local
                 && !nl_addr_cmp(local, s->pa));
}

/* True if the PA put on the underlay device is still there (someone may
 * have removed it, or the device may have been recreated). */
bool
ipam_host_pa_present(const struct ipam_host *h)
{
    struct pa_search s = { .ifindex = underlay_ifindex(h) };
    if (!h->pa || nl_addr_parse(h->pa, AF_UNSPEC, &s.pa)) {
        return false;
    }
    nl_cache_foreach(h->addrs, find_pa_cb, &s);
    nl_addr_put(s.pa);
    return s.found;
}

static void
add_address_cb(struct nl_object *obj, void *addrs_)
{
    struct sset *addrs = addrs_;
    struct nl_addr *local = rtnl_addr_get_local((struct rtnl_addr *) obj);
    char buf[INET6_ADDRSTRLEN];
    if (local && inet_ntop(nl_addr_get_family(local),
                           nl_addr_get_binary_addr(local), buf, sizeof buf)) {
        sset_add(addrs, buf);
    }
}

/* Adds every address of this host's links to 'addrs', without prefix
 * lengths. */
void
ipam_host_addresses(const struct ipam_host *h, struct sset *addrs)
{
    nl_cache_foreach(h->addrs, add_address_cb, addrs);
}

static void
dump_cb(struct nl_object *obj, void *s_)
{
    struct ds *s = s_;
    char buf[256];
    nl_object_dump_buf(obj, buf, sizeof buf);
    ds_put_format(s, "  %s", buf);
    if (!s->length || s->string[s->length - 1] != '\n') {
        ds_put_char(s, '\n');
    }
}

/* Describes the host's links, addresses and routes as netlink knows them. */
void
ipam_host_describe(const struct ipam_host *h, struct ds *s)
{
    ds_put_format(s, "underlay: %s (PA %s), link %s %s\nlinks:\n",
                  h->underlay_dev, h->pa ? h->pa : "none", h->uplink,
                  h->link_state ? h->link_state : "missing");
    nl_cache_foreach(h->links, dump_cb, s);
    ds_put_cstr(s, "addresses:\n");
    nl_cache_foreach(h->addrs, dump_cb, s);
    ds_put_cstr(s, "routes:\n");
    nl_cache_foreach(h->routes, dump_cb, s);
}
