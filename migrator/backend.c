#include <config.h>

#include "migrator/backend.h"

#include <stdlib.h>

void
migr_vm_sizes_free(struct migr_vm_size *vms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(vms[i].name);
        sset_destroy(&vms[i].disks);
    }
    free(vms);
}
