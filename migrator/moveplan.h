/* Which of a VM's disks a storage move copies, and to which file.
 *
 * "vmroam storage move VM --to DIR" copies each local file disk of a
 * running VM into DIR under the same file name.  The plan is made from the
 * domain's XML as libvirt gives it and from DIR alone: pure, no I/O.  A
 * cdrom, floppy or LUN, a network disk, a block device, a disk of a
 * storage pool ("volume"), a read-only or shareable disk, an empty drive
 * and a disk already in DIR stay where they are, each with the reason.
 * The plan is refused (with a sentence that says why) when nothing would
 * move, when two disks would get one destination file, or when a disk has
 * a block job running already.  The same module words the space checks
 * and writes and reads the bits of XML that libvirt is given or gives
 * back (a copy's destination, a storage pool, a disk's file). */

#ifndef MIGRATOR_MOVEPLAN_H
#define MIGRATOR_MOVEPLAN_H 1

#include <stddef.h>
#include <stdint.h>

#include "svec.h"

struct migr_move_disk {
    char *target;               /* The guest's name of the disk: "vda". */
    char *source;               /* The file it runs on now. */
    char *format;               /* Its driver type ("qcow2", "raw"), or NULL
                                 * if the XML names none. */
    char *dest;                 /* DIR/basename of 'source'. */
};

struct migr_moveplan {
    char *dir;                  /* The destination directory, normalized. */
    struct migr_move_disk *disks;
    size_t n_disks;
    struct svec skipped;        /* "hdc (a cdrom)", one per disk left. */
};

char *migr_moveplan_dir(const char *dir, char **normalized);
char *migr_moveplan_build(const char *domain_xml, const char *dir,
                          struct migr_moveplan *);
void migr_moveplan_destroy(struct migr_moveplan *);

const char *migr_moveplan_basename(const char *path);
char *migr_moveplan_dest_xml(const struct migr_move_disk *);
char *migr_moveplan_pool_xml(const char *name, const char *dir);
char *migr_moveplan_space(const char *dir, uint64_t available,
                          uint64_t needed);
char *migr_moveplan_headroom(const char *dir, uint64_t available,
                             uint64_t allocated, uint64_t capacity);
char *migr_moveplan_source_of(const char *domain_xml, const char *target);

#endif /* migrator/moveplan.h */
