#include <config.h>

#include "overlay/desired.h"

#include <string.h>

#include "hash.h"
#include "openvswitch/list.h"
#include "overlay/flow.h"
#include "util.h"

/* One owner's want of one flow. */
struct want {
    struct ovs_list in_flow;    /* In struct desired_flow's 'wants'. */
    struct ovs_list in_owner;   /* In struct owner's 'wants'. */
    struct desired_flow *flow;
    uint64_t cookie;
    const struct overlay_shared *actions;
};

/* A flow of the set.  'flow.cookie' and 'flow.actions' are those of
 * 'best', the least of 'wants' (the actions are the want's). */
struct desired_flow {
    struct overlay_flow flow;   /* In struct overlay_desired's 'flows'. */
    struct ovs_list wants;
    const struct want *best;
};

struct owner {
    struct hmap_node node;      /* In struct overlay_desired's 'owners'. */
    uint64_t id;
    struct ovs_list wants;
    bool pinned;
};

void
overlay_desired_init(struct overlay_desired *d)
{
    hmap_init(&d->flows);
    hmap_init(&d->owners);
    hmap_init(&d->changed);
    d->all_changed = true;
}

static uint32_t
owner_hash(uint64_t id)
{
    return hash_uint64(id);
}

static struct owner *
find_owner(const struct overlay_desired *d, uint64_t id)
{
    struct owner *o;
    HMAP_FOR_EACH_WITH_HASH (o, node, owner_hash(id), &d->owners) {
        if (o->id == id) {
            return o;
        }
    }
    return NULL;
}

static struct owner *
get_owner(struct overlay_desired *d, uint64_t id)
{
    struct owner *o = find_owner(d, id);
    if (!o) {
        o = xzalloc(sizeof *o);
        o->id = id;
        ovs_list_init(&o->wants);
        hmap_insert(&d->owners, &o->node, owner_hash(id));
    }
    return o;
}

static void
mark_changed(struct overlay_desired *d, const struct overlay_flow *f)
{
    if (!d->all_changed && !overlay_flows_find(&d->changed, f)) {
        struct overlay_flow *key = xzalloc(sizeof *key);
        key->table_id = f->table_id;
        key->priority = f->priority;
        key->match = overlay_match_ref(f->match);
        hmap_insert(&d->changed, &key->node, f->node.hash);
    }
}

static bool
want_less(const struct want *a, const struct want *b)
{
    return (a->cookie != b->cookie ? a->cookie < b->cookie
            : overlay_shared_compare(a->actions, b->actions) < 0);
}

/* Makes 'df' hold the value of 'best', noting a change. */
static void
set_best(struct overlay_desired *d, struct desired_flow *df,
         const struct want *best)
{
    if (df->best && df->best->cookie == best->cookie
        && df->best->actions == best->actions) {
        df->best = best;
        df->flow.actions = best->actions;
        return;
    }
    df->best = best;
    df->flow.cookie = best->cookie;
    df->flow.actions = best->actions;
    mark_changed(d, &df->flow);
}

/* Adds a want of 'owner' for the flow (table_id, priority, match) with
 * 'cookie' and the 'ofpacts_len' bytes of 'ofpacts'. */
void
overlay_desired_add(struct overlay_desired *d, uint64_t owner,
                    uint8_t table_id, uint16_t priority, uint64_t cookie,
                    const struct match *match, const struct ofpact *ofpacts,
                    size_t ofpacts_len)
{
    struct overlay_flow key = {
        .table_id = table_id, .priority = priority,
        .match = overlay_match_new(match),
    };
    struct overlay_flow *f = overlay_flows_find(&d->flows, &key);
    struct desired_flow *df;
    if (f) {
        df = CONTAINER_OF(f, struct desired_flow, flow);
        overlay_match_unref(key.match);
    } else {
        df = xzalloc(sizeof *df);
        df->flow.table_id = table_id;
        df->flow.priority = priority;
        df->flow.match = key.match;
        ovs_list_init(&df->wants);
        hmap_insert(&d->flows, &df->flow.node, overlay_flow_hash(&key));
    }

    struct want *w = xmalloc(sizeof *w);
    w->flow = df;
    w->cookie = cookie;
    w->actions = overlay_shared_get(ofpacts, ofpacts_len);
    ovs_list_push_back(&df->wants, &w->in_flow);
    ovs_list_push_back(&get_owner(d, owner)->wants, &w->in_owner);
    if (!df->best || want_less(w, df->best)) {
        set_best(d, df, w);
    }
}

/* Drops want 'w' from its flow, and the flow from the set once no one
 * wants it. */
static void
drop_want(struct overlay_desired *d, struct want *w)
{
    struct desired_flow *df = w->flow;
    ovs_list_remove(&w->in_flow);
    if (ovs_list_is_empty(&df->wants)) {
        mark_changed(d, &df->flow);
        hmap_remove(&d->flows, &df->flow.node);
        overlay_match_unref(df->flow.match);
        free(df);
    } else if (df->best == w) {
        const struct want *best = NULL, *other;
        LIST_FOR_EACH (other, in_flow, &df->wants) {
            if (!best || want_less(other, best)) {
                best = other;
            }
        }
        set_best(d, df, best);
    }
    overlay_shared_unref(w->actions);
    free(w);
}

static void
destroy_owner(struct overlay_desired *d, struct owner *o)
{
    struct want *w;
    LIST_FOR_EACH_POP (w, in_owner, &o->wants) {
        drop_want(d, w);
    }
    hmap_remove(&d->owners, &o->node);
    free(o);
}

/* Removes every flow 'owner' wants, and forgets that it was pinned. */
void
overlay_desired_remove_owner(struct overlay_desired *d, uint64_t owner)
{
    struct owner *o = find_owner(d, owner);
    if (o) {
        destroy_owner(d, o);
    }
}

void
overlay_desired_pin(struct overlay_desired *d, uint64_t owner)
{
    get_owner(d, owner)->pinned = true;
}

bool
overlay_desired_is_pinned(const struct overlay_desired *d, uint64_t owner)
{
    const struct owner *o = find_owner(d, owner);
    return o && o->pinned;
}

/* Empties the set, for a full translation: what changed is no longer
 * tracked, everything is compared. */
void
overlay_desired_clear(struct overlay_desired *d)
{
    d->all_changed = true;
    overlay_flows_clear(&d->changed);

    struct owner *o;
    HMAP_FOR_EACH_SAFE (o, node, &d->owners) {
        destroy_owner(d, o);
    }
}

void
overlay_desired_destroy(struct overlay_desired *d)
{
    if (d) {
        overlay_desired_clear(d);
        hmap_destroy(&d->flows);
        hmap_destroy(&d->owners);
        hmap_destroy(&d->changed);
    }
}

/* Stores in '*changes' what turns 'installed' into the set, comparing only
 * the keys that changed since the last overlay_desired_clear_changed() if
 * they were tracked, and returns how many there are. */
size_t
overlay_desired_diff(const struct overlay_desired *d,
                     const struct hmap *installed,
                     struct overlay_flow_change **changes)
{
    return overlay_flows_diff(installed, &d->flows,
                              d->all_changed ? NULL : &d->changed, changes);
}

/* Starts tracking changes anew: the switch now holds the set. */
void
overlay_desired_clear_changed(struct overlay_desired *d)
{
    overlay_flows_clear(&d->changed);
    d->all_changed = false;
}
