#include <config.h>

#include "migrator/sockets.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* The connections to cut, as the kernel identifies them. */
struct cut {
    int family;
    uint8_t addr[16];
    int port_min, port_max;
    struct inet_diag_sockid *ids;
    size_t n, allocated;
};

static int
collect(struct nl_msg *msg, void *cut_)
{
    struct cut *c = cut_;
    struct nlmsghdr *nlh = nlmsg_hdr(msg);
    if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY
        || nlmsg_datalen(nlh) < (int) sizeof(struct inet_diag_msg)) {
        return NL_OK;
    }
    const struct inet_diag_msg *m = nlmsg_data(nlh);
    int port = ntohs(m->id.idiag_dport);
    size_t len = c->family == AF_INET ? 4 : 16;
    if (port >= c->port_min && port <= c->port_max
        && !memcmp(m->id.idiag_dst, c->addr, len)) {
        if (c->n >= c->allocated) {
            c->ids = x2nrealloc(c->ids, &c->allocated, sizeof *c->ids);
        }
        c->ids[c->n++] = m->id;
    }
    return NL_OK;
}

/* Parses "MIN-MAX", a range of TCP ports.  Returns false if 's' is none. */
bool
migr_ports_parse(const char *s, int *min, int *max)
{
    int n = 0;
    return (sscanf(s, "%d-%d%n", min, max, &n) == 2 && !s[n]
            && *min > 0 && *min <= *max && *max <= 65535);
}

/* Sends one sock_diag request and reads every reply to it. */
static int
transact(struct nl_sock *sk, int type, int flags,
         const struct inet_diag_req_v2 *req)
{
    struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
    if (!msg) {
        return -NLE_NOMEM;
    }
    int err = nlmsg_append(msg, CONST_CAST(struct inet_diag_req_v2 *, req),
                           sizeof *req, NLMSG_ALIGNTO);
    if (!err) {
        err = nl_send_auto(sk, msg);
    }
    nlmsg_free(msg);
    return err < 0 ? err : nl_recvmsgs_default(sk);
}

/* Destroys every TCP connection of this network namespace to 'address'
 * whose remote port is in [port_min, port_max].  Stores how many in
 * '*n_cut'.  Returns NULL, or an error (caller frees). */
char *
migr_sockets_cut(const char *address, int port_min, int port_max,
                 int *n_cut)
{
    struct cut c = { .port_min = port_min, .port_max = port_max };
    *n_cut = 0;
    c.family = inet_pton(AF_INET, address, c.addr) == 1 ? AF_INET
               : inet_pton(AF_INET6, address, c.addr) == 1 ? AF_INET6
               : AF_UNSPEC;
    if (c.family == AF_UNSPEC) {
        return xasprintf("%s is no IP address", address);
    }

    int last = 0;               /* Last error destroying a connection. */
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk) {
        return xstrdup("out of memory");
    }
    int err = nl_connect(sk, NETLINK_SOCK_DIAG);
    if (!err) {
        nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, collect, &c);
        struct inet_diag_req_v2 req = {
            .sdiag_family = c.family,
            .sdiag_protocol = IPPROTO_TCP,
            .idiag_states = (1u << TCP_ESTABLISHED) | (1u << TCP_SYN_SENT),
        };
        err = transact(sk, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP,
                       &req);
        for (size_t i = 0; !err && i < c.n; i++) {
            req.id = c.ids[i];
            int e = transact(sk, SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK,
                             &req);
            if (!e) {
                (*n_cut)++;
            } else if (e != -NLE_OBJ_NOTFOUND) {   /* Not closed meanwhile. */
                last = e;
            }
        }
    }
    nl_socket_free(sk);
    free(c.ids);
    err = err ? err : last;
    return (err < 0
            ? xasprintf("cannot cut the connections to %s: %s", address,
                        nl_geterror(err))
            : NULL);
}
