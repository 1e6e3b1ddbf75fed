#include <config.h>

#include "overlay/inputs.h"

#include <limits.h>
#include <string.h>

#include "migrator/fsm.h"
#include "migrator/row.h"
#include "openvswitch/util.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "policy/db.h"
#include "policy/vmroam-idl.h"
#include "util.h"

/* When the redirects of 'm', a migration from here, end (wall clock ms):
 * never while it may still succeed, the grace period after it did, and at
 * once (0) if it failed or its records have not moved yet.  They begin
 * with the records' move, before the source's hold of the guest's packets
 * ends, so that nothing the other hosts still tunnel here falls between
 * the two while their flows follow the move. */
static long long int
redirects_end(const struct vmroamrec_migration *m)
{
    enum migr_state s = migr_row_state(m);
    return (!migr_row_timestamp(m, "records-moved") ? 0
            : s == MIGR_DONE ? (migr_row_timestamp(m, "finished")
                                + OVERLAY_REDIRECT_GRACE_MS)
            : migr_state_is_final(s) || s == MIGR_ROLLING_BACK ? 0
            : LLONG_MAX);
}

/* Adds the redirects of the VMs that migrate or migrated away from
 * 'chassis' (as redirects_end() says) to 'in', noting when the first of
 * them ends. */
static void
gather_departures(struct ovsdb_idl *idl, struct ovsdb_idl_index *index,
                  const char *chassis, long long int now,
                  struct overlay_inputs *in)
{
    size_t allocated = 0;
    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, idl) {
        long long int expires = redirects_end(m);
        if (strcmp(m->source, chassis) || expires <= now) {
            continue;
        }
        in->redirects_expire = MIN(in->redirects_expire, expires);
        const struct vmroamrec_lookup_record **records;
        size_t n = policy_db_vm_records(index, m->vm, &records);
        for (size_t i = 0; i < n; i++) {
            const struct vmroamrec_lookup_record *r = records[i];
            if (strcmp(r->chassis, chassis)) {
                if (in->n_redirects >= allocated) {
                    in->redirects = x2nrealloc(in->redirects, &allocated,
                                               sizeof *in->redirects);
                }
                in->redirects[in->n_redirects++] = (struct overlay_redirect) {
                    r->vsid, r->mac, r->pa,
                };
            }
        }
        free(records);
    }
}

/* Initializes 'in' to no inputs. */
void
overlay_inputs_init(struct overlay_inputs *in)
{
    *in = (struct overlay_inputs) { .redirects_expire = LLONG_MAX };
    sset_init(&in->incoming);
    sset_init(&in->outgoing);
    sset_init(&in->peer_pas);
}

/* Reads into 'in' (which the caller destroys) what a translation for
 * 'chassis' at wall clock time 'now' needs besides the policy. */
void
overlay_inputs_gather(struct ovsdb_idl *idl, struct ovsdb_idl_index *records,
                      const char *chassis, long long int now,
                      struct overlay_inputs *in)
{
    overlay_inputs_init(in);
    gather_departures(idl, records, chassis, now, in);
    migr_row_moving(idl, chassis, &in->incoming, &in->outgoing);
    overlay_inputs_peer_pas(idl, chassis, &in->peer_pas);
}

void
overlay_inputs_destroy(struct overlay_inputs *in)
{
    free(in->redirects);
    sset_destroy(&in->incoming);
    sset_destroy(&in->outgoing);
    sset_destroy(&in->peer_pas);
}

/* Adds the PAs of the chassis other than 'chassis' to 'pas': the switch
 * accepts GRE from them even if they host no VM yet, such as a VM's
 * destination announcing it. */
void
overlay_inputs_peer_pas(struct ovsdb_idl *idl, const char *chassis,
                        struct sset *pas)
{
    const struct vmroamrec_chassis *ch;
    VMROAMREC_CHASSIS_FOR_EACH (ch, idl) {
        if (strcmp(ch->name, chassis)) {
            for (size_t i = 0; i < ch->n_pas; i++) {
                sset_add(pas, ch->pas[i]);
            }
        }
    }
}

/* How an incoming VM's NIC is known when it announces itself: its virtual
 * subnet and MAC. */
char *
overlay_announce_key(int64_t vsid, struct eth_addr mac)
{
    return xasprintf("%"PRId64" "ETH_ADDR_FMT, vsid, ETH_ADDR_ARGS(mac));
}
