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

/* True if 'e' fits the limits of both its hosts, the lower of each pair. */
static bool
fits(const struct migr_entry *entries, size_t n, const struct migr_entry *e,
     const struct migr_host_limits *hosts, size_t n_hosts)
{
    const struct migr_host_limits *src = find_host(hosts, n_hosts, e->source);
    const struct migr_host_limits *dst = find_host(hosts, n_hosts,
                                                   e->destination);
    int64_t max = MIN(limit_of(src, false), limit_of(dst, false));
    int64_t max_storage = MIN(limit_of(src, true), limit_of(dst, true));
    const char *ends[2] = { e->source, e->destination };

    for (int i = 0; i < 2; i++) {
        int64_t all, storage;
        count_running(entries, n, ends[i], &all, &storage);
        if (all >= max || (e->copy_storage && storage >= max_storage)) {
            return false;
        }
    }
    return true;
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
        if (!e->destination) {
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
