#include <config.h>

#include "migrator/blockcopy.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "random.h"
#include "timeval.h"
#include "util.h"

/* How often the copies' progress is read. */
#define POLL_MS 200
/* How many times a pivot that libvirt finds not ready yet is tried again
 * (once per poll) before the move gives up. */
#define PIVOT_TRIES 50

struct move {
    const struct migr_blockcopy_request *rq;
    struct migr_blockcopy_outcome *out;
    virConnectPtr conn;
    virDomainPtr dom;
    virStoragePoolPtr pool;     /* On the destination directory. */
    bool own_pool;              /* Made by us (transient): destroy it. */
    bool *started;              /* Per disk: its copy job started, so the
                                 * destination file is the move's. */
    uint64_t *cur, *end;
    size_t n_ready;
    long long int started_at;
};

static void
ignore_error(void *aux OVS_UNUSED, virErrorPtr error OVS_UNUSED)
{
    /* Errors are reported where they happen, with their context. */
}

/* libvirt's last error, as "what: message". */
static char *
virt_error(const char *what)
{
    const char *msg = virGetLastErrorMessage();
    return xasprintf("%s: %s", what, msg ? msg : "unknown libvirt error");
}

static enum migr_blockcopy_result
fail(struct move *m, enum migr_blockcopy_result result, char *error)
{
    free(m->out->error);
    m->out->error = error;
    return result;
}

static enum migr_blockcopy_result
fail_virt(struct move *m, char *what)
{
    char *error = virt_error(what);
    free(what);
    return fail(m, MIGR_BLOCKCOPY_FAILED, error);
}

/* Opens the VM's host's libvirt and finds the running domain, and plans
 * the move from its description. */
static enum migr_blockcopy_result
open_domain(struct move *m)
{
    const struct migr_blockcopy_request *rq = m->rq;
    virSetErrorFunc(NULL, ignore_error);
    m->conn = virConnectOpen(rq->uri);
    if (!m->conn) {
        return fail_virt(m, xasprintf("cannot reach libvirtd of %s (%s)",
                                      rq->host, rq->uri));
    }
    m->dom = virDomainLookupByName(m->conn, rq->vm);
    if (!m->dom) {
        return fail_virt(m, xasprintf("libvirtd of %s has no domain %s",
                                      rq->host, rq->vm));
    }
    int active = virDomainIsActive(m->dom);
    if (active < 0) {
        return fail_virt(m, xasprintf("domain %s on %s", rq->vm, rq->host));
    } else if (!active) {
        return fail(m, MIGR_BLOCKCOPY_REFUSED,
                    xasprintf("VM %s is not running on %s: only a running "
                              "VM's disks are moved", rq->vm, rq->host));
    }
    char *xml = virDomainGetXMLDesc(m->dom, 0);
    if (!xml) {
        return fail_virt(m, xasprintf("domain %s on %s", rq->vm, rq->host));
    }
    char *error = migr_moveplan_build(xml, rq->dir, &m->out->plan);
    free(xml);
    if (error) {
        return fail(m, MIGR_BLOCKCOPY_REFUSED, error);
    }
    size_t n = m->out->plan.n_disks;
    m->started = xcalloc(n, sizeof *m->started);
    m->cur = xcalloc(n, sizeof *m->cur);
    m->end = xcalloc(n, sizeof *m->end);
    return MIGR_BLOCKCOPY_MOVED;
}

/* Looks into the destination directory through a storage pool on it: the
 * one libvirt has already, or a transient one of our own. */
static enum migr_blockcopy_result
open_pool(struct move *m)
{
    const char *dir = m->out->plan.dir;
    const char *host = m->rq->host;
    m->pool = virStoragePoolLookupByTargetPath(m->conn, dir);
    if (m->pool) {
        if (virStoragePoolIsActive(m->pool) != 1) {
            return fail(m, MIGR_BLOCKCOPY_FAILED, xasprintf(
                            "%s on %s is the directory of libvirt's storage "
                            "pool %s, which is not active (virsh pool-start "
                            "%s)", dir, host, virStoragePoolGetName(m->pool),
                            virStoragePoolGetName(m->pool)));
        }
        if (virStoragePoolRefresh(m->pool, 0) < 0) {
            return fail_virt(m, xasprintf("destination %s on %s", dir, host));
        }
        return MIGR_BLOCKCOPY_MOVED;
    }

    char *name = xasprintf("vmroam-storage-move-%08x", random_uint32());
    char *xml = migr_moveplan_pool_xml(name, dir);
    m->pool = virStoragePoolCreateXML(m->conn, xml, 0);
    free(xml);
    free(name);
    if (!m->pool) {
        if (virGetLastErrorCode() == VIR_ERR_NO_SUPPORT) {
            return fail_virt(m, xasprintf(
                                 "libvirtd of %s has no storage driver, "
                                 "which the move needs to check %s and to "
                                 "remove partial copies", host, dir));
        }
        return fail_virt(m, xasprintf("destination directory %s on %s", dir,
                                      host));
    }
    m->own_pool = true;
    return MIGR_BLOCKCOPY_MOVED;
}

/* Refuses destination files that exist already, and a directory with too
 * little space for the copies. */
static enum migr_blockcopy_result
check_destination(struct move *m)
{
    const struct migr_moveplan *plan = &m->out->plan;
    for (size_t i = 0; i < plan->n_disks; i++) {
        const struct migr_move_disk *d = &plan->disks[i];
        virStorageVolPtr vol = virStorageVolLookupByName(
            m->pool, migr_moveplan_basename(d->dest));
        if (vol) {
            virStorageVolFree(vol);
            return fail(m, MIGR_BLOCKCOPY_REFUSED, xasprintf(
                            "disk %s: %s exists already on %s; a move never "
                            "overwrites a file (remove it, or choose another "
                            "directory)", d->target, d->dest, m->rq->host));
        }
        virDomainBlockInfo info;
        if (virDomainGetBlockInfo(m->dom, d->target, &info, 0) < 0) {
            return fail_virt(m, xasprintf("disk %s", d->target));
        }
        m->out->allocated += info.allocation;
        m->out->capacity += info.capacity;
    }
    virStoragePoolInfo pinfo;
    if (virStoragePoolGetInfo(m->pool, &pinfo) < 0) {
        return fail_virt(m, xasprintf("destination %s on %s", plan->dir,
                                      m->rq->host));
    }
    m->out->available = pinfo.available;
    char *error = migr_moveplan_space(plan->dir, pinfo.available,
                                      m->out->allocated);
    return error ? fail(m, MIGR_BLOCKCOPY_FAILED, error)
                 : MIGR_BLOCKCOPY_MOVED;
}

/* Starts the copy of every disk. */
static enum migr_blockcopy_result
start_copies(struct move *m)
{
    const struct migr_moveplan *plan = &m->out->plan;
    unsigned int flags = 0;
    if (virDomainIsPersistent(m->dom) == 1) {
        /* libvirt refuses a persistent domain's copy otherwise ("domain is
         * not transient"). */
        flags |= VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB;
    }
    m->started_at = time_msec();
    for (size_t i = 0; i < plan->n_disks; i++) {
        const struct migr_move_disk *d = &plan->disks[i];
        virTypedParameterPtr params = NULL;
        int n = 0, max = 0;
        if (m->rq->bandwidth
            && virTypedParamsAddULLong(&params, &n, &max,
                                       VIR_DOMAIN_BLOCK_COPY_BANDWIDTH,
                                       m->rq->bandwidth) < 0) {
            return fail_virt(m, xstrdup("bandwidth"));
        }
        char *xml = migr_moveplan_dest_xml(d);
        int error = virDomainBlockCopy(m->dom, d->target, xml, params, n,
                                       flags);
        free(xml);
        virTypedParamsFree(params, n);
        if (error) {
            return fail_virt(m, xasprintf("disk %s: the copy to %s did not "
                                          "start", d->target, d->dest));
        }
        m->started[i] = true;
    }
    return MIGR_BLOCKCOPY_MOVED;
}

/* Why disk 'i''s copy job is gone before its pivot, with the directory's
 * free space, which is the usual reason. */
static char *
job_gone(struct move *m, size_t i)
{
    const struct migr_move_disk *d = &m->out->plan.disks[i];
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "disk %s: the copy to %s ended before it was complete "
                  "(it failed, or someone aborted it)", d->target, d->dest);
    virStoragePoolInfo info;
    if (!virStoragePoolRefresh(m->pool, 0)
        && !virStoragePoolGetInfo(m->pool, &info)) {
        ds_put_format(&s, "; %s has %.1f MB free", m->out->plan.dir,
                      info.available / 1e6);
    }
    return ds_steal_cstr(&s);
}

/* Reads every copy's progress.  Returns MOVED while they run. */
static enum migr_blockcopy_result
poll_copies(struct move *m)
{
    const struct migr_moveplan *plan = &m->out->plan;
    m->n_ready = 0;
    for (size_t i = 0; i < plan->n_disks; i++) {
        virDomainBlockJobInfo info;
        int r = virDomainGetBlockJobInfo(m->dom, plan->disks[i].target, &info,
                                         0);
        if (r < 0) {
            return fail_virt(m, xasprintf("disk %s", plan->disks[i].target));
        } else if (!r) {
            return fail(m, MIGR_BLOCKCOPY_FAILED, job_gone(m, i));
        }
        m->cur[i] = info.cur;
        m->end[i] = info.end;
        /* libvirt reports cur == end for a copy only once it is ready to
         * pivot (and mirrors every new write from then on). */
        m->n_ready += info.end && info.cur == info.end;
    }
    return MIGR_BLOCKCOPY_MOVED;
}

static void
report(struct move *m)
{
    struct migr_blockcopy_progress p = {
        .n_ready = m->n_ready,
        .n_disks = m->out->plan.n_disks,
        .msec = time_msec() - m->started_at,
    };
    for (size_t i = 0; i < p.n_disks; i++) {
        p.done += m->cur[i];
        p.total += m->end[i];
    }
    m->out->copied = p.total;
    if (m->rq->progress) {
        m->rq->progress(&p, m->rq->aux);
    }
}

/* Checks that disk 'i' runs on its copy, in the running and (for a
 * persistent domain) the persistent definition. */
static char *
check_pivoted(struct move *m, size_t i)
{
    const struct migr_move_disk *d = &m->out->plan.disks[i];
    int persistent = virDomainIsPersistent(m->dom);
    for (int config = 0; config <= (persistent == 1); config++) {
        char *xml = virDomainGetXMLDesc(m->dom, (config
                                                 ? VIR_DOMAIN_XML_INACTIVE
                                                 : 0));
        if (!xml) {
            return virt_error(d->target);
        }
        char *file = migr_moveplan_source_of(xml, d->target);
        free(xml);
        bool ok = file && !strcmp(file, d->dest);
        char *error = (ok ? NULL
                       : xasprintf("disk %s: after the pivot the domain's %s "
                                   "definition names %s, not %s", d->target,
                                   config ? "persistent" : "running",
                                   file ? file : "no file", d->dest));
        free(file);
        if (error) {
            return error;
        }
    }
    return NULL;
}

/* Pivots every disk onto its copy.  Returns MOVED once all are, or, with
 * '*retry', when libvirt says the first is not ready after all. */
static enum migr_blockcopy_result
pivot(struct move *m, bool *retry)
{
    const struct migr_moveplan *plan = &m->out->plan;
    *retry = false;
    for (size_t i = m->out->n_pivoted; i < plan->n_disks; i++) {
        const struct migr_move_disk *d = &plan->disks[i];
        if (virDomainBlockJobAbort(m->dom, d->target,
                                   VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT) < 0) {
            if (virGetLastErrorCode() == VIR_ERR_BLOCK_COPY_ACTIVE
                && !m->out->n_pivoted) {
                *retry = true;
                return MIGR_BLOCKCOPY_MOVED;
            }
            return fail_virt(m, xasprintf("disk %s: the pivot to %s failed",
                                          d->target, d->dest));
        }
        m->out->n_pivoted++;
        char *error = check_pivoted(m, i);
        if (error) {
            return fail(m, MIGR_BLOCKCOPY_FAILED, error);
        }
    }
    return MIGR_BLOCKCOPY_MOVED;
}

/* Copies until every disk is ready, then pivots. */
static enum migr_blockcopy_result
run_copies(struct move *m)
{
    int tries = 0;
    for (;;) {
        if (m->rq->stop && *m->rq->stop) {
            return fail(m, MIGR_BLOCKCOPY_FAILED, xstrdup("interrupted"));
        }
        enum migr_blockcopy_result r = poll_copies(m);
        if (r != MIGR_BLOCKCOPY_MOVED) {
            return r;
        }
        report(m);
        if (m->n_ready == m->out->plan.n_disks) {
            bool retry;
            r = pivot(m, &retry);
            if (r != MIGR_BLOCKCOPY_MOVED || !retry) {
                return r;
            }
            if (++tries >= PIVOT_TRIES) {
                return fail_virt(m, xasprintf(
                                     "disk %s: not ready to pivot after %d "
                                     "tries", m->out->plan.disks[0].target,
                                     tries));
            }
        }
        xnanosleep(POLL_MS * 1000 * 1000);
    }
}

static void
add_cleanup_error(struct move *m, char *error)
{
    char *old = m->out->cleanup_error;
    m->out->cleanup_error = old ? xasprintf("%s; %s", old, error) : error;
    if (old) {
        free(old);
        free(error);
    }
}

/* Aborts the copies that have not pivoted, without pivot, and removes the
 * files they made. */
static void
roll_back(struct move *m)
{
    const struct migr_moveplan *plan = &m->out->plan;
    bool any = false;
    for (size_t i = m->out->n_pivoted; i < plan->n_disks; i++) {
        if (m->started[i]) {
            any = true;
            /* Synchronous: the copy has ended when it returns.  A copy that
             * failed has no job left to abort. */
            virDomainBlockJobAbort(m->dom, plan->disks[i].target, 0);
        }
    }
    if (!any) {
        return;
    }
    m->out->rolled_back = true;
    if (virStoragePoolRefresh(m->pool, 0) < 0) {
        add_cleanup_error(m, virt_error("could not look for partial copies"));
        return;
    }
    for (size_t i = m->out->n_pivoted; i < plan->n_disks; i++) {
        const char *dest = plan->disks[i].dest;
        virStorageVolPtr vol = (m->started[i]
                                ? virStorageVolLookupByName(
                                    m->pool, migr_moveplan_basename(dest))
                                : NULL);
        if (vol && virStorageVolDelete(vol, 0) < 0) {
            char *what = xasprintf("could not remove the partial copy %s",
                                   dest);
            add_cleanup_error(m, virt_error(what));
            free(what);
        }
        if (vol) {
            virStorageVolFree(vol);
        }
    }
}

static void
close_move(struct move *m)
{
    if (m->pool) {
        if (m->own_pool) {
            virStoragePoolDestroy(m->pool);
        }
        virStoragePoolFree(m->pool);
    }
    if (m->dom) {
        virDomainFree(m->dom);
    }
    if (m->conn) {
        virConnectClose(m->conn);
    }
    free(m->started);
    free(m->cur);
    free(m->end);
}

/* Moves the disks of VM 'rq->vm' into 'rq->dir' on its host, as the header
 * says.  Fills in '*out', which the caller destroys. */
enum migr_blockcopy_result
migr_blockcopy_move(const struct migr_blockcopy_request *rq,
                    struct migr_blockcopy_outcome *out)
{
    memset(out, 0, sizeof *out);
    svec_init(&out->plan.skipped);
    struct move m = { .rq = rq, .out = out };
    enum migr_blockcopy_result r = open_domain(&m);
    if (r == MIGR_BLOCKCOPY_MOVED) {
        r = open_pool(&m);
    }
    if (r == MIGR_BLOCKCOPY_MOVED) {
        r = check_destination(&m);
    }
    if (r == MIGR_BLOCKCOPY_MOVED) {
        r = start_copies(&m);
        if (r == MIGR_BLOCKCOPY_MOVED) {
            r = run_copies(&m);
        }
        if (r != MIGR_BLOCKCOPY_MOVED) {
            roll_back(&m);
        }
        out->msec = time_msec() - m.started_at;
    }
    close_move(&m);
    return r;
}

void
migr_blockcopy_outcome_destroy(struct migr_blockcopy_outcome *out)
{
    migr_moveplan_destroy(&out->plan);
    free(out->error);
    free(out->cleanup_error);
}
