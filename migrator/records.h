/* Where a migrating VM's lookup records point.
 *
 * A migration moves its VM's lookup records (and its VM row) from the
 * source to the destination at switchover, and back if a failure follows:
 * each move sets every record's PA and chassis in the caller's transaction,
 * bumps the policy generation in it (so that the commit fails if another
 * writer changed the policy meanwhile), records that generation in the
 * Migration row and stamps when it happened. */

#ifndef MIGRATOR_RECORDS_H
#define MIGRATOR_RECORDS_H 1

#include <stdbool.h>

struct ovsdb_idl;
struct ovsdb_idl_index;
struct ovsdb_idl_txn;
struct vmroamrec_migration;

bool migr_records_put(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                      struct ovsdb_idl_index *records,
                      const struct vmroamrec_migration *, const char *chassis,
                      const char *stamp);

#endif /* migrator/records.h */
