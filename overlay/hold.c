#include <config.h>

#include "overlay/hold.h"

#include <limits.h>
#include <string.h>

#include "hash.h"
#include "openvswitch/shash.h"
#include "overlay/ofctrl.h"
#include "overlay/pipeline.h"
#include "util.h"

/* A VM whose packets the switch holds, or held until 'ended'. */
struct hold {
    struct overlay_redirect *nics;  /* Each with its own copies. */
    size_t n_nics;
    long long int ended;        /* When (monotonic, ms), or 0 if it goes on. */
    uint64_t uncount_req;       /* The request that removed the counting
                                 * flows, or 0 while they stay. */
};

struct overlay_holds {
    struct shash holds;         /* VM name -> struct hold. */
};

struct overlay_holds *
overlay_holds_create(void)
{
    struct overlay_holds *h = xmalloc(sizeof *h);
    shash_init(&h->holds);
    return h;
}

static void
hold_destroy(struct hold *hold)
{
    if (hold) {
        for (size_t i = 0; i < hold->n_nics; i++) {
            free(CONST_CAST(char *, hold->nics[i].mac));
            free(CONST_CAST(char *, hold->nics[i].pa));
        }
        free(hold->nics);
        free(hold);
    }
}

void
overlay_holds_destroy(struct overlay_holds *h)
{
    if (h) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, &h->holds) {
            hold_destroy(node->data);
        }
        shash_destroy(&h->holds);
        free(h);
    }
}

/* The owner, in the desired flows, of the flows that hold 'vm''s packets:
 * "hold" in the high half keeps it apart from rows' owners, which are the
 * first half of a UUID. */
static uint64_t
hold_owner(const char *vm)
{
    return (uint64_t) 0x686f6c64 << 32 | hash_string(vm, 0);
}

static void
put_hold(const char *vm, const struct hold *hold,
         struct overlay_desired *desired, int64_t gre_ofport)
{
    overlay_pipeline_hold(desired, gre_ofport, hold_owner(vm), hold->nics,
                          hold->n_nics);
}

/* Makes the desired flows send every packet for the 'n' 'nics' of 'vm' to
 * their PA, and count them.  A VM held already is held anew (a new PA, or
 * a hold that ended and begins again: its counting flows, if still there,
 * go on counting). */
void
overlay_holds_start(struct overlay_holds *h, struct overlay_desired *desired,
                    int64_t gre_ofport, const char *vm,
                    const struct overlay_redirect *nics, size_t n)
{
    struct hold *hold = xzalloc(sizeof *hold);
    hold->nics = xmemdup(nics, n * sizeof *nics);
    hold->n_nics = n;
    for (size_t i = 0; i < n; i++) {
        hold->nics[i].mac = xstrdup(nics[i].mac);
        hold->nics[i].pa = xstrdup(nics[i].pa);
    }
    hold_destroy(shash_replace(&h->holds, vm, hold));
    put_hold(vm, hold, desired, gre_ofport);
}

/* Ends the hold of 'vm' at 'now': its packets go their usual way, and the
 * flows that counted them stay for OVERLAY_HOLD_SETTLE_MS. */
void
overlay_holds_end(struct overlay_holds *h, struct overlay_desired *desired,
                  const char *vm, long long int now)
{
    struct hold *hold = shash_find_data(&h->holds, vm);
    if (hold && !hold->ended) {
        overlay_pipeline_hold(desired, 0, hold_owner(vm), NULL, 0);
        hold->ended = now;
    }
}

/* Puts the holds and the counting flows that stay back into 'desired',
 * after a full translation, which starts from no flows. */
void
overlay_holds_reapply(const struct overlay_holds *h,
                      struct overlay_desired *desired, int64_t gre_ofport)
{
    const struct shash_node *node;
    SHASH_FOR_EACH (node, &h->holds) {
        const struct hold *hold = node->data;
        if (!hold->uncount_req) {
            put_hold(node->name, hold, desired, gre_ofport);
            if (hold->ended) {
                overlay_pipeline_hold(desired, 0, hold_owner(node->name),
                                      NULL, 0);
            }
        }
    }
}

/* Removes from 'desired' the counting flows of the holds that ended
 * OVERLAY_HOLD_SETTLE_MS before 'now', as part of request 'req'.  Returns
 * true if it removed any: the caller then sends 'req'. */
bool
overlay_holds_settle(struct overlay_holds *h, struct overlay_desired *desired,
                     long long int now, uint64_t req)
{
    bool removed = false;
    struct shash_node *node;
    SHASH_FOR_EACH (node, &h->holds) {
        struct hold *hold = node->data;
        if (hold->ended && !hold->uncount_req
            && now >= hold->ended + OVERLAY_HOLD_SETTLE_MS) {
            overlay_pipeline_hold_uncount(desired, hold_owner(node->name));
            hold->uncount_req = req;
            removed = true;
        }
    }
    return removed;
}

/* Returns the name of a VM (the caller frees it) whose hold's count is
 * in, with how many packets the hold sent on in '*packets', and forgets
 * the hold; or NULL if there is none.  The count is in once the switch has
 * removed the counting flows and reported every one of them
 * ('*complete'), or, short of that, OVERLAY_HOLD_REPORT_MS later. */
char *
overlay_holds_take_count(struct overlay_holds *h, struct overlay_ofctrl *oc,
                         long long int now, uint64_t *packets,
                         bool *complete)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, &h->holds) {
        struct hold *hold = node->data;
        if (!hold->uncount_req
            || overlay_ofctrl_acked(oc) < hold->uncount_req) {
            continue;
        }
        uint64_t cookie = overlay_pipeline_hold_counter(
            hold_owner(node->name));
        *complete = overlay_ofctrl_carried_known(oc, cookie);
        if (*complete || now >= (hold->ended + OVERLAY_HOLD_SETTLE_MS
                                 + OVERLAY_HOLD_REPORT_MS)) {
            *packets = overlay_ofctrl_take_carried(oc, cookie);
            hold_destroy(hold);
            return shash_steal(&h->holds, node);
        }
    }
    return NULL;
}

/* The next moment at which a hold's count needs overlay_holds_settle() or
 * overlay_holds_take_count(), or LLONG_MAX. */
long long int
overlay_holds_next_wake(const struct overlay_holds *h)
{
    long long int next = LLONG_MAX;
    const struct shash_node *node;
    SHASH_FOR_EACH (node, &h->holds) {
        const struct hold *hold = node->data;
        if (hold->ended) {
            next = MIN(next, hold->ended + OVERLAY_HOLD_SETTLE_MS
                       + (hold->uncount_req ? OVERLAY_HOLD_REPORT_MS : 0));
        }
    }
    return next;
}
