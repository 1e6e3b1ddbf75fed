/* Reading a Migration row: its state and the values of its timestamps and
 * stats maps, for the agents and the command line alike; and queueing one,
 * for the command line. */

#ifndef MIGRATOR_ROW_H
#define MIGRATOR_ROW_H 1

#include <stdbool.h>
#include <stdint.h>

#include "migrator/fsm.h"

struct ovsdb_idl;
struct ovsdb_idl_txn;
struct smap;
struct vmroamrec_vm;
struct sset;
struct vmroamrec_migration;

enum migr_state migr_row_state(const struct vmroamrec_migration *);
int64_t migr_row_timestamp(const struct vmroamrec_migration *,
                           const char *key);
int64_t migr_row_stat(const struct vmroamrec_migration *, const char *key);
bool migr_row_switchover_on_resume(const struct vmroamrec_migration *);
bool migr_row_is_incoming(const struct vmroamrec_migration *,
                          const char *chassis);
void migr_row_moving(const struct ovsdb_idl *, const char *chassis,
                     struct sset *incoming, struct sset *outgoing);
void migr_row_arriving(const struct ovsdb_idl *, const char *chassis,
                       struct sset *arriving);
void migr_row_peers(const struct ovsdb_idl *, const char *chassis,
                    struct sset *peers);
void migr_row_vms(const struct ovsdb_idl *, const char *chassis,
                  long long int since, struct sset *vms);
const struct vmroamrec_migration *migr_row_queue(
    struct ovsdb_idl *, struct ovsdb_idl_txn *, const struct vmroamrec_vm *,
    const char *source, const char *destination, bool best_host,
    const struct smap *options, long long int queued_at);

#endif /* migrator/row.h */
