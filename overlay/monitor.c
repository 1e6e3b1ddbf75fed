#include <config.h>

#include "overlay/monitor.h"

#include "ovsdb-idl.h"
#include "policy/policy.h"
#include "policy/vmroam-idl.h"
#include "smap.h"
#include "sset.h"

static void
add_moving_clause(struct ovsdb_idl_condition *cond, const char *key,
                  const char *chassis)
{
    struct smap mark = SMAP_INITIALIZER(&mark);
    smap_add(&mark, key, chassis);
    vmroamrec_lookup_record_add_clause_moving(cond, OVSDB_F_INCLUDES, &mark);
    smap_destroy(&mark);
}

/* Sets the condition on the lookup records 'idl' replicates for agent
 * 'chassis': see the header.  'local_rds' are the routing domains with a
 * VM here, as 'policy' names them; 'vms' those of its migrations.  Returns
 * the condition sequence number at which the replica holds them. */
unsigned int
overlay_monitor_records(struct ovsdb_idl *idl, const char *chassis,
                        const struct policy *policy,
                        const struct sset *local_rds,
                        const struct sset *vms, bool all)
{
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);
    if (all) {
        ovsdb_idl_condition_add_clause_true(&cond);
    } else {
        vmroamrec_lookup_record_add_clause_chassis(&cond, OVSDB_F_EQ,
                                                   chassis);
        add_moving_clause(&cond, "source", chassis);
        add_moving_clause(&cond, "destination", chassis);
        const char *vm;
        SSET_FOR_EACH (vm, vms) {
            vmroamrec_lookup_record_add_clause_vm(&cond, OVSDB_F_EQ, vm);
        }
        for (size_t i = 0; i < policy->n_vsubnets; i++) {
            const struct policy_virtual_subnet *vs = &policy->vsubnets[i];
            if (sset_contains(local_rds, vs->routing_domain)) {
                vmroamrec_lookup_record_add_clause_vsid(&cond, OVSDB_F_EQ,
                                                        vs->vsid);
            }
        }
    }
    unsigned int seqno = vmroamrec_lookup_record_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
    return seqno;
}
