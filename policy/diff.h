/* The difference between two policies, table by table.
 *
 * Both policies must be canonical (policy_canonicalize()); the diff then is
 * one merge walk per table, matching items by key.  A change points into the
 * two policies, which must outlive the diff. */

#ifndef POLICY_DIFF_H
#define POLICY_DIFF_H 1

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

struct ds;

/* 'old' NULL: added; 'new' NULL: removed; both: changed. */
struct policy_change {
    const void *old;
    const void *new;
};

struct policy_diff_table {
    struct policy_change *changes;
    size_t n, allocated;
    size_t n_added, n_changed, n_removed;
};

struct policy_diff {
    struct policy_diff_table tables[POLICY_N_TABLES];
};

void policy_diff(const struct policy *old, const struct policy *new,
                 struct policy_diff *);
bool policy_diff_is_empty(const struct policy_diff *);
size_t policy_diff_count(const struct policy_diff *);
void policy_diff_format(const struct policy_diff *, size_t max_per_table,
                        struct ds *);
void policy_diff_destroy(struct policy_diff *);

#endif /* policy/diff.h */
