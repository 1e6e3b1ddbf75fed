#include <config.h>

#include "migrator/placement.h"

#include <stdlib.h>
#include <string.h>

#include "migrator/version.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

static const char *const priority_names[] = {
    [MIGR_PRIORITY_HIGH] = "high",
    [MIGR_PRIORITY_MEDIUM] = "medium",
    [MIGR_PRIORITY_LOW] = "low",
};

const char *
migr_priority_name(enum migr_priority p)
{
    return priority_names[p];
}

bool
migr_priority_parse(const char *s, enum migr_priority *p)
{
    for (size_t i = 0; i < ARRAY_SIZE(priority_names); i++) {
        if (!strcmp(s, priority_names[i])) {
            *p = i;
            return true;
        }
    }
    return false;
}

static bool
allowed(const struct migr_placement_vm *vm, const char *host)
{
    for (size_t i = 0; i < vm->n_allowed; i++) {
        if (!strcmp(vm->allowed[i], host)) {
            return true;
        }
    }
    return !vm->n_allowed;
}

static int64_t
less_headroom(int64_t kb, int headroom_pct)
{
    return kb - kb * headroom_pct / 100;
}

/* Memory 'c' has left for VMs, or INT64_MAX if it did not say. */
static int64_t
memory_left(const struct migr_candidate *c, int headroom_pct)
{
    return (c->memory_kb
            ? less_headroom(c->memory_kb, headroom_pct) - c->used_kb
            : INT64_MAX);
}

static int64_t
mib(int64_t kb)
{
    return kb / 1024;
}

/* Why 'vm' does not fit on 'c', or NULL if it does. */
static char *
misfit(const struct migr_placement_vm *vm, const struct migr_candidate *c,
       int headroom_pct)
{
    int64_t left = memory_left(c, headroom_pct);
    if (vm->memory_kb && left < vm->memory_kb) {
        return xasprintf("%s needs %"PRId64" MiB of memory; %"PRId64" MiB "
                         "left of %"PRId64" MiB less %d%% headroom",
                         vm->name, mib(vm->memory_kb), mib(MAX(left, 0)),
                         mib(c->memory_kb), headroom_pct);
    }
    if (vm->disk_kb && c->free_disk_kb >= 0
        && less_headroom(c->free_disk_kb, headroom_pct) < vm->disk_kb) {
        return xasprintf("%s's disks need %"PRId64" MiB; %"PRId64" MiB free "
                         "less %d%% headroom", vm->name, mib(vm->disk_kb),
                         mib(c->free_disk_kb), headroom_pct);
    }
    return NULL;
}

/* Why 'vm' cannot go to 'c', or NULL if it can.  The caller frees it. */
static char *
refusal(const struct migr_placement_vm *vm, const struct migr_candidate *c,
        const struct migr_placement_rules *rules)
{
    if (rules->footprint
        && (!c->footprint || strcmp(c->footprint, rules->footprint))) {
        return xasprintf("not in footprint %s", rules->footprint);
    }
    if (!allowed(vm, c->name)) {
        return xasprintf("%s may not run there (VM allowed_chassis)",
                         vm->name);
    }
    if (c->down) {
        return xstrdup(c->down);
    }
    if (c->maintenance) {
        return xasprintf("host %s is in maintenance", c->name);
    }
    char *error = migr_check_versions(vm->chassis, vm->versions, c->name,
                                      c->versions);
    return error ? error : misfit(vm, c, rules->headroom_pct);
}

static bool
better(const struct migr_candidate *a, const struct migr_candidate *b,
       int headroom_pct)
{
    int64_t la = memory_left(a, headroom_pct);
    int64_t lb = memory_left(b, headroom_pct);
    return (la != lb ? la > lb
            : a->free_slots != b->free_slots ? a->free_slots > b->free_slots
            : a->n_vms != b->n_vms ? a->n_vms < b->n_vms
            : strcmp(a->name, b->name) < 0);
}

static void
describe(struct ds *why, const struct migr_candidate *c, int headroom_pct)
{
    ds_put_format(why, "  %s: ", c->name);
    if (c->memory_kb) {
        ds_put_format(why, "%"PRId64" MiB of memory left, ",
                      mib(memory_left(c, headroom_pct)));
    }
    ds_put_format(why, "%"PRId64" free migration slot%s, %"PRIuSIZE" VM%s\n",
                  c->free_slots, c->free_slots == 1 ? "" : "s", c->n_vms,
                  c->n_vms == 1 ? "" : "s");
}

/* Returns the index in 'hosts' of the best destination for 'vm', or
 * MIGR_PLACE_NONE if no host can take it; adds one line per host but the
 * VM's own to 'why'. */
size_t
migr_place(const struct migr_placement_vm *vm,
           const struct migr_candidate *hosts, size_t n,
           const struct migr_placement_rules *rules, struct ds *why)
{
    size_t best = MIGR_PLACE_NONE;
    for (size_t i = 0; i < n; i++) {
        const struct migr_candidate *c = &hosts[i];
        if (!strcmp(c->name, vm->chassis)) {
            continue;
        }
        char *no = refusal(vm, c, rules);
        if (no) {
            ds_put_format(why, "  %s: no (%s)\n", c->name, no);
            free(no);
            continue;
        }
        describe(why, c, rules->headroom_pct);
        if (best == MIGR_PLACE_NONE
            || better(c, &hosts[best], rules->headroom_pct)) {
            best = i;
        }
    }
    return best;
}

/* The order VMs are planned in: by priority, then the largest first (the
 * hardest to fit), then by name. */
static int
compare_vms(const void *a_, const void *b_, void *vms_)
{
    const struct migr_placement_vm *vms = vms_;
    const struct migr_placement_vm *a = &vms[*(const size_t *) a_];
    const struct migr_placement_vm *b = &vms[*(const size_t *) b_];
    return (a->priority != b->priority ? (int) a->priority - (int) b->priority
            : a->memory_kb != b->memory_kb ? (a->memory_kb > b->memory_kb
                                              ? -1 : 1)
            : strcmp(a->name, b->name));
}

/* The index of host 'name' in 'hosts', or MIGR_PLACE_NONE. */
static size_t
host_index(const struct migr_candidate *hosts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(hosts[i].name, name)) {
            return i;
        }
    }
    return MIGR_PLACE_NONE;
}

/* Places 'vms' one after the other in order of priority, each on the
 * hosts as the VMs placed before it leave them ('hosts' is updated), and
 * fills 'entries' (one per VM, in the order of 'vms').  A VM's wave is
 * when the per-host limits let it start: its source and its destination
 * each move at most max_migrations VMs at a time. */
void
migr_plan(const struct migr_placement_vm *vms, size_t n_vms,
          struct migr_candidate *hosts, size_t n_hosts,
          const struct migr_placement_rules *rules,
          struct migr_plan_entry *entries)
{
    size_t *order = xmalloc((n_vms ? n_vms : 1) * sizeof *order);
    for (size_t i = 0; i < n_vms; i++) {
        order[i] = i;
    }
    qsort_r(order, n_vms, sizeof *order, compare_vms, CONST_CAST(void *, vms));

    int *moves = xcalloc(n_hosts ? n_hosts : 1, sizeof *moves);
    for (size_t k = 0; k < n_vms; k++) {
        const struct migr_placement_vm *vm = &vms[order[k]];
        struct migr_plan_entry *e = &entries[order[k]];
        e->wave = 0;
        e->rank = k;
        if (vm->unmovable) {
            e->host = MIGR_PLACE_NONE;
            e->why = xstrdup(vm->unmovable);
            continue;
        }
        struct ds why = DS_EMPTY_INITIALIZER;
        e->host = migr_place(vm, hosts, n_hosts, rules, &why);
        if (e->host == MIGR_PLACE_NONE) {
            e->why = xasprintf("no host can take it:\n%s", ds_cstr(&why));
            ds_destroy(&why);
            continue;
        }
        e->why = ds_steal_cstr(&why);
        struct migr_candidate *dst = &hosts[e->host];
        dst->used_kb += vm->memory_kb;
        if (dst->free_disk_kb >= 0) {
            dst->free_disk_kb = MAX(0, dst->free_disk_kb - vm->disk_kb);
        }
        dst->n_vms++;
        size_t src = host_index(hosts, n_hosts, vm->chassis);
        e->wave = moves[e->host]++ / MAX(1, dst->max_migrations) + 1;
        if (src != MIGR_PLACE_NONE) {
            int wave = moves[src]++ / MAX(1, hosts[src].max_migrations) + 1;
            e->wave = MAX(e->wave, wave);
        }
    }
    free(moves);
    free(order);
}
