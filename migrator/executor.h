/* The migrations one host's agent takes part in.
 *
 * Every vmroamd runs an executor.  As a source it starts the queued
 * migrations the scheduler lets through (the start is a transaction that
 * verifies every migration's state, so two sources never overbook a
 * destination), drives each through the state machine with its backend,
 * writes progress into the Migration row, aborts on cancel, on a lost
 * underlay link or an absent destination, and moves the VM's lookup
 * records to the destination's PA the moment the VM runs there.  As a
 * destination it says when it is ready to receive, and moves the records
 * itself if the VM announces itself there before the source noticed.
 * With a migration channel (migrator/channel.h), the data of the
 * migrations between two hosts that both have one goes through it.
 * Everything it knows is in the database, so a restarted agent finds its
 * migrations again. */

#ifndef MIGRATOR_EXECUTOR_H
#define MIGRATOR_EXECUTOR_H 1

#include "migrator/compress.h"

struct migr_backend;
struct migr_channel;
struct migr_executor;
struct ovsdb_idl;
struct smap;
struct ovsdb_idl_index;
struct ovsdb_idl_txn;

/* The pause a migration aims at unless its host or itself says otherwise
 * (libvirt's maximum downtime, ms). */
#define MIGR_MAX_DOWNTIME_DEFAULT 300

int migr_streams_default(void);

/* 'records' is the lookup records by VM: policy_db_index_records().  A
 * migration from here without a "max-downtime-ms" option of its own aims
 * at 'max_downtime_ms'. */
struct migr_executor *migr_executor_create(const char *chassis,
                                           struct migr_backend *,
                                           struct ovsdb_idl_index *records,
                                           int max_downtime_ms);
void migr_executor_destroy(struct migr_executor *);
void migr_executor_set_channel(struct migr_executor *, struct migr_channel *,
                               const char *socket_dir,
                               enum migr_compress_mode);

void migr_executor_run(struct migr_executor *, struct ovsdb_idl *,
                       struct ovsdb_idl_txn *, const char *underlay_link);
void migr_executor_port_ready(struct migr_executor *, struct ovsdb_idl *,
                              const char *vm);
void migr_executor_activated(struct migr_executor *, struct ovsdb_idl *,
                             struct ovsdb_idl_txn *, const char *vm);
void migr_executor_held_dropped(struct migr_executor *, struct ovsdb_idl *,
                                const char *vm, unsigned int dropped);
void migr_executor_read_lifecycle(struct migr_executor *);
void migr_executor_probing(const struct migr_executor *,
                           unsigned int *in_progress, unsigned int *waiting);
void migr_executor_holding(const struct migr_executor *, struct ovsdb_idl *,
                           struct smap *held);
void migr_executor_held(struct migr_executor *, struct ovsdb_idl *,
                        struct ovsdb_idl_txn *, const char *vm,
                        long long int when);
void migr_executor_wait(struct migr_executor *);

#endif /* migrator/executor.h */
