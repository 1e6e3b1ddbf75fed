/* Where a migrating VM's lookup records point.
 *
 * A migration moves its VM's lookup records (and its VM row) from the
 * source to the destination at switchover, and back if a failure follows:
 * each move sets every record's PA and chassis in the caller's transaction,
 * bumps the policy generation in it (so that the commit fails if another
 * writer changed the policy meanwhile), records that generation in the
 * Migration row and stamps when it happened.
 *
 * Agents with the database's agent role may move only records that "vmroam
 * migrate" marked ('moving': source and destination) when it queued the
 * migration; the source clears the marks once the migration is over. */

#ifndef MIGRATOR_RECORDS_H
#define MIGRATOR_RECORDS_H 1

#include <stdbool.h>

struct ovsdb_idl;
struct ovsdb_idl_index;
struct ovsdb_idl_txn;
struct vmroamrec_migration;
struct vmroamrec_vm;

bool migr_records_put(struct ovsdb_idl *, struct ovsdb_idl_txn *,
                      struct ovsdb_idl_index *records,
                      const struct vmroamrec_migration *, const char *chassis,
                      const char *stamp);

void migr_records_mark(struct ovsdb_idl *, const struct vmroamrec_vm *,
                       const char *source, const char *destination);
bool migr_records_marked(struct ovsdb_idl *,
                         const struct vmroamrec_migration *);
void migr_records_unmark(struct ovsdb_idl *, struct ovsdb_idl_index *records,
                         const struct vmroamrec_migration *,
                         const char *host);

#endif /* migrator/records.h */
