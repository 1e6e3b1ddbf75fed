#include <config.h>

#include "migrator/moveplan.h"

#include <stdlib.h>
#include <string.h>

#include "migrator/xml.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Checks that 'dir' is an absolute path and puts it in '*normalized'
 * without repeated slashes, "." and ".." components (resolved as text) or
 * a trailing slash.  Returns NULL, or why not (then '*normalized' is
 * NULL). */
char *
migr_moveplan_dir(const char *dir, char **normalized)
{
    *normalized = NULL;
    if (dir[0] != '/') {
        return xasprintf("--to %s: give an absolute path (the directory on "
                         "the VM's host)", dir);
    }
    struct svec parts = SVEC_EMPTY_INITIALIZER;
    char *copy = xstrdup(dir), *save = NULL;
    for (char *p = strtok_r(copy, "/", &save); p;
         p = strtok_r(NULL, "/", &save)) {
        if (!strcmp(p, "..")) {
            if (parts.n) {
                free(parts.names[--parts.n]);
            }
        } else if (strcmp(p, ".")) {
            svec_add(&parts, p);
        }
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < parts.n; i++) {
        ds_put_format(&s, "/%s", parts.names[i]);
    }
    if (!s.length) {
        ds_put_char(&s, '/');
    }
    svec_destroy(&parts);
    free(copy);
    *normalized = ds_steal_cstr(&s);
    return NULL;
}

/* The last component of 'path'. */
const char *
migr_moveplan_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* 'dir' joined with 'name'. */
static char *
join(const char *dir, const char *name)
{
    return xasprintf("%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
}

/* Calls 'cb' for each <disk> of the domain in 'doc' until it returns
 * false. */
static void
for_each_disk(xmlDoc *doc, bool (*cb)(xmlNode *disk, void *aux), void *aux)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *devices = (root && !strcmp((const char *) root->name, "domain")
                        ? migr_xml_child(root, "devices") : NULL);
    for (xmlNode *d = devices ? devices->children : NULL; d; d = d->next) {
        if (d->type == XML_ELEMENT_NODE
            && !strcmp((const char *) d->name, "disk") && !cb(d, aux)) {
            return;
        }
    }
}

/* Why 'disk' stays where it is, or NULL if it is a local file disk that
 * can be copied. */
static const char *
why_not(const xmlNode *disk, const char *type, const char *device,
        const char *file)
{
    if (device && strcmp(device, "disk")) {
        return (!strcmp(device, "cdrom") ? "a cdrom"
                : !strcmp(device, "floppy") ? "a floppy"
                : "not a disk");
    }
    if (!type || strcmp(type, "file")) {
        return (!type ? "no type"
                : !strcmp(type, "network") ? "a network disk"
                : !strcmp(type, "block") ? "a block device"
                : !strcmp(type, "volume") ? "a storage pool's volume"
                : "not a file");
    }
    if (migr_xml_child(disk, "readonly")) {
        return "read-only";
    }
    if (migr_xml_child(disk, "shareable")) {
        return "shareable: other VMs may use it";
    }
    if (!file || !file[0]) {
        return "empty";
    }
    return NULL;
}

struct build {
    const char *dir;
    struct migr_moveplan *plan;
    char *error;
};

static bool
add_disk(xmlNode *disk, void *b_)
{
    struct build *b = b_;
    char *type = migr_xml_attr(disk, "type");
    char *device = migr_xml_attr(disk, "device");
    char *file = migr_xml_attr(migr_xml_child(disk, "source"), "file");
    char *target = migr_xml_attr(migr_xml_child(disk, "target"), "dev");
    const char *name = target ? target : "?";
    const char *why = why_not(disk, type, device, file);

    if (!why && migr_xml_child(disk, "mirror")) {
        b->error = xasprintf("disk %s has a block job running already "
                             "(virsh blockjob shows it)", name);
    } else if (why) {
        svec_add_nocopy(&b->plan->skipped, xasprintf("%s (%s)", name, why));
    } else {
        char *dir = NULL;
        char *parent = xmemdup0(file, migr_moveplan_basename(file) - file);
        free(migr_moveplan_dir(parent[0] ? parent : "/", &dir));
        free(parent);
        if (dir && !strcmp(dir, b->dir)) {
            svec_add_nocopy(&b->plan->skipped,
                            xasprintf("%s (in %s already)", name, b->dir));
        } else {
            struct migr_moveplan *p = b->plan;
            p->disks = xrealloc(p->disks, (p->n_disks + 1) * sizeof *p->disks);
            p->disks[p->n_disks++] = (struct migr_move_disk) {
                .target = xstrdup(name),
                .source = xstrdup(file),
                .format = migr_xml_attr(migr_xml_child(disk, "driver"),
                                        "type"),
                .dest = join(b->dir, migr_moveplan_basename(file)),
            };
        }
        free(dir);
    }
    free(type);
    free(device);
    free(file);
    free(target);
    return !b->error;
}

/* Two disks of the same file name cannot both go to 'plan->dir'. */
static char *
check_names(const struct migr_moveplan *plan)
{
    for (size_t i = 0; i < plan->n_disks; i++) {
        for (size_t j = i + 1; j < plan->n_disks; j++) {
            if (!strcmp(plan->disks[i].dest, plan->disks[j].dest)) {
                return xasprintf("disks %s (%s) and %s (%s) would both be "
                                 "%s", plan->disks[i].target,
                                 plan->disks[i].source, plan->disks[j].target,
                                 plan->disks[j].source, plan->disks[i].dest);
            }
        }
    }
    return NULL;
}

/* Makes '*plan' for moving the disks of the domain described by
 * 'domain_xml' (libvirt's XML of the running domain) into directory 'dir'
 * (absolute).  Returns NULL, or why no move can be made.  Destroy '*plan'
 * either way. */
char *
migr_moveplan_build(const char *domain_xml, const char *dir,
                    struct migr_moveplan *plan)
{
    memset(plan, 0, sizeof *plan);
    svec_init(&plan->skipped);
    char *error = migr_moveplan_dir(dir, &plan->dir);
    if (error) {
        return error;
    }
    xmlDoc *doc = migr_xml_parse(domain_xml);
    if (!doc) {
        return xstrdup("libvirt's description of the domain is not XML");
    }
    struct build b = { .dir = plan->dir, .plan = plan };
    for_each_disk(doc, add_disk, &b);
    xmlFreeDoc(doc);
    error = b.error ? b.error : check_names(plan);
    if (!error && !plan->n_disks && !plan->skipped.n) {
        error = xstrdup("the VM has no disk");
    } else if (!error && !plan->n_disks) {
        char *list = svec_join(&plan->skipped, ", ", "");
        error = xasprintf("no disk to move to %s: %s", plan->dir, list);
        free(list);
    }
    return error;
}

void
migr_moveplan_destroy(struct migr_moveplan *plan)
{
    for (size_t i = 0; i < plan->n_disks; i++) {
        free(plan->disks[i].target);
        free(plan->disks[i].source);
        free(plan->disks[i].format);
        free(plan->disks[i].dest);
    }
    free(plan->disks);
    plan->disks = NULL;
    plan->n_disks = 0;
    free(plan->dir);
    plan->dir = NULL;
    svec_destroy(&plan->skipped);
}

/* 'doc' as text, without the XML declaration; frees 'doc'. */
static char *
dump(xmlDoc *doc)
{
    xmlBuffer *buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, xmlDocGetRootElement(doc), 0, 0);
    char *xml = xstrdup((const char *) xmlBufferContent(buf));
    xmlBufferFree(buf);
    xmlFreeDoc(doc);
    return xml;
}

/* The destination of 'disk' as virDomainBlockCopy takes it: a file, in the
 * format of the source when the source names one. */
char *
migr_moveplan_dest_xml(const struct migr_move_disk *disk)
{
    xmlDoc *doc = xmlNewDoc((const xmlChar *) "1.0");
    xmlNode *root = xmlNewNode(NULL, (const xmlChar *) "disk");
    xmlDocSetRootElement(doc, root);
    xmlNewProp(root, (const xmlChar *) "type", (const xmlChar *) "file");
    xmlNode *source = xmlNewChild(root, NULL, (const xmlChar *) "source",
                                  NULL);
    xmlNewProp(source, (const xmlChar *) "file",
               (const xmlChar *) disk->dest);
    if (disk->format) {
        xmlNode *driver = xmlNewChild(root, NULL, (const xmlChar *) "driver",
                                      NULL);
        xmlNewProp(driver, (const xmlChar *) "type",
                   (const xmlChar *) disk->format);
    }
    return dump(doc);
}

/* A libvirt storage pool of type "dir" called 'name' on directory 'dir':
 * how the move looks into the destination directory on the VM's host. */
char *
migr_moveplan_pool_xml(const char *name, const char *dir)
{
    xmlDoc *doc = xmlNewDoc((const xmlChar *) "1.0");
    xmlNode *root = xmlNewNode(NULL, (const xmlChar *) "pool");
    xmlDocSetRootElement(doc, root);
    xmlNewProp(root, (const xmlChar *) "type", (const xmlChar *) "dir");
    xmlNewTextChild(root, NULL, (const xmlChar *) "name",
                    (const xmlChar *) name);
    xmlNode *target = xmlNewChild(root, NULL, (const xmlChar *) "target",
                                  NULL);
    xmlNewTextChild(target, NULL, (const xmlChar *) "path",
                    (const xmlChar *) dir);
    return dump(doc);
}

/* Why 'available' bytes free in 'dir' are not enough for copies that take
 * 'needed' bytes, or NULL if they are. */
char *
migr_moveplan_space(const char *dir, uint64_t available, uint64_t needed)
{
    if (available >= needed) {
        return NULL;
    }
    return xasprintf("not enough space in %s: %.1f MB free, the disks take "
                     "%.1f MB", dir, available / 1e6, needed / 1e6);
}

/* A warning when 'dir', with 'available' bytes free before the copies of
 * disks that take 'allocated' bytes, cannot hold them once the guest has
 * filled them to their virtual size, 'capacity' bytes: it would then pause
 * on a write error.  NULL if it can. */
char *
migr_moveplan_headroom(const char *dir, uint64_t available,
                       uint64_t allocated, uint64_t capacity)
{
    if (available >= capacity) {
        return NULL;
    }
    return xasprintf("%s keeps %.1f MB free after the copies, less than the "
                     "%.1f MB the disks may still grow by: the VM pauses "
                     "should it fill them", dir,
                     available > allocated ? (available - allocated) / 1e6 : 0,
                     capacity > allocated ? (capacity - allocated) / 1e6 : 0);
}

struct source_of {
    const char *target;
    char *file;
};

static bool
find_source(xmlNode *disk, void *s_)
{
    struct source_of *s = s_;
    char *target = migr_xml_attr(migr_xml_child(disk, "target"), "dev");
    bool found = target && !strcmp(target, s->target);
    free(target);
    if (found) {
        s->file = migr_xml_attr(migr_xml_child(disk, "source"), "file");
    }
    return !found;
}

/* The file that disk 'target' of the domain described by 'domain_xml' runs
 * on, or NULL if it has none. */
char *
migr_moveplan_source_of(const char *domain_xml, const char *target)
{
    xmlDoc *doc = migr_xml_parse(domain_xml);
    struct source_of s = { .target = target };
    if (doc) {
        for_each_disk(doc, find_source, &s);
        xmlFreeDoc(doc);
    }
    return s.file;
}
