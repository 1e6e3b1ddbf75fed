#include <config.h>

#include "migrator/row.h"

#include <string.h>

#include "policy/vmroam-idl.h"

/* The row's state; a state this version does not know reads as queued. */
enum migr_state
migr_row_state(const struct vmroamrec_migration *m)
{
    enum migr_state s = MIGR_QUEUED;
    migr_state_from_name(m->state, &s);
    return s;
}

static int64_t
lookup(char **keys, const int64_t *values, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], key)) {
            return values[i];
        }
    }
    return 0;
}

/* When the migration reached 'key' ("queued", "started", a state name,
 * "finished"), in ms since the epoch, or 0 if it did not (yet). */
int64_t
migr_row_timestamp(const struct vmroamrec_migration *m, const char *key)
{
    return lookup(m->key_timestamps, m->value_timestamps, m->n_timestamps,
                  key);
}

int64_t
migr_row_stat(const struct vmroamrec_migration *m, const char *key)
{
    return lookup(m->key_stats, m->value_stats, m->n_stats, key);
}
