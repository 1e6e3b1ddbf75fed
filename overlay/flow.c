#include <config.h>

#include "overlay/flow.h"

#include <string.h>

#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-flow.h"
#include "util.h"

static uint32_t
flow_hash(const struct overlay_flow *f)
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
    HMAP_FOR_EACH_WITH_HASH (f, node, flow_hash(key), flows) {
        if (flow_same_key(f, key)) {
            return f;
        }
    }
    return NULL;
}

/* Adds a flow to 'flows'.  A second flow with the same key is a bug in the
 * translation: the first one stays, so the result does not depend on
 * ordering, and the duplicate is dropped. */
void
overlay_flows_add(struct hmap *flows, uint8_t table_id, uint16_t priority,
                  uint64_t cookie, const char *match, const char *actions)
{
    struct overlay_flow key = {
        .table_id = table_id, .priority = priority,
        .match = CONST_CAST(char *, match),
    };
    if (overlay_flows_find(flows, &key)) {
        return;
    }

    struct overlay_flow *f = xmalloc(sizeof *f);
    f->table_id = table_id;
    f->priority = priority;
    f->cookie = cookie;
    f->match = xstrdup(match);
    f->actions = xstrdup(actions);
    hmap_insert(flows, &f->node, flow_hash(f));
}

struct overlay_flow *
overlay_flow_clone(const struct overlay_flow *src)
{
    struct overlay_flow *f = xmemdup(src, sizeof *src);
    f->match = xstrdup(src->match);
    f->actions = xstrdup(src->actions);
    return f;
}

void
overlay_flow_destroy(struct overlay_flow *f)
{
    if (f) {
        free(f->match);
        free(f->actions);
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
 * into 'desired', deletions first so that a new flow never overlaps one on
 * its way out, and returns how many there are. */
size_t
overlay_flows_diff(const struct hmap *installed, const struct hmap *desired,
                   struct overlay_flow_change **changes)
{
    size_t n = 0, allocated = 0;
    const struct overlay_flow *f;

    *changes = NULL;
    HMAP_FOR_EACH (f, node, installed) {
        if (!overlay_flows_find(desired, f)) {
            add_change(changes, &n, &allocated, f, NULL);
        }
    }
    HMAP_FOR_EACH (f, node, desired) {
        const struct overlay_flow *old = overlay_flows_find(installed, f);
        if (!old) {
            add_change(changes, &n, &allocated, NULL, f);
        } else if (!overlay_flow_same_value(old, f)) {
            add_change(changes, &n, &allocated, old, f);
        }
    }
    return n;
}
