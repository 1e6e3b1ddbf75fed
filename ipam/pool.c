#include <config.h>

#include "ipam/pool.h"

#include <string.h>

#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "util.h"

/* Adds one to 'a'; returns false if it wrapped around. */
static bool
addr_inc(struct in6_addr *a)
{
    for (int i = 15; i >= 0; i--) {
        if (++a->s6_addr[i]) {
            return true;
        }
    }
    return false;
}

static bool
addr_dec(struct in6_addr *a)
{
    for (int i = 15; i >= 0; i--) {
        if (a->s6_addr[i]--) {
            return true;
        }
    }
    return false;
}

static struct in6_addr
prefix_last(const struct policy_prefix *p)
{
    struct in6_addr mask = ipv6_create_mask(p->plen);
    struct in6_addr last = p->addr;
    for (int i = 0; i < 16; i++) {
        last.s6_addr[i] |= ~mask.s6_addr[i];
    }
    return last;
}

/* The usable addresses of the pool's prefix: without the IPv4 network and
 * broadcast addresses (except in /31 and /32) and without the IPv6
 * subnet-router anycast address (except in /127 and /128). */
static struct ipam_range
default_range(const struct policy_prefix *p)
{
    struct ipam_range r = { .first = p->addr, .last = prefix_last(p) };
    bool ipv4 = policy_addr_is_ipv4(&p->addr);
    if (p->plen < 127) {
        addr_inc(&r.first);
        if (ipv4) {
            addr_dec(&r.last);
        }
    }
    return r;
}

/* The last address of ::ffff:0:0/96, where IPv4 addresses are kept. */
static struct in6_addr
ipv4_block_last(void)
{
    struct in6_addr a;
    in6_addr_set_mapped_ipv4(&a, OVS_BE32_MAX);
    return a;
}

static bool
range_contains(const struct ipam_range *r, const struct in6_addr *a)
{
    return (policy_addr_cmp(&r->first, a) <= 0
            && policy_addr_cmp(a, &r->last) <= 0);
}

static void
range_format(const struct ipam_range *r, struct ds *s)
{
    policy_addr_format(&r->first, s);
    if (policy_addr_cmp(&r->first, &r->last)) {
        ds_put_char(s, '-');
        policy_addr_format(&r->last, s);
    }
}

static const struct in6_addr ipv4_block_first = {
    .s6_addr = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0 }
};

/* Parses "A-B", "A" or "A/LEN" into 'r'. */
char *
ipam_range_parse(const char *text, struct ipam_range *r)
{
    const char *dash = strchr(text, '-');
    char *error;

    if (strchr(text, '/')) {
        struct policy_prefix p;
        error = policy_prefix_parse(text, &p);
        if (!error) {
            r->first = p.addr;
            r->last = prefix_last(&p);
        }
        return error;
    }
    if (!dash) {
        error = policy_addr_parse(text, &r->first);
        r->last = r->first;
        return error;
    }

    char *first = xmemdup0(text, dash - text);
    error = policy_addr_parse(first, &r->first);
    free(first);
    if (!error) {
        error = policy_addr_parse(dash + 1, &r->last);
    }
    if (error) {
        free(error);
        return xasprintf("%s is not a range (expected ADDRESS-ADDRESS, "
                         "ADDRESS or PREFIX)", text);
    }
    if (policy_addr_is_ipv4(&r->first) != policy_addr_is_ipv4(&r->last)
        || policy_addr_cmp(&r->first, &r->last) > 0
        || (!policy_addr_is_ipv4(&r->first)
            && policy_addr_cmp(&r->first, &ipv4_block_first) < 0
            && policy_addr_cmp(&r->last, &ipv4_block_first) > 0)) {
        return xasprintf("%s: the range must run from low to high within "
                         "one IP version", text);
    }
    return NULL;
}

void
ipam_pool_init(struct ipam_pool *pool, const char *name,
               const struct policy_prefix *prefix)
{
    memset(pool, 0, sizeof *pool);
    pool->name = xstrdup(name);
    pool->prefix = *prefix;
}

void
ipam_pool_destroy(struct ipam_pool *pool)
{
    free(pool->name);
    free(pool->ranges);
    free(pool->excluded);
}

/* Initializes 'pool' as the addresses of 'prefix' (text) named 'name',
 * allocating from 'ranges' (all usable addresses if none), without
 * 'gateway' (if nonnull) and 'excluded'.  On error, returns the message and
 * leaves 'pool' destroyed. */
char *
ipam_pool_build(struct ipam_pool *pool, const char *name, const char *prefix,
                const char *gateway, char *const *ranges, size_t n_ranges,
                char *const *excluded, size_t n_excluded)
{
    struct policy_prefix p;
    char *error = policy_prefix_parse(prefix, &p);
    if (error) {
        return error;
    }

    ipam_pool_init(pool, name, &p);
    if (gateway) {
        error = ipam_pool_exclude(pool, gateway);
    }
    for (size_t i = 0; !error && i < n_ranges; i++) {
        error = ipam_pool_add_range(pool, ranges[i]);
    }
    for (size_t i = 0; !error && i < n_excluded; i++) {
        error = ipam_pool_exclude(pool, excluded[i]);
    }
    if (error) {
        ipam_pool_destroy(pool);
    }
    return error;
}

/* Parses 'text' as a range inside the pool's prefix into '*r'. */
static char *
parse_inside(const struct ipam_pool *pool, const char *text,
             struct ipam_range *r)
{
    char *error = ipam_range_parse(text, r);
    if (!error && (!policy_prefix_contains(&pool->prefix, &r->first)
                   || !policy_prefix_contains(&pool->prefix, &r->last))) {
        char *prefix = policy_prefix_to_string(&pool->prefix);
        error = xasprintf("%s is outside %s (%s)", text, pool->name, prefix);
        free(prefix);
    }
    return error;
}

static void
append_range(struct ipam_range **ranges, size_t *n, size_t *allocated,
             const struct ipam_range *r)
{
    if (*n >= *allocated) {
        *ranges = x2nrealloc(*ranges, allocated, sizeof **ranges);
    }
    (*ranges)[(*n)++] = *r;
}

/* Makes 'text' allocatable.  Without any range, the whole usable prefix
 * is. */
char *
ipam_pool_add_range(struct ipam_pool *pool, const char *text)
{
    struct ipam_range r;
    char *error = parse_inside(pool, text, &r);
    if (!error) {
        append_range(&pool->ranges, &pool->n_ranges, &pool->allocated_ranges,
                     &r);
    }
    return error;
}

/* Keeps 'text' (a gateway, a reserved address or range) from ever being
 * handed out.  Exclusions outside the prefix are refused. */
char *
ipam_pool_exclude(struct ipam_pool *pool, const char *text)
{
    struct ipam_range r;
    char *error = parse_inside(pool, text, &r);
    if (!error) {
        append_range(&pool->excluded, &pool->n_excluded,
                     &pool->allocated_excluded, &r);
    }
    return error;
}

static const struct ipam_range *
find_excluded(const struct ipam_pool *pool, const struct in6_addr *a)
{
    for (size_t i = 0; i < pool->n_excluded; i++) {
        if (range_contains(&pool->excluded[i], a)) {
            return &pool->excluded[i];
        }
    }
    return NULL;
}

/* Calls 'cb' for each allocatable range until it returns true. */
static bool
for_each_range(const struct ipam_pool *pool,
               bool (*cb)(const struct ipam_range *, void *aux), void *aux)
{
    if (!pool->n_ranges) {
        struct ipam_range r = default_range(&pool->prefix);
        return cb(&r, aux);
    }
    for (size_t i = 0; i < pool->n_ranges; i++) {
        if (cb(&pool->ranges[i], aux)) {
            return true;
        }
    }
    return false;
}

struct search {
    const struct ipam_pool *pool;
    const struct ipam_addr_set *used;
    struct in6_addr found;
};

/* Finds the first address of 'r' that is neither excluded nor used.  Each
 * step skips an exclusion or a used address, so it ends after at most as
 * many steps as there are of those. */
static bool
search_range(const struct ipam_range *r, void *s_)
{
    struct search *s = s_;
    struct in6_addr a = r->first;

    bool ipv4 = policy_addr_is_ipv4(&s->pool->prefix.addr);
    while (policy_addr_cmp(&a, &r->last) <= 0) {
        const struct ipam_range *ex = find_excluded(s->pool, &a);
        if (policy_addr_is_ipv4(&a) != ipv4) {
            /* An IPv6 range as short as ::/80 spans the block where IPv4
             * addresses are kept (::ffff:0:0/96): skip it whole. */
            a = ipv4_block_last();
        } else if (ex) {
            a = ex->last;
        } else if (!ipam_addr_set_contains(s->used, &a)) {
            s->found = a;
            return true;
        }
        if (!addr_inc(&a)) {
            break;
        }
    }
    return false;
}

static bool
format_range_cb(const struct ipam_range *r, void *s_)
{
    struct ds *s = s_;
    if (s->length) {
        ds_put_cstr(s, ", ");
    }
    range_format(r, s);
    return false;
}

static char *
ranges_to_string(const struct ipam_pool *pool)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for_each_range(pool, format_range_cb, &s);
    return ds_steal_cstr(&s);
}

/* Addresses as 128-bit integers, for the arithmetic of indexes. */
typedef unsigned __int128 addr_int;

static addr_int
addr_to_int(const struct in6_addr *a)
{
    addr_int n = 0;
    for (int i = 0; i < 16; i++) {
        n = n << 8 | a->s6_addr[i];
    }
    return n;
}

static struct in6_addr
int_to_addr(addr_int n)
{
    struct in6_addr a;
    for (int i = 15; i >= 0; i--) {
        a.s6_addr[i] = n & 0xff;
        n >>= 8;
    }
    return a;
}

static int
range_cmp(const void *a_, const void *b_)
{
    const struct ipam_range *a = a_, *b = b_;
    return policy_addr_cmp(&a->first, &b->first);
}

/* Sorts 'ranges' and merges those that overlap or touch. */
static size_t
normalize(struct ipam_range *ranges, size_t n)
{
    size_t m = 0;
    qsort(ranges, n, sizeof *ranges, range_cmp);
    for (size_t i = 0; i < n; i++) {
        if (m && addr_to_int(&ranges[i].first)
                 <= addr_to_int(&ranges[m - 1].last) + 1) {
            if (policy_addr_cmp(&ranges[i].last, &ranges[m - 1].last) > 0) {
                ranges[m - 1].last = ranges[i].last;
            }
        } else {
            ranges[m++] = ranges[i];
        }
    }
    return m;
}

static bool
collect_range(const struct ipam_range *r, void *seq_)
{
    struct ipam_seq *seq = seq_;
    append_range(&seq->segments, &seq->n_segments, &seq->allocated_segments,
                 r);
    return false;
}

/* Appends to 'seq' what is left of 'r' without the sorted, disjoint
 * 'holes'. */
static void
cut_holes(struct ipam_seq *seq, struct ipam_range r,
          const struct ipam_range *holes, size_t n_holes)
{
    addr_int first = addr_to_int(&r.first), last = addr_to_int(&r.last);
    for (size_t i = 0; i < n_holes && first <= last; i++) {
        addr_int h0 = addr_to_int(&holes[i].first);
        addr_int h1 = addr_to_int(&holes[i].last);
        if (h1 < first || h0 > last) {
            continue;
        }
        if (h0 > first) {
            struct ipam_range part = { r.first, int_to_addr(h0 - 1) };
            collect_range(&part, seq);
        }
        if (h1 >= last) {
            return;
        }
        first = h1 + 1;
        r.first = int_to_addr(first);
    }
    if (first <= last) {
        collect_range(&r, seq);
    }
}

/* Numbers the allocatable addresses of 'pool': its ranges without its
 * exclusions (and, in an IPv6 pool, without the block where IPv4 addresses
 * are kept). */
void
ipam_seq_init(struct ipam_seq *seq, const struct ipam_pool *pool)
{
    struct ipam_seq ranges = { .segments = NULL };
    for_each_range(pool, collect_range, &ranges);
    ranges.n_segments = normalize(ranges.segments, ranges.n_segments);

    size_t n_holes = pool->n_excluded;
    struct ipam_range *holes = xmalloc((n_holes + 1) * sizeof *holes);
    if (n_holes) {
        memcpy(holes, pool->excluded, n_holes * sizeof *holes);
    }
    if (!policy_addr_is_ipv4(&pool->prefix.addr)) {
        struct ipam_range *block = &holes[n_holes++];
        in6_addr_set_mapped_ipv4(&block->first, 0);
        block->last = ipv4_block_last();
    }
    n_holes = normalize(holes, n_holes);

    *seq = (struct ipam_seq) { .segments = NULL };
    for (size_t i = 0; i < ranges.n_segments; i++) {
        cut_holes(seq, ranges.segments[i], holes, n_holes);
    }
    for (size_t i = 0; i < seq->n_segments; i++) {
        const struct ipam_range *g = &seq->segments[i];
        addr_int n = addr_to_int(&g->last) - addr_to_int(&g->first) + 1;
        seq->size = (n == 0 || n > UINT64_MAX - seq->size
                     ? UINT64_MAX : seq->size + (uint64_t) n);
    }
    free(holes);
    free(ranges.segments);
}

void
ipam_seq_destroy(struct ipam_seq *seq)
{
    free(seq->segments);
}

/* The address numbered 'k' (less than the size). */
struct in6_addr
ipam_seq_nth(const struct ipam_seq *seq, uint64_t k)
{
    for (size_t i = 0; i < seq->n_segments; i++) {
        const struct ipam_range *g = &seq->segments[i];
        addr_int n = addr_to_int(&g->last) - addr_to_int(&g->first) + 1;
        if (n == 0 || k < n) {
            return int_to_addr(addr_to_int(&g->first) + k);
        }
        k -= (uint64_t) n;
    }
    OVS_NOT_REACHED();
}

static size_t count_inside(const struct ipam_addr_set *,
                           const struct policy_prefix *);

char *
ipam_pool_next_free(const struct ipam_pool *pool,
                    const struct ipam_addr_set *used, struct in6_addr *a)
{
    struct search s = { .pool = pool, .used = used };
    if (for_each_range(pool, search_range, &s)) {
        *a = s.found;
        return NULL;
    }

    char *prefix = policy_prefix_to_string(&pool->prefix);
    char *ranges = ranges_to_string(pool);
    char *error = xasprintf("%s (%s) is exhausted: every address of %s is "
                            "leased or reserved (%"PRIuSIZE" in use)",
                            pool->name, prefix, ranges,
                            count_inside(used, &pool->prefix));
    free(prefix);
    free(ranges);
    return error;
}

struct membership {
    const struct in6_addr *a;
};

static bool
contains_cb(const struct ipam_range *r, void *m_)
{
    struct membership *m = m_;
    return range_contains(r, m->a);
}

/* Checks that 'a' may be handed out: inside the pool's ranges, not
 * excluded, not in use. */
char *
ipam_pool_check(const struct ipam_pool *pool,
                const struct ipam_addr_set *used, const struct in6_addr *a)
{
    char *addr = policy_addr_to_string(a);
    char *prefix = policy_prefix_to_string(&pool->prefix);
    struct membership m = { a };
    char *error = NULL;

    if (!policy_prefix_contains(&pool->prefix, a)) {
        error = xasprintf("%s is outside %s (%s)", addr, pool->name, prefix);
    } else if (!for_each_range(pool, contains_cb, &m)) {
        char *ranges = ranges_to_string(pool);
        error = xasprintf("%s is not allocatable in %s (allocatable: %s)",
                          addr, pool->name, ranges);
        free(ranges);
    } else if (find_excluded(pool, a)) {
        error = xasprintf("%s is reserved in %s", addr, pool->name);
    } else if (ipam_addr_set_contains(used, a)) {
        error = xasprintf("%s is already in use in %s (leased, or the "
                          "address of a lookup record)", addr, pool->name);
    }
    free(addr);
    free(prefix);
    return error;
}

struct addr_node {
    struct hmap_node node;
    struct in6_addr addr;
};

void
ipam_addr_set_init(struct ipam_addr_set *set)
{
    hmap_init(&set->map);
}

void
ipam_addr_set_destroy(struct ipam_addr_set *set)
{
    struct addr_node *n;
    HMAP_FOR_EACH_POP (n, node, &set->map) {
        free(n);
    }
    hmap_destroy(&set->map);
}

bool
ipam_addr_set_contains(const struct ipam_addr_set *set,
                       const struct in6_addr *a)
{
    const struct addr_node *n;
    HMAP_FOR_EACH_WITH_HASH (n, node, hash_bytes(a, sizeof *a, 0),
                             &set->map) {
        if (ipv6_addr_equals(&n->addr, a)) {
            return true;
        }
    }
    return false;
}

void
ipam_addr_set_add(struct ipam_addr_set *set, const struct in6_addr *a)
{
    if (!ipam_addr_set_contains(set, a)) {
        struct addr_node *n = xmalloc(sizeof *n);
        n->addr = *a;
        hmap_insert(&set->map, &n->node, hash_bytes(a, sizeof *a, 0));
    }
}

/* Returns how many addresses of 'set' lie in 'prefix'. */
static size_t
count_inside(const struct ipam_addr_set *set, const struct policy_prefix *p)
{
    const struct addr_node *n;
    size_t count = 0;
    HMAP_FOR_EACH (n, node, &set->map) {
        count += policy_prefix_contains(p, &n->addr);
    }
    return count;
}

size_t
ipam_addr_set_count(const struct ipam_addr_set *set)
{
    return hmap_count(&set->map);
}
