/* The migration channel: vmroamd carries a migration's data itself, over
 * mutual TLS.
 *
 * On the source, QEMU migrates into unix sockets this module serves: one
 * for memory (QEMU's multifd opens several connections to it) and one for
 * the disks.  Each connection QEMU opens is carried to the destination's
 * channel listener over TLS (libopenvswitch's stream-ssl, with the host
 * certificates), after a one-line greeting that names the migration and
 * the stream; the destination's certificate must name the destination
 * host.  On the destination, the listener takes a connection only from the
 * host that the migration it expects names as its source (the peer
 * certificate's common name), and delivers it into the destination QEMU's
 * incoming unix socket at the same path.  Any other peer gets nothing, and
 * the migration learns why.
 *
 * A migration's sockets, on both hosts, are in a directory of their own
 * that belongs to the user and group QEMU runs as there, so that a QEMU
 * that is not root can create and reach them, and no other user can.
 *
 * Every connection is relayed by a thread of its own, so that the streams
 * of one migration use several cores and the agent's main loop never waits
 * on them.  Closing a migration's channel cuts its connections at once,
 * which makes QEMU fail fast instead of waiting for a dead peer. */

#ifndef MIGRATOR_CHANNEL_H
#define MIGRATOR_CHANNEL_H 1

#include <stdint.h>
#include <sys/types.h>

#include "migrator/compress.h"
#include "openvswitch/compiler.h"

struct migr_channel;

/* Where QEMU's sockets of the channel go, on source and destination
 * alike: a directory QEMU may create sockets in, private to each host. */
#define MIGR_SOCKET_DIR_DEFAULT "/run/libvirt/qemu"

/* The streams of one migration. */
enum migr_stream_kind {
    MIGR_STREAM_MEMORY,
    MIGR_STREAM_DISKS,
    MIGR_N_STREAM_KINDS
};

struct migr_channel_stats {
    uint64_t bytes_in;          /* From QEMU on the source. */
    uint64_t bytes_wire;        /* Sent to the destination, framed and
                                 * compressed (before TLS). */
    unsigned int streams;       /* Connections carried so far. */
    uint64_t cpu_ns;            /* CPU time its relay threads took on this
                                 * host: what carrying the migration cost
                                 * (TLS, framing, lz4). */
};

struct migr_channel *migr_channel_create(const char *listen, char **errorp);
void migr_channel_destroy(struct migr_channel *);
char *migr_channel_listen(struct migr_channel *, const char *listen)
    OVS_WARN_UNUSED_RESULT;
char *migr_channel_address(const struct migr_channel *, const char *pa);

char *migr_channel_socket(const char *dir, const char *id,
                          enum migr_stream_kind);

/* Source. */
char *migr_channel_serve(struct migr_channel *, const char *id,
                         const char *peer, const char *destination,
                         const char *paths[MIGR_N_STREAM_KINDS],
                         uid_t, gid_t, enum migr_compress_mode)
    OVS_WARN_UNUSED_RESULT;

/* Destination. */
char *migr_channel_expect(struct migr_channel *, const char *id,
                          const char *source,
                          const char *paths[MIGR_N_STREAM_KINDS], uid_t,
                          gid_t)
    OVS_WARN_UNUSED_RESULT;

/* Both. */
void migr_channel_get(struct migr_channel *, const char *id,
                      struct migr_channel_stats *, char **error);
void migr_channel_close(struct migr_channel *, const char *id);

#endif /* migrator/channel.h */
