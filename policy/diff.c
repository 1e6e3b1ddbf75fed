#include <config.h>

#include "policy/diff.h"

#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

static void
add_change(struct policy_diff_table *dt, const void *old, const void *new)
{
    if (dt->n >= dt->allocated) {
        dt->changes = x2nrealloc(dt->changes, &dt->allocated,
                                 sizeof *dt->changes);
    }
    dt->changes[dt->n++] = (struct policy_change) { old, new };
    if (!old) {
        dt->n_added++;
    } else if (!new) {
        dt->n_removed++;
    } else {
        dt->n_changed++;
    }
}

static void
diff_table(const struct policy *old, const struct policy *new,
           enum policy_table t, struct policy_diff_table *dt)
{
    const struct policy_table_class *c = &policy_tables[t];
    size_t n_old = policy_n_items(old, t);
    size_t n_new = policy_n_items(new, t);
    size_t i = 0, j = 0;

    while (i < n_old || j < n_new) {
        const void *a = i < n_old ? policy_item(old, t, i) : NULL;
        const void *b = j < n_new ? policy_item(new, t, j) : NULL;
        int cmp = !a ? 1 : !b ? -1 : c->cmp(a, b);

        if (cmp < 0) {
            add_change(dt, a, NULL);
            i++;
        } else if (cmp > 0) {
            add_change(dt, NULL, b);
            j++;
        } else {
            if (!c->equal(a, b)) {
                add_change(dt, a, b);
            }
            i++;
            j++;
        }
    }
}

void
policy_diff(const struct policy *old, const struct policy *new,
            struct policy_diff *diff)
{
    memset(diff, 0, sizeof *diff);
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        diff_table(old, new, t, &diff->tables[t]);
    }
}

size_t
policy_diff_count(const struct policy_diff *diff)
{
    size_t n = 0;
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        n += diff->tables[t].n;
    }
    return n;
}

bool
policy_diff_is_empty(const struct policy_diff *diff)
{
    return !policy_diff_count(diff);
}

/* Appends to 's' one summary line per changed table and, below it, at most
 * 'max_per_table' of its changes ("+" added, "-" removed, "~" changed). */
void
policy_diff_format(const struct policy_diff *diff, size_t max_per_table,
                   struct ds *s)
{
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        const struct policy_table_class *c = &policy_tables[t];
        const struct policy_diff_table *dt = &diff->tables[t];
        if (!dt->n) {
            continue;
        }

        ds_put_format(s, "%-16s %"PRIuSIZE" added, %"PRIuSIZE" changed, "
                      "%"PRIuSIZE" removed\n", c->name, dt->n_added,
                      dt->n_changed, dt->n_removed);
        for (size_t i = 0; i < dt->n && i < max_per_table; i++) {
            const struct policy_change *ch = &dt->changes[i];
            ds_put_format(s, "  %c ", !ch->old ? '+' : !ch->new ? '-' : '~');
            c->format(ch->new ? ch->new : ch->old, s);
            if (ch->old && ch->new) {
                ds_put_cstr(s, "  (was: ");
                c->format(ch->old, s);
                ds_put_char(s, ')');
            }
            ds_put_char(s, '\n');
        }
        if (dt->n > max_per_table) {
            ds_put_format(s, "  ... and %"PRIuSIZE" more\n",
                          dt->n - max_per_table);
        }
    }
}

void
policy_diff_destroy(struct policy_diff *diff)
{
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        free(diff->tables[t].changes);
    }
    memset(diff, 0, sizeof *diff);
}
