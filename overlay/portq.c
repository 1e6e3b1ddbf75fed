#include <config.h>

#include "overlay/portq.h"

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "util.h"

/* Looks up link 'ifname' in the kernel into '*linkp' (the caller puts
 * it), with 'sock' connected for more; returns an error or NULL. */
static char *
get_link(const char *ifname, struct nl_sock **sockp, struct rtnl_link **linkp)
{
    *linkp = NULL;
    *sockp = nl_socket_alloc();
    int error = (!*sockp ? -NLE_NOMEM
                 : nl_connect(*sockp, NETLINK_ROUTE)
                 ? -NLE_FAILURE
                 : rtnl_link_get_kernel(*sockp, 0, ifname, linkp));
    return error ? xasprintf("%s: %s", ifname, nl_geterror(error)) : NULL;
}

/* Makes the queue of port 'ifname' hold OVERLAY_PORTQ_LEN packets, if it
 * holds fewer.  Returns an error or NULL. */
char *
overlay_portq_deepen(const char *ifname)
{
    struct nl_sock *sock;
    struct rtnl_link *link;
    char *error = get_link(ifname, &sock, &link);
    if (!error && rtnl_link_get_txqlen(link) < OVERLAY_PORTQ_LEN) {
        struct rtnl_link *change = rtnl_link_alloc();
        rtnl_link_set_txqlen(change, OVERLAY_PORTQ_LEN);
        int err = rtnl_link_change(sock, link, change, 0);
        if (err) {
            error = xasprintf("%s: queue length: %s", ifname,
                              nl_geterror(err));
        }
        rtnl_link_put(change);
    }
    if (link) {
        rtnl_link_put(link);
    }
    nl_socket_free(sock);
    return error;
}

/* Stores in '*dropped' how many packets the queue of port 'ifname' has
 * dropped since it was made.  Returns an error or NULL. */
char *
overlay_portq_dropped(const char *ifname, uint64_t *dropped)
{
    struct nl_sock *sock;
    struct rtnl_link *link;
    char *error = get_link(ifname, &sock, &link);
    *dropped = error ? 0 : rtnl_link_get_stat(link, RTNL_LINK_TX_DROPPED);
    if (link) {
        rtnl_link_put(link);
    }
    nl_socket_free(sock);
    return error;
}
