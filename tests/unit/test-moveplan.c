/* Unit tests of the storage move's plan (migrator/moveplan.c): the
 * destination directory, which disks move and which stay (and why), the
 * refusals, and the XML that libvirt is given. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "migrator/moveplan.h"
#include "util.h"

/* A domain with one disk of every kind: only vda and vdb are local file
 * disks that can be copied. */
static const char domain[] =
    "<domain type='qemu'><name>a3</name><devices>"
    "<emulator>/usr/bin/qemu-system-x86_64</emulator>"
    "<disk type='file' device='disk'>"
    "  <driver name='qemu' type='qcow2' cache='none'/>"
    "  <source file='/var/lib/libvirt/images/a3.qcow2' index='1'/>"
    "  <backingStore/><target dev='vda' bus='virtio'/></disk>"
    "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
    "  <source file='/data/a3-data.img'/><target dev='vdb' bus='virtio'/>"
    "</disk>"
    "<disk type='file' device='cdrom'><source file='/iso/debian.iso'/>"
    "  <target dev='hdc' bus='ide'/><readonly/></disk>"
    "<disk type='network' device='disk'><source protocol='nbd' name='x'>"
    "  <host name='10.0.0.1' port='10809'/></source>"
    "  <target dev='vdc' bus='virtio'/></disk>"
    "<disk type='block' device='disk'><source dev='/dev/sdb'/>"
    "  <target dev='vdd' bus='virtio'/></disk>"
    "<disk type='file' device='disk'><source file='/data/ro.img'/>"
    "  <target dev='vde' bus='virtio'/><readonly/></disk>"
    "<disk type='file' device='disk'><source file='/data/cluster.img'/>"
    "  <target dev='vdf' bus='virtio'/><shareable/></disk>"
    "<disk type='file' device='floppy'><target dev='fda'/></disk>"
    "<disk type='volume' device='disk'><source pool='p' volume='v'/>"
    "  <target dev='vdg' bus='virtio'/></disk>"
    "<disk type='file' device='cdrom'><target dev='hdd' bus='ide'/>"
    "  <readonly/></disk>"
    "<interface type='bridge'><source bridge='br-int'/></interface>"
    "</devices></domain>";

static void
assert_dir(const char *in, const char *want)
{
    char *out;
    char *error = migr_moveplan_dir(in, &out);
    assert_null(error);
    assert_string_equal(out, want);
    free(out);
}

static void
test_dir_is_absolute_and_normalized(void **state OVS_UNUSED)
{
    assert_dir("/srv/vm", "/srv/vm");
    assert_dir("/srv//vm/", "/srv/vm");
    assert_dir("/srv/./vm/.", "/srv/vm");
    assert_dir("/srv/old/../vm", "/srv/vm");
    assert_dir("/", "/");
    assert_dir("/..", "/");

    char *out = (char *) 1;
    char *error = migr_moveplan_dir("images/new", &out);
    assert_non_null(error);
    assert_null(out);
    assert_non_null(strstr(error, "images/new: give an absolute path"));
    free(error);
}

/* The skipped disk whose line starts with 'target'. */
static const char *
skipped(const struct migr_moveplan *plan, const char *target)
{
    for (size_t i = 0; i < plan->skipped.n; i++) {
        const char *s = plan->skipped.names[i];
        if (!strncmp(s, target, strlen(target)) && s[strlen(target)] == ' ') {
            return s;
        }
    }
    return NULL;
}

static void
test_only_local_file_disks_move(void **state OVS_UNUSED)
{
    struct migr_moveplan plan;
    assert_null(migr_moveplan_build(domain, "/srv/moved/", &plan));
    assert_string_equal(plan.dir, "/srv/moved");
    assert_int_equal(plan.n_disks, 2);

    assert_string_equal(plan.disks[0].target, "vda");
    assert_string_equal(plan.disks[0].source,
                        "/var/lib/libvirt/images/a3.qcow2");
    assert_string_equal(plan.disks[0].format, "qcow2");
    assert_string_equal(plan.disks[0].dest, "/srv/moved/a3.qcow2");
    assert_string_equal(plan.disks[1].target, "vdb");
    assert_string_equal(plan.disks[1].format, "raw");
    assert_string_equal(plan.disks[1].dest, "/srv/moved/a3-data.img");

    assert_int_equal(plan.skipped.n, 8);
    assert_string_equal(skipped(&plan, "hdc"), "hdc (a cdrom)");
    assert_string_equal(skipped(&plan, "vdc"), "vdc (a network disk)");
    assert_string_equal(skipped(&plan, "vdd"), "vdd (a block device)");
    assert_string_equal(skipped(&plan, "vde"), "vde (read-only)");
    assert_string_equal(skipped(&plan, "vdf"),
                        "vdf (shareable: other VMs may use it)");
    assert_string_equal(skipped(&plan, "fda"), "fda (a floppy)");
    assert_string_equal(skipped(&plan, "vdg"),
                        "vdg (a storage pool's volume)");
    assert_string_equal(skipped(&plan, "hdd"), "hdd (a cdrom)");
    migr_moveplan_destroy(&plan);
}

static void
test_disk_in_the_directory_stays(void **state OVS_UNUSED)
{
    struct migr_moveplan plan;
    assert_null(migr_moveplan_build(domain, "/data", &plan));
    assert_int_equal(plan.n_disks, 1);
    assert_string_equal(plan.disks[0].target, "vda");
    assert_string_equal(plan.disks[0].dest, "/data/a3.qcow2");
    assert_string_equal(skipped(&plan, "vdb"), "vdb (in /data already)");
    migr_moveplan_destroy(&plan);
}

static const char one_disk[] =
    "<domain><devices><disk type='file' device='disk'>"
    "<driver name='qemu' type='qcow2'/>"
    "<source file='/var/lib/libvirt/images/a3.qcow2'/>"
    "<target dev='vda'/></disk></devices></domain>";

static void
test_same_location_is_refused(void **state OVS_UNUSED)
{
    struct migr_moveplan plan;
    char *error = migr_moveplan_build(one_disk,
                                      "/var/lib/libvirt//images/", &plan);
    assert_non_null(error);
    assert_string_equal(error, "no disk to move to /var/lib/libvirt/images: "
                        "vda (in /var/lib/libvirt/images already)");
    free(error);
    migr_moveplan_destroy(&plan);
}

static void
test_two_disks_one_file_is_refused(void **state OVS_UNUSED)
{
    static const char xml[] =
        "<domain><devices>"
        "<disk type='file'><source file='/a/disk.qcow2'/>"
        "<target dev='vda'/></disk>"
        "<disk type='file'><source file='/b/disk.qcow2'/>"
        "<target dev='vdb'/></disk></devices></domain>";
    struct migr_moveplan plan;
    char *error = migr_moveplan_build(xml, "/c", &plan);
    assert_non_null(error);
    assert_string_equal(error, "disks vda (/a/disk.qcow2) and vdb "
                        "(/b/disk.qcow2) would both be /c/disk.qcow2");
    free(error);
    migr_moveplan_destroy(&plan);
}

static void
test_running_block_job_is_refused(void **state OVS_UNUSED)
{
    static const char xml[] =
        "<domain><devices><disk type='file' device='disk'>"
        "<source file='/a/x.qcow2'/>"
        "<mirror type='file' file='/b/x.qcow2' job='copy'/>"
        "<target dev='vda'/></disk></devices></domain>";
    struct migr_moveplan plan;
    char *error = migr_moveplan_build(xml, "/c", &plan);
    assert_non_null(error);
    assert_non_null(strstr(error, "disk vda has a block job running"));
    free(error);
    migr_moveplan_destroy(&plan);
}

static void
test_nothing_to_move(void **state OVS_UNUSED)
{
    struct migr_moveplan plan;
    char *error = migr_moveplan_build("<domain><devices/></domain>", "/c",
                                      &plan);
    assert_string_equal(error, "the VM has no disk");
    free(error);
    migr_moveplan_destroy(&plan);

    error = migr_moveplan_build(
        "<domain><devices><disk type='network'><target dev='vda'/></disk>"
        "</devices></domain>", "/c", &plan);
    assert_string_equal(error, "no disk to move to /c: vda (a network disk)");
    free(error);
    migr_moveplan_destroy(&plan);

    error = migr_moveplan_build("<domain", "/c", &plan);
    assert_non_null(strstr(error, "not XML"));
    free(error);
    migr_moveplan_destroy(&plan);

    error = migr_moveplan_build(one_disk, "c", &plan);
    assert_non_null(strstr(error, "give an absolute path"));
    free(error);
    migr_moveplan_destroy(&plan);
}

static void
test_destination_xml(void **state OVS_UNUSED)
{
    struct migr_move_disk d = {
        .target = "vda", .source = "/a/x.qcow2", .format = "qcow2",
        .dest = "/srv/R&D's/x.qcow2",
    };
    char *xml = migr_moveplan_dest_xml(&d);
    assert_string_equal(xml, "<disk type=\"file\"><source file=\"/srv/R&amp;"
                        "D's/x.qcow2\"/><driver type=\"qcow2\"/></disk>");
    /* What libvirt reads back is the path itself. */
    xml[strlen(xml) - strlen("</disk>")] = '\0';
    char *domain_xml = xasprintf("<domain><devices>%s<target dev='vda'/>"
                                 "</disk></devices></domain>", xml);
    free(xml);
    char *file = migr_moveplan_source_of(domain_xml, "vda");
    assert_string_equal(file, d.dest);
    free(file);
    free(domain_xml);

    d.format = NULL;
    xml = migr_moveplan_dest_xml(&d);
    assert_null(strstr(xml, "driver"));
    free(xml);

    xml = migr_moveplan_pool_xml("vmroam-storage-move-1", "/srv/<new>");
    assert_string_equal(xml, "<pool type=\"dir\"><name>vmroam-storage-move-1"
                        "</name><target><path>/srv/&lt;new&gt;</path>"
                        "</target></pool>");
    free(xml);
}

static void
test_source_of(void **state OVS_UNUSED)
{
    char *file = migr_moveplan_source_of(domain, "vdb");
    assert_string_equal(file, "/data/a3-data.img");
    free(file);
    assert_null(migr_moveplan_source_of(domain, "vdz"));
    assert_null(migr_moveplan_source_of(domain, "hdd"));
    assert_null(migr_moveplan_source_of("not xml", "vda"));
}

static void
test_space(void **state OVS_UNUSED)
{
    assert_null(migr_moveplan_space("/srv", 2000000, 2000000));
    char *error = migr_moveplan_space("/srv", 500000, 5400000);
    assert_string_equal(error, "not enough space in /srv: 0.5 MB free, the "
                        "disks take 5.4 MB");
    free(error);
}

static void
test_headroom(void **state OVS_UNUSED)
{
    assert_null(migr_moveplan_headroom("/srv", 64000000, 1000000, 64000000));
    char *warning = migr_moveplan_headroom("/srv", 5000000, 1000000,
                                           64000000);
    assert_string_equal(warning, "/srv keeps 4.0 MB free after the copies, "
                        "less than the 63.0 MB the disks may still grow by: "
                        "the VM pauses should it fill them");
    free(warning);
}

static void
test_basename(void **state OVS_UNUSED)
{
    assert_string_equal(migr_moveplan_basename("/a/b/c.qcow2"), "c.qcow2");
    assert_string_equal(migr_moveplan_basename("c.qcow2"), "c.qcow2");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dir_is_absolute_and_normalized),
        cmocka_unit_test(test_only_local_file_disks_move),
        cmocka_unit_test(test_disk_in_the_directory_stays),
        cmocka_unit_test(test_same_location_is_refused),
        cmocka_unit_test(test_two_disks_one_file_is_refused),
        cmocka_unit_test(test_running_block_job_is_refused),
        cmocka_unit_test(test_nothing_to_move),
        cmocka_unit_test(test_destination_xml),
        cmocka_unit_test(test_source_of),
        cmocka_unit_test(test_space),
        cmocka_unit_test(test_headroom),
        cmocka_unit_test(test_basename),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
