#include <config.h>

#include "overlay/flow.h"

#include <string.h>

#include "byte-order.h"
#include "hash.h"
#include "lib/flow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-protocol.h"
#include "util.h"

/* Every content shared, by hash_bytes() of it. */
static struct hmap shared = HMAP_INITIALIZER(&shared);

const struct overlay_shared *
overlay_shared_get(const void *data, size_t size)
{
    uint32_t hash = hash_bytes(data, size, 0);
    struct overlay_shared *sh;
    HMAP_FOR_EACH_WITH_HASH (sh, node, hash, &shared) {
        if (sh->size == size && !memcmp(sh->data, data, size)) {
            sh->refcnt++;
            return sh;
        }
    }
    sh = xmalloc(sizeof *sh + size);
    sh->refcnt = 1;
    sh->size = size;
    memcpy(sh->data, data, size);
    hmap_insert(&shared, &sh->node, hash);
    return sh;
}

const struct overlay_shared *
overlay_shared_ref(const struct overlay_shared *sh_)
{
    struct overlay_shared *sh = CONST_CAST(struct overlay_shared *, sh_);
    sh->refcnt++;
    return sh;
}

void
overlay_shared_unref(const struct overlay_shared *sh_)
{
    struct overlay_shared *sh = CONST_CAST(struct overlay_shared *, sh_);
    if (sh && !--sh->refcnt) {
        hmap_remove(&shared, &sh->node);
        free(sh);
    }
}

/* A total order of contents, for choosing among several wants of one flow
 * the same way whatever the order they came in. */
int
overlay_shared_compare(const struct overlay_shared *a,
                       const struct overlay_shared *b)
{
    if (a == b) {
        return 0;
    } else if (a->size != b->size) {
        return a->size < b->size ? -1 : 1;
    }
    return memcmp(a->data, b->data, a->size);
}

static size_t
miniflow_size(const struct miniflow *mf)
{
    return sizeof *mf + MINIFLOW_VALUES_SIZE(miniflow_n_values(mf));
}

static const struct overlay_shared *
shared_mask(const struct minimask *mask)
{
    return CONTAINER_OF(ALIGNED_CAST(const uint64_t *, mask),
                        struct overlay_shared, data[0]);
}

struct overlay_match *
overlay_match_new(const struct match *match)
{
    struct minimatch mm;
    minimatch_init(&mm, match);

    size_t size = miniflow_size(mm.flow);
    struct overlay_match *m = xmalloc(sizeof *m + size);
    m->refcnt = 1;
    memcpy(m->flow, mm.flow, size);
    const struct overlay_shared *mask
        = overlay_shared_get(mm.mask, miniflow_size(&mm.mask->masks));
    m->mm = (struct minimatch) {
        .flow = ALIGNED_CAST(struct miniflow *, m->flow),
        .mask = ALIGNED_CAST(struct minimask *, mask->data),
    };
    m->hash = hash_bytes(m->flow, size, hash_pointer(mask, 0));
    minimatch_destroy(&mm);
    return m;
}

struct overlay_match *
overlay_match_ref(const struct overlay_match *m_)
{
    struct overlay_match *m = CONST_CAST(struct overlay_match *, m_);
    m->refcnt++;
    return m;
}

void
overlay_match_unref(struct overlay_match *m)
{
    if (m && !--m->refcnt) {
        overlay_shared_unref(shared_mask(m->mm.mask));
        free(m);
    }
}

uint32_t
overlay_flow_hash(const struct overlay_flow *f)
{
    return hash_int(f->table_id << 16 | f->priority, f->match->hash);
}

static bool
flow_same_key(const struct overlay_flow *a, const struct overlay_flow *b)
{
    return (a->table_id == b->table_id && a->priority == b->priority
            && (a->match == b->match
                /* Equal masks are one (overlay_shared_get()). */
                || (a->match->mm.mask == b->match->mm.mask
                    && miniflow_equal(a->match->mm.flow,
                                      b->match->mm.flow))));
}

struct overlay_flow *
overlay_flows_find(const struct hmap *flows, const struct overlay_flow *key)
{
    struct overlay_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, overlay_flow_hash(key), flows) {
        if (flow_same_key(f, key)) {
            return f;
        }
    }
    return NULL;
}

struct overlay_flow *
overlay_flow_clone(const struct overlay_flow *src)
{
    struct overlay_flow *f = xmemdup(src, sizeof *src);
    f->match = overlay_match_ref(src->match);
    f->actions = src->actions ? overlay_shared_ref(src->actions) : NULL;
    return f;
}

void
overlay_flow_destroy(struct overlay_flow *f)
{
    if (f) {
        overlay_match_unref(f->match);
        overlay_shared_unref(f->actions);
        free(f);
    }
}

void
overlay_flows_clear(struct hmap *flows)
{
    struct overlay_flow *f;
    HMAP_FOR_EACH_POP (f, node, flows) {
        overlay_flow_destroy(f);
    }
}

bool
overlay_flow_same_value(const struct overlay_flow *a,
                        const struct overlay_flow *b)
{
    return a->cookie == b->cookie && a->actions == b->actions;
}

/* Formats 'f' as "ovs-ofctl add-flow" would take it. */
void
overlay_flow_format(const struct overlay_flow *f, struct ds *s)
{
    ds_put_format(s, "table=%u,priority=%u,cookie=%#"PRIx64",",
                  f->table_id, f->priority, f->cookie);
    size_t start = s->length;
    minimatch_format(&f->match->mm, NULL, NULL, s, OFP_DEFAULT_PRIORITY);
    if (s->length > start) {
        ds_put_char(s, ',');
    }
    ds_put_cstr(s, "actions=");
    overlay_actions_format(f->actions, s);
}

/* Formats 'actions' (a series of ofpacts) as ovs-ofctl writes them. */
void
overlay_actions_format(const struct overlay_shared *actions, struct ds *s)
{
    struct ofpact_format_params fp = { .s = s };
    ofpacts_format(ALIGNED_CAST(const struct ofpact *, actions->data),
                   actions->size, &fp);
}

/* Returns NULL if the switch will take 'f', or else why not (the caller
 * frees it): its actions need what its match does not ensure (a field
 * set on a packet of another protocol, say), or go to an earlier table. */
char *
overlay_flow_check(const struct overlay_flow *f)
{
    struct match match;
    minimatch_expand(&f->match->mm, &match);
    struct ofpact_check_params cp = {
        .match = &match,
        .max_ports = OFPP_MAX,
        .table_id = f->table_id,
        .n_tables = 255,
    };
    struct ofpact *ofpacts = xmemdup(f->actions->data, f->actions->size);
    enum ofperr error = ofpacts_check_consistency(
        ofpacts, f->actions->size, OFPUTIL_P_OF15_OXM, &cp);
    free(ofpacts);
    if (!error) {
        return NULL;
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    overlay_flow_format(f, &s);
    char *msg = xasprintf("flow \"%s\": %s", ds_cstr(&s),
                          ofperr_to_string(error));
    ds_destroy(&s);
    return msg;
}

/* Fills '*fm' with a flow_mod 'command' (OFPFC_*) for 'f': a strict
 * delete names the flow by its key alone, and a null 'f' means every
 * flow.  '*fm' points into 'f', which must outlive it. */
void
overlay_flow_mod(const struct overlay_flow *f, int command,
                 struct ofputil_flow_mod *fm)
{
    static struct minimatch catchall;
    if (!catchall.flow) {
        minimatch_init_catchall(&catchall);
    }
    *fm = (struct ofputil_flow_mod) {
        .match = f ? f->match->mm : catchall,
        .priority = f ? f->priority : OFP_DEFAULT_PRIORITY,
        .new_cookie = (f && command == OFPFC_ADD ? htonll(f->cookie)
                       : htonll(0)),
        .table_id = f ? f->table_id : OFPTT_ALL,
        .command = command,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
    };
    if (f && command == OFPFC_ADD) {
        fm->ofpacts = ALIGNED_CAST(struct ofpact *,
                                   CONST_CAST(uint64_t *, f->actions->data));
        fm->ofpacts_len = f->actions->size;
    }
}

static void
add_change(struct overlay_flow_change **changes, size_t *n, size_t *allocated,
           const struct overlay_flow *old, const struct overlay_flow *new)
{
    if (*n >= *allocated) {
        *changes = x2nrealloc(*changes, allocated, sizeof **changes);
    }
    (*changes)[(*n)++] = (struct overlay_flow_change) { old, new };
}

/* Stores in '*changes' (to be freed by the caller) what turns 'installed'
 * into 'desired', for the keys in 'keys' only if it is nonnull, deletions
 * first so that a new flow never overlaps one on its way out, and returns
 * how many there are. */
size_t
overlay_flows_diff(const struct hmap *installed, const struct hmap *desired,
                   const struct hmap *keys,
                   struct overlay_flow_change **changes)
{
    size_t n = 0, allocated = 0;
    const struct overlay_flow *f;

    *changes = NULL;
    HMAP_FOR_EACH (f, node, keys ? keys : installed) {
        const struct overlay_flow *old = keys ? overlay_flows_find(installed,
                                                                   f) : f;
        if (old && !overlay_flows_find(desired, f)) {
            add_change(changes, &n, &allocated, old, NULL);
        }
    }
    HMAP_FOR_EACH (f, node, keys ? keys : desired) {
        const struct overlay_flow *new = keys ? overlay_flows_find(desired,
                                                                   f) : f;
        if (!new) {
            continue;
        }
        const struct overlay_flow *old = overlay_flows_find(installed, f);
        if (!old) {
            add_change(changes, &n, &allocated, NULL, new);
        } else if (!overlay_flow_same_value(old, new)) {
            add_change(changes, &n, &allocated, old, new);
        }
    }
    return n;
}

/* Makes 'flows' follow change 'c', which overlay_flows_diff() computed
 * against it.  Returns the flow it took out ('c->old', NULL if none), for
 * the caller to destroy. */
struct overlay_flow *
overlay_flows_apply(struct hmap *flows, const struct overlay_flow_change *c)
{
    struct overlay_flow *old = CONST_CAST(struct overlay_flow *, c->old);
    if (!c->new) {
        hmap_remove(flows, &old->node);
    } else {
        /* An add replaces a flow with the same key in place. */
        struct overlay_flow *copy = overlay_flow_clone(c->new);
        if (old) {
            hmap_replace(flows, &old->node, &copy->node);
        } else {
            hmap_insert(flows, &copy->node, c->new->node.hash);
        }
    }
    return old;
}
