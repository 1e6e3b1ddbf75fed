#include <config.h>

#include "migrator/placement.h"

#include <string.h>

#include "migrator/version.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

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

/* Why 'vm' cannot go to 'c', or NULL if it can.  The caller frees it. */
static char *
refusal(const struct migr_placement_vm *vm, const struct migr_candidate *c)
{
    if (!allowed(vm, c->name)) {
        return xasprintf("%s may not run there (VM allowed_chassis)",
                         vm->name);
    }
    if (c->down) {
        return xstrdup(c->down);
    }
    return migr_check_versions(vm->chassis, vm->versions, c->name,
                               c->versions);
}

static bool
better(const struct migr_candidate *a, const struct migr_candidate *b)
{
    return (a->free_slots != b->free_slots ? a->free_slots > b->free_slots
            : a->n_vms != b->n_vms ? a->n_vms < b->n_vms
            : strcmp(a->name, b->name) < 0);
}

/* Returns the index in 'hosts' of the best destination for 'vm', or
 * MIGR_PLACE_NONE if no host can take it; adds one line per host but the
 * VM's own to 'why'. */
size_t
migr_place(const struct migr_placement_vm *vm,
           const struct migr_candidate *hosts, size_t n, struct ds *why)
{
    size_t best = MIGR_PLACE_NONE;
    for (size_t i = 0; i < n; i++) {
        const struct migr_candidate *c = &hosts[i];
        if (!strcmp(c->name, vm->chassis)) {
            continue;
        }
        char *no = refusal(vm, c);
        if (no) {
            ds_put_format(why, "  %s: no (%s)\n", c->name, no);
            free(no);
            continue;
        }
        ds_put_format(why, "  %s: %"PRId64" free migration slot%s, "
                      "%"PRIuSIZE" VM%s\n", c->name, c->free_slots,
                      c->free_slots == 1 ? "" : "s", c->n_vms,
                      c->n_vms == 1 ? "" : "s");
        if (best == MIGR_PLACE_NONE || better(c, &hosts[best])) {
            best = i;
        }
    }
    return best;
}
