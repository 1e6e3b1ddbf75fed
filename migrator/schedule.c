#include <config.h>

#include "migrator/schedule.h"

#include <stdlib.h>
#include <string.h>

#include "sset.h"
#include "util.h"

static const struct migr_host_limits *
find_host(const struct migr_host_limits *hosts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(hosts[i].name, name)) {
            return &hosts[i];
        }
    }
    return NULL;
}

/* Counts the migrations of 'entries' running on 'host' (either end), and
 * among them the storage ones. */
static void
count_running(const struct migr_entry *entries, size_t n, const char *host,
              int64_t *all, int64_t *storage)
{
    *all = *storage = 0;
    for (size_t i = 0; i < n; i++) {
        const struct migr_entry *e = &entries[i];
        if ((migr_state_is_active(e->state) || e->start)
            && (!strcmp(e->source, host)
                || (e->destination && !strcmp(e->destination, host)))) {
            (*all)++;
            *storage += e->copy_storage;
        }
    }
}

static int64_t
limit_of(const struct migr_host_limits *h, bool storage)
{
    if (!h) {
        return storage ? MIGR_DEFAULT_MAX_STORAGE_MIGRATIONS
                       : MIGR_DEFAULT_MAX_MIGRATIONS;
    }
    return storage ? h->max_storage_migrations : h->max_migrations;
}

/* True if 'e' fits the limits of both its hosts: each end stays within its
 * own limit, so between the two the lower one holds. */
static bool
fits(const struct migr_entry *entries, size_t n, const struct migr_entry *e,
     const struct migr_host_limits *hosts, size_t n_hosts)
{
    const char *ends[2] = { e->source, e->destination };
    for (int i = 0; i < 2; i++) {
        const struct migr_host_limits *h = find_host(hosts, n_hosts, ends[i]);
        int64_t all, storage;
        count_running(entries, n, ends[i], &all, &storage);
        if (all >= limit_of(h, false)
            || (e->copy_storage && storage >= limit_of(h, true))) {
            return false;
        }
    }
    return true;
}

/* True if 'e' can never start: one of its hosts takes no migrations (of its
 * kind) at all.  It must not hold up the queue behind it. */
static bool
never_fits(const struct migr_entry *e, const struct migr_host_limits *hosts,
           size_t n_hosts)
{
    const char *ends[2] = { e->source, e->destination };
    for (int i = 0; i < 2; i++) {
        const struct migr_host_limits *h = find_host(hosts, n_hosts, ends[i]);
        if (limit_of(h, false) <= 0
            || (e->copy_storage && limit_of(h, true) <= 0)) {
            return true;
        }
    }
    return false;
}

static int
compare_queued(const void *a_, const void *b_)
{
    const struct migr_entry *const *a = a_, *const *b = b_;
    int64_t qa = (*a)->queued_at, qb = (*b)->queued_at;
    return qa < qb ? -1 : qa > qb ? 1 : (*a < *b ? -1 : *a > *b);
}

/* Marks 'start' on each queued entry that may start now and returns how
 * many. */
size_t
migr_schedule(struct migr_entry *entries, size_t n,
              const struct migr_host_limits *hosts, size_t n_hosts)
{
    struct migr_entry **queue = xmalloc(n * sizeof *queue + 1);
    size_t n_queued = 0, n_started = 0;

    for (size_t i = 0; i < n; i++) {
        entries[i].start = false;
        if (entries[i].state == MIGR_QUEUED) {
            queue[n_queued++] = &entries[i];
        }
    }
    qsort(queue, n_queued, sizeof *queue, compare_queued);

    struct sset waiting = SSET_INITIALIZER(&waiting);
    for (size_t i = 0; i < n_queued; i++) {
        struct migr_entry *e = queue[i];
        if (!e->destination || never_fits(e, hosts, n_hosts)) {
            continue;
        }
        if (!sset_contains(&waiting, e->source)
            && !sset_contains(&waiting, e->destination)
            && fits(entries, n, e, hosts, n_hosts)) {
            e->start = true;
            n_started++;
        } else {
            sset_add(&waiting, e->source);
            sset_add(&waiting, e->destination);
        }
    }
    sset_destroy(&waiting);
    free(queue);
    return n_started;
}
