#include <config.h>

#include "overlay/flow.h"

#include <string.h>

#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-flow.h"
#include "util.h"

/* The text of a match or actions, shared by every set that holds the
 * flow: the desired set, its changed keys and the installed set hold the
 * same flows, and would otherwise keep three copies of each. */
struct text {
    unsigned int refcnt;
    char s[];
};

static struct text *
text_of(const char *s)
{
    return CONTAINER_OF(s, struct text, s);
}

char *
overlay_text_new(const char *s)
{
    size_t len = strlen(s);
    struct text *t = xmalloc(sizeof *t + len + 1);
    t->refcnt = 1;
    memcpy(t->s, s, len + 1);
    return t->s;
}

char *
overlay_text_ref(const char *s)
{
    struct text *t = text_of(s);
    t->refcnt++;
    return t->s;
}

void
overlay_text_unref(char *s)
{
    if (s) {
        struct text *t = text_of(s);
        if (!--t->refcnt) {
            free(t);
        }
    }
}

uint32_t
overlay_flow_hash(const struct overlay_flow *f)
{
    uint32_t hash = hash_int(f->table_id << 16 | f->priority, 0);
    return hash_string(f->match, hash);
}

static bool
flow_same_key(const struct overlay_flow *a, const struct overlay_flow *b)
{
    return (a->table_id == b->table_id && a->priority == b->priority
            && !strcmp(a->match, b->match));
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
    f->match = overlay_text_ref(src->match);
    f->actions = overlay_text_ref(src->actions);
    return f;
}

void
overlay_flow_destroy(struct overlay_flow *f)
{
    if (f) {
        overlay_text_unref(f->match);
        overlay_text_unref(f->actions);
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
    return a->cookie == b->cookie && !strcmp(a->actions, b->actions);
}

/* Formats 'f' as "ovs-ofctl add-flow" would take it. */
void
overlay_flow_format(const struct overlay_flow *f, struct ds *s)
{
    ds_put_format(s, "table=%u,priority=%u,cookie=%#"PRIx64"%s%s,actions=%s",
                  f->table_id, f->priority, f->cookie,
                  f->match[0] ? "," : "", f->match, f->actions);
}

/* Parses 'f' into '*fm' as a flow_mod 'command' (OFPFC_*); a strict
 * delete names the flow by its key alone, and a null 'f' means every
 * flow.  Returns NULL, or an error
 * (caller frees) if the translation made a flow the switch cannot take.
 * On success the caller frees fm->match and fm->ofpacts. */
char *
overlay_flow_parse(const struct overlay_flow *f, int command,
                   struct ofputil_flow_mod *fm)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    if (!f) {
        /* Every flow. */
    } else if (command == OFPFC_DELETE_STRICT) {
        ds_put_format(&s, "table=%u,priority=%u%s%s", f->table_id,
                      f->priority, f->match[0] ? "," : "", f->match);
    } else {
        overlay_flow_format(f, &s);
    }
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_mod_str(fm, ds_cstr(&s), NULL, NULL,
                                         command, &usable);
    if (error) {
        char *msg = xasprintf("cannot encode flow \"%s\": %s", ds_cstr(&s),
                              error);
        free(error);
        error = msg;
    }
    ds_destroy(&s);
    return error;
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
