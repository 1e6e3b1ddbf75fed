/* vmroamd: the per-host agent.
 *
 * Watches the vmroam database (policy) and the local Open vSwitch database
 * (br-int and its VM interfaces) through their IDLs, and keeps br-int's
 * flows equal to the pipeline's translation of the policy over the
 * persistent OpenFlow connection.  Reports its chassis, its bound VMs and
 * the generation its flows reflect back into the vmroam database. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "command-line.h"
#include "daemon.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "hash.h"
#include "ipam/host.h"
#include "ipam/underlay.h"
#include "ipam/leases.h"
#include "migrator/channel.h"
#include "migrator/executor.h"
#include "migrator/inventory.h"
#include "migrator/pki.h"
#include "migrator/network.h"
#include "migrator/libvirt.h"
#include "migrator/row.h"
#include "migrator/sockets.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "overlay/bridge.h"
#include "overlay/chassis.h"
#include "overlay/desired.h"
#include "overlay/inputs.h"
#include "overlay/monitor.h"
#include "overlay/flow.h"
#include "overlay/ofctrl.h"
#include "overlay/pipeline.h"
#include "overlay/portq.h"
#include "overlay/routectl.h"
#include "ovsdb-idl.h"
#include "policy/db.h"
#include "policy/policy.h"
#include "policy/vmroam-idl.h"
#include "smap.h"
#include "simap.h"
#include "sset.h"
#include "svec.h"
#include "stream-ssl.h"
#include "timeval.h"
#include "vmroam-version.h"
#include "unixctl.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(vmroamd);

/* Where libvirt keeps VM disks unless told otherwise. */
#define IMAGES_DIR_DEFAULT "/var/lib/libvirt/images"

/* How often the agent weighs its host and VMs for placement. */
#define SIZE_SCAN_MS 10000


struct config {
    char *chassis;
    const char *certificate;    /* --certificate, or NULL. */
    char *db;
    char *ovs_db;
    char *ofctl_target;
    char *switch_ctl;           /* ovs-vswitchd's control socket, or NULL. */
    char *pa;                   /* Static PA, or NULL to take it from IPAM. */
    char *underlay_dev;
    char *uplink;
    char *unixctl_path;
    char *libvirt;              /* Local hypervisor, or NULL for none. */
    char *libvirt_peer_uri;     /* How peers' libvirtd reach it. */
    char *migration_ports;      /* "MIN-MAX" its hypervisor receives on. */
    char *migration_listen;     /* Channel listener, "pssl:PORT[:ADDR]". */
    int migration_port;         /* Its port. */
    struct svec migration_networks;     /* Where it may listen, in order of
                                         * preference; empty: anywhere. */
    char *migration_socket_dir; /* Where the channel's QEMU sockets go. */
    const char *images_dir;     /* Where incoming VMs' disks go. */
    enum migr_compress_mode compression;    /* Unless a migration says. */
    int max_downtime_ms;        /* Unless a migration says otherwise. */
    bool monitor_all;           /* Replicate every lookup record. */
    struct overlay_bridge_cfg bridge;
};

/* Everything the agent knows and has computed. */
struct agent {
    struct config cfg;
    struct ovsdb_idl_loop vmroam;
    struct ovsdb_idl_index *records;    /* vmroam's lookup records by VM. */
    struct ovsdb_idl_loop ovs;
    struct overlay_ofctrl *ofctrl;
    struct overlay_routectl *routectl;  /* The switch's tunnel routes. */
    struct ipam_host *host;     /* Netlink: PA and underlay link. */
    struct migr_backend *hypervisor;    /* NULL without --libvirt. */
    struct migr_executor *migrations;
    struct migr_channel *channel;       /* NULL without a certificate. */
    char *channel_bound;        /* Its address in a migration network. */
    bool channel_looked;        /* For it, at host change 'channel_seqno'. */
    unsigned int channel_seqno;
    long long int next_vm_scan;
    long long int next_size_scan;
    long long int redirects_expire;     /* LLONG_MAX if none. */
    struct ipam_underlay *underlay;     /* The PA in force. */

    unsigned int vmroam_seqno, ovs_seqno;
    char *switch_inputs;        /* switch_inputs() of the last full
                                 * translation. */
    struct overlay_vm_nic *vm_nics;     /* Bound by the last full */
    size_t n_vm_nics;           /* translation, not yet in the VM table. */
    unsigned int structure_seqno;   /* policy_db_structure_seqno(). */
    bool recompute;
    unsigned int n_full, n_incremental;     /* Translations made. */

    /* The last full translation's policy, without its lookup records:
     * only that translation reads them, and changes to them since are
     * applied to 'desired' alone.  Kept are how many there were, and the
     * inputs and routing domains of it that record changes need. */
    struct policy policy;
    size_t n_records;
    struct overlay_inputs inputs;
    struct sset local_rds;
    struct overlay_desired desired;
    unsigned int cond_seqno;    /* At which the replica holds what the
                                 * conditions of monitor() ask for. */
    struct smap held;           /* VMs whose packets the switch sends to
                                 * their destination around the guest's
                                 * last pause: name -> destination PA. */
    uint64_t held_req;          /* The request that last changed them. */
    long long int held_at;      /* When the switch acknowledged it (wall
                                 * clock, ms), or 0 if not yet. */
    struct sset bound;          /* Interfaces bound in it. */
    struct smap incoming_ports; /* Those of VMs migrating here -> VM. */
    struct smap deepened;       /* Those of them whose queue was made to
                                 * hold OVERLAY_PORTQ_LEN packets -> VM. */
    struct simap held_dropped;  /* VMs arrived here -> how many packets
                                 * their port dropped while it held them,
                                 * not yet written to their migration. */
    long long int portq_retry;  /* When to try again to deepen the queue of
                                 * one of them (msec), or 0. */
    struct smap incoming_macs;  /* VMs migrating here whose ports are bound
                                 * in it: overlay_announce_key() -> VM
                                 * name. */
    uint64_t req;               /* Its number, for overlay_ofctrl_put(). */
    int64_t req_generation;     /* Policy generation it reflects. */

    struct sset installed;      /* Interfaces whose flows are in. */
    struct sset announced;      /* Incoming VMs heard from, not yet told
                                 * to the executor. */
    struct sset warmed;         /* Active migrations whose tunnels were
                                 * probed, by row UUID. */
    bool warm_due;              /* warm_tunnels() has something to do. */
    int64_t gre_ofport;         /* As of the last translation; <= 0 if
                                 * the GRE port had no OpenFlow port yet. */
    int64_t generation_applied;
    long long int generation_applied_at;    /* Wall clock, ms. */
    long long int next_heartbeat;
    bool exiting;
};

static void
usage(void)
{
    printf("%s: vmroam host agent\n"
"usage: %s [OPTIONS]\n"
"\n"
"  --chassis NAME         this host's name in the policy (default: hostname)\n"
"  --db REMOTE            vmroam database (default unix:/run/vmroam/db.sock)\n"
"  --private-key FILE, --certificate FILE, --ca-cert FILE\n"
"                         this host's key and certificate (CN = chassis\n"
"                         name), for an ssl: database and the migration\n"
"                         channel (or $VMROAM_SSL_KEY, _CERT, _CA)\n"
"  --migration-listen PORT[:ADDR]  receive migrations through the channel\n"
"                         there (mutual TLS); with a certificate, outgoing\n"
"                         migrations always go through peers' channels\n"
"  --migration-socket-dir DIR  QEMU's channel sockets (default %s)\n"
"  --migration-network NET[,NET...]  listen on this host's address in\n"
"                         the first of these networks it has one in\n"
"  --compression MODE     auto (default: lz4 while lz4 keeps up with\n"
"                         the link), lz4 or none, unless a migration says\n"
"  --ovs-db REMOTE        local Open vSwitch database\n"
"                         (default unix:%s/db.sock)\n"
"  --ofctl TARGET         OpenFlow target of br-int\n"
"                         (default unix:DIR/BRIDGE.mgmt, DIR of --ovs-db)\n"
"  --pa ADDRESS           a static provider address (GRE local_ip); without\n"
"                         it, the PA is this chassis's IPAM lease, which\n"
"                         vmroamd puts on the underlay device itself\n"
"  --underlay-dev DEV     device holding the PA (default br-phy)\n"
"  --switch-ctl SOCKET    ovs-vswitchd's control socket, to give it the\n"
"                         routes of a leased PA (default: the one its\n"
"                         pidfile names, in DIR of --ovs-db)\n"
"  --uplink DEV           physical port whose carrier is the underlay link\n"
"                         (default: the underlay device)\n"
"  --bridge NAME          integration bridge (default br-int)\n"
"  --datapath-type TYPE   netdev (default), system, or dummy (for tests\n"
"                         with ovs-vswitchd --enable-dummy)\n"
"  --unixctl SOCKET       control socket for ovs-appctl -t\n"
"  --libvirt URI          the local libvirtd (enables migrations)\n"
"  --libvirt-peer-uri URI how other hosts' libvirtd reach it (default:\n"
"                         the --libvirt URI)\n"
"  --migration-ports MIN-MAX  the ports libvirt receives migrations on\n"
"                         (qemu.conf migration_port_min/max, default\n"
"                         " MIGR_PORTS_DEFAULT "): sources cut their\n"
"                         connections to them when aborting\n"
"  --max-downtime MS      the pause migrations from here aim at, unless\n"
"                         one says otherwise (default %d)\n"
"  --images-dir DIR       where incoming VMs' disks go, whose free space\n"
"                         placement weighs (default %s)\n"
"  --monitor-all          replicate every lookup record, not only those\n"
"                         of the routing domains with a VM here\n",
           program_name, program_name, MIGR_SOCKET_DIR_DEFAULT, ovs_rundir(),
           MIGR_MAX_DOWNTIME_DEFAULT, IMAGES_DIR_DEFAULT);
    daemon_usage();
    vlog_usage();
    printf("  -h, --help             display this help message\n");
    printf("  -V, --version          display the version\n");
    exit(EXIT_SUCCESS);
}

/* The directory of the local switch's sockets: that of the database
 * socket given, or OVS's run directory. */
static char *
switch_rundir(const char *ovs_db)
{
    if (!strncmp(ovs_db, "unix:", 5)) {
        const char *path = ovs_db + 5;
        const char *slash = strrchr(path, '/');
        if (slash) {
            return xmemdup0(path, slash - path);
        }
    }
    return xstrdup(ovs_rundir());
}

static char *
default_ofctl_target(const char *ovs_db, const char *bridge)
{
    char *dir = switch_rundir(ovs_db);
    char *target = xasprintf("unix:%s/%s.mgmt", dir, bridge);
    free(dir);
    return target;
}

/* The database and the channel know an agent by its certificate's common
 * name: an agent under another name could write none of its rows. */
static void
check_certificate(const struct config *cfg)
{
    const char *cert = (cfg->certificate ? cfg->certificate
                        : getenv("VMROAM_SSL_CERT"));
    char *cn = NULL;
    char *error = cert ? migr_pki_common_name(cert, &cn) : NULL;
    if (error) {
        ovs_fatal(0, "--certificate: %s", error);
    }
    if (cn && strcmp(cn, cfg->chassis)) {
        ovs_fatal(0, "--chassis is %s, but the certificate %s names %s: the "
                  "database and the peers of migrations know this host by "
                  "its certificate's common name; run \"vmroam pki host "
                  "%s\" or give --chassis %s", cfg->chassis, cert, cn,
                  cfg->chassis, cn);
    }
    free(cn);
}

static void
parse_options(int argc, char *argv[], struct config *cfg)
{
    enum {
        OPT_CHASSIS = UCHAR_MAX + 1, OPT_DB, OPT_OVS_DB, OPT_OFCTL, OPT_PA,
        OPT_UNDERLAY_DEV, OPT_UPLINK, OPT_SWITCH_CTL, OPT_BRIDGE, OPT_DATAPATH_TYPE,
        OPT_UNIXCTL, OPT_LIBVIRT, OPT_LIBVIRT_PEER_URI, OPT_MIGRATION_PORTS,
        OPT_MIGRATION_LISTEN, OPT_MIGRATION_SOCKET_DIR, OPT_COMPRESSION,
        OPT_MIGRATION_NETWORK,
        OPT_MAX_DOWNTIME, OPT_IMAGES_DIR, OPT_MONITOR_ALL,
        SSL_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
        VLOG_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"chassis", required_argument, NULL, OPT_CHASSIS},
        {"db", required_argument, NULL, OPT_DB},
        {"ovs-db", required_argument, NULL, OPT_OVS_DB},
        {"ofctl", required_argument, NULL, OPT_OFCTL},
        {"pa", required_argument, NULL, OPT_PA},
        {"underlay-dev", required_argument, NULL, OPT_UNDERLAY_DEV},
        {"switch-ctl", required_argument, NULL, OPT_SWITCH_CTL},
        {"uplink", required_argument, NULL, OPT_UPLINK},
        {"bridge", required_argument, NULL, OPT_BRIDGE},
        {"datapath-type", required_argument, NULL, OPT_DATAPATH_TYPE},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"libvirt", required_argument, NULL, OPT_LIBVIRT},
        {"libvirt-peer-uri", required_argument, NULL, OPT_LIBVIRT_PEER_URI},
        {"migration-ports", required_argument, NULL, OPT_MIGRATION_PORTS},
        {"migration-listen", required_argument, NULL, OPT_MIGRATION_LISTEN},
        {"migration-socket-dir", required_argument, NULL,
         OPT_MIGRATION_SOCKET_DIR},
        {"compression", required_argument, NULL, OPT_COMPRESSION},
        {"migration-network", required_argument, NULL,
         OPT_MIGRATION_NETWORK},
        {"max-downtime", required_argument, NULL, OPT_MAX_DOWNTIME},
        {"images-dir", required_argument, NULL, OPT_IMAGES_DIR},
        {"monitor-all", no_argument, NULL, OPT_MONITOR_ALL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        STREAM_SSL_LONG_OPTIONS,
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);

    cfg->bridge.bridge = "br-int";
    cfg->images_dir = IMAGES_DIR_DEFAULT;
    cfg->max_downtime_ms = MIGR_MAX_DOWNTIME_DEFAULT;
    cfg->bridge.datapath_type = "netdev";
    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }
        if (c == 'c') {
            cfg->certificate = optarg;
        }
        switch (c) {
        STREAM_SSL_OPTION_HANDLERS
        case OPT_CHASSIS: cfg->chassis = xstrdup(optarg); break;
        case OPT_DB: cfg->db = xstrdup(optarg); break;
        case OPT_OVS_DB: cfg->ovs_db = xstrdup(optarg); break;
        case OPT_OFCTL: cfg->ofctl_target = xstrdup(optarg); break;
        case OPT_PA: cfg->pa = xstrdup(optarg); break;
        case OPT_IMAGES_DIR: cfg->images_dir = optarg; break;
        case OPT_MONITOR_ALL: cfg->monitor_all = true; break;
        case OPT_UNDERLAY_DEV: cfg->underlay_dev = xstrdup(optarg); break;
        case OPT_SWITCH_CTL: cfg->switch_ctl = xstrdup(optarg); break;
        case OPT_UPLINK: cfg->uplink = xstrdup(optarg); break;
        case OPT_BRIDGE: cfg->bridge.bridge = optarg; break;
        case OPT_DATAPATH_TYPE:
            if (strcmp(optarg, "netdev") && strcmp(optarg, "system")
                && strcmp(optarg, "dummy")) {
                ovs_fatal(0, "--datapath-type: %s is not netdev, system or "
                          "dummy", optarg);
            }
            cfg->bridge.datapath_type = optarg;
            break;
        case OPT_UNIXCTL: cfg->unixctl_path = xstrdup(optarg); break;
        case OPT_LIBVIRT: cfg->libvirt = xstrdup(optarg); break;
        case OPT_LIBVIRT_PEER_URI:
            cfg->libvirt_peer_uri = xstrdup(optarg);
            break;
        case OPT_MIGRATION_LISTEN:
            if (!ovs_scan(optarg, "%d", &cfg->migration_port)
                || cfg->migration_port <= 0 || cfg->migration_port > 65535) {
                ovs_fatal(0, "--migration-listen: %s is not PORT[:ADDRESS]",
                          optarg);
            }
            cfg->migration_listen = xasprintf("pssl:%s", optarg);
            break;
        case OPT_MIGRATION_NETWORK: {
            char *error = migr_network_parse(optarg,
                                             &cfg->migration_networks);
            if (error) {
                ovs_fatal(0, "--migration-network: %s", error);
            }
            break;
        }
        case OPT_MIGRATION_SOCKET_DIR:
            cfg->migration_socket_dir = xstrdup(optarg);
            break;
        case OPT_COMPRESSION:
            if (!migr_compress_mode_parse(optarg, &cfg->compression)) {
                ovs_fatal(0, "--compression: %s is not auto, lz4 or none",
                          optarg);
            }
            break;
        case OPT_MIGRATION_PORTS: {
            int min, max;
            if (!migr_ports_parse(optarg, &min, &max)) {
                ovs_fatal(0, "--migration-ports: %s is not MIN-MAX, two TCP "
                          "ports with MIN <= MAX", optarg);
            }
            cfg->migration_ports = xstrdup(optarg);
            break;
        }
        case OPT_MAX_DOWNTIME:
            if (!str_to_int(optarg, 10, &cfg->max_downtime_ms)
                || cfg->max_downtime_ms < 1
                || cfg->max_downtime_ms > 600000) {
                ovs_fatal(0, "--max-downtime: %s is not a number of ms from "
                          "1 to 600000", optarg);
            }
            break;
        case 'h':
            usage();
            OVS_NOT_REACHED();
        case 'V':
            printf("vmroamd %s\n", VMROAM_VERSION);
            exit(EXIT_SUCCESS);
        DAEMON_OPTION_HANDLERS
        VLOG_OPTION_HANDLERS
        case '?': exit(EXIT_FAILURE);
        default: OVS_NOT_REACHED();
        }
    }
    free(short_options);
    if (optind < argc) {
        ovs_fatal(0, "unexpected argument \"%s\" (try --help)", argv[optind]);
    }

    if (!cfg->chassis) {
        char name[256];
        if (gethostname(name, sizeof name)) {
            ovs_fatal(errno, "no --chassis given and no hostname");
        }
        name[sizeof name - 1] = '\0';
        cfg->chassis = xstrdup(name);
    }
    if (!cfg->db) {
        cfg->db = policy_db_default_remote(NULL);
    }
    if (!cfg->ovs_db) {
        cfg->ovs_db = xasprintf("unix:%s/db.sock", ovs_rundir());
    }
    if (!cfg->ofctl_target) {
        cfg->ofctl_target = default_ofctl_target(cfg->ovs_db,
                                                 cfg->bridge.bridge);
    }
    if (!cfg->underlay_dev) {
        cfg->underlay_dev = xstrdup("br-phy");
    }
    if (cfg->libvirt && !cfg->libvirt_peer_uri) {
        cfg->libvirt_peer_uri = xstrdup(cfg->libvirt);
    }
    if (cfg->migration_networks.n && (!cfg->migration_listen
                                      || strchr(cfg->migration_listen + 5,
                                                ':'))) {
        ovs_fatal(0, "--migration-network needs --migration-listen PORT, "
                  "without an address: it picks the address");
    }
    if (!cfg->migration_socket_dir) {
        cfg->migration_socket_dir = xstrdup(MIGR_SOCKET_DIR_DEFAULT);
    }
    if (cfg->libvirt && !cfg->migration_ports) {
        cfg->migration_ports = xstrdup(MIGR_PORTS_DEFAULT);
    }
}

static bool
idl_synced(const struct ovsdb_idl_loop *loop)
{
    return ovsdb_idl_has_ever_connected(loop->idl);
}

/* The owner, in the desired flows, of the flows that hold 'vm''s
 * packets: "hold" in the high half keeps it apart from rows' owners,
 * which are the first half of a UUID. */
static uint64_t
hold_owner(const char *vm)
{
    return (uint64_t) 0x686f6c64 << 32 | hash_string(vm, 0);
}

/* Makes the desired flows send the packets for 'vm''s NICs to 'pa' (NULL:
 * no longer). */
static void
hold_vm(struct agent *a, const char *vm, const char *pa)
{
    const struct vmroamrec_lookup_record **records = NULL;
    size_t n = pa ? policy_db_vm_records(a->records, vm, &records) : 0;
    struct overlay_redirect *held = xcalloc(n, sizeof *held);
    for (size_t i = 0; i < n; i++) {
        held[i] = (struct overlay_redirect) {
            records[i]->vsid, records[i]->mac, pa,
        };
    }
    overlay_pipeline_hold(&a->desired, a->gre_ofport, hold_owner(vm), held,
                          n);
    free(held);
    free(records);
}

/* Follows the migrations whose guest makes its last pause here: their
 * packets go to the destination, whose port holds them until the VM runs
 * there (overlay_pipeline_hold()), from just before that pause (the job
 * lets the guest pause once the switch holds them, migrator/pause.h), or
 * from the pause as the hypervisor reports it, until the guest has resumed
 * on one side or the other. */
static void
hold(struct agent *a)
{
    struct smap held = SMAP_INITIALIZER(&held);
    migr_executor_holding(a->migrations, a->vmroam.idl, &held);
    if (!smap_equal(&held, &a->held)) {
        struct smap_node *node;
        SMAP_FOR_EACH (node, &a->held) {
            if (!smap_get(&held, node->key)) {
                hold_vm(a, node->key, NULL);
                VLOG_INFO("%s: no longer held", node->key);
            }
        }
        SMAP_FOR_EACH (node, &held) {
            const char *was = smap_get(&a->held, node->key);
            if (!was || strcmp(was, node->value)) {
                hold_vm(a, node->key, node->value);
                VLOG_INFO("%s: its last pause is near: its packets go to %s",
                          node->key, node->value);
            }
        }
        smap_destroy(&a->held);
        smap_clone(&a->held, &held);
        a->held_req = ++a->req;
        a->held_at = 0;
    }
    smap_destroy(&held);
}

/* How long vmroamd waits before it tries again to deepen a port's
 * queue. */
#define PORTQ_RETRY_MS 500

/* Makes the ports of VMs migrating here ('a->incoming_ports', as of the
 * last full translation) hold what the switch sends them until the VM runs
 * (overlay/portq.h), trying again soon for one that could not be made to,
 * and notes what those whose VM arrived had to drop. */
static void
follow_incoming_ports(struct agent *a)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 10);
    struct smap followed = SMAP_INITIALIZER(&followed);
    const struct smap_node *port;
    a->portq_retry = 0;
    SMAP_FOR_EACH (port, &a->incoming_ports) {
        if (smap_get(&a->deepened, port->key)) {
            smap_add(&followed, port->key, port->value);
            continue;
        }
        char *error = overlay_portq_deepen(port->key);
        if (error) {
            VLOG_WARN_RL(&rl, "%s (trying again)", error);
            free(error);
            a->portq_retry = time_msec() + PORTQ_RETRY_MS;
        } else {
            VLOG_INFO("%s: its queue holds %d packets while its VM is on "
                      "its way", port->key, OVERLAY_PORTQ_LEN);
            smap_add(&followed, port->key, port->value);
        }
    }
    SMAP_FOR_EACH (port, &a->deepened) {
        uint64_t dropped;
        if (!smap_get(&a->incoming_ports, port->key)) {
            char *error = overlay_portq_dropped(port->key, &dropped);
            if (error) {
                free(error);
                continue;
            }
            if (dropped) {
                VLOG_WARN("%s: its queue dropped %"PRIu64" packets while the "
                          "VM was on its way (it holds %d)", port->key,
                          dropped, OVERLAY_PORTQ_LEN);
            }
            simap_put(&a->held_dropped, port->value,
                      MIN(dropped, UINT_MAX));
        }
    }
    smap_destroy(&a->deepened);
    smap_clone(&a->deepened, &followed);
    smap_destroy(&followed);
}

/* What the last full translation read, for a translation of changes (a
 * full one adds the interfaces). */
static struct overlay_input
translation_input(const struct agent *a)
{
    return (struct overlay_input) {
        .policy = &a->policy,
        .chassis = a->cfg.chassis,
        .gre_ofport = a->gre_ofport,
        .redirects = a->inputs.redirects,
        .n_redirects = a->inputs.n_redirects,
        .incoming = &a->inputs.incoming,
        .outgoing = &a->inputs.outgoing,
        .peer_pas = &a->inputs.peer_pas,
    };
}

/* What a translation reads of the switch, as text: a change to the Open
 * vSwitch database that leaves it the same (the agent's own marks on
 * interfaces, a link's state) needs no new translation. */
static char *
switch_inputs(const struct overlay_iface *ifaces, size_t n,
              int64_t gre_ofport)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "%"PRId64, gre_ofport);
    for (size_t i = 0; i < n; i++) {
        const struct overlay_iface *iface = &ifaces[i];
        ds_put_format(&s, ";%s,%"PRId64",%s,%s", iface->name, iface->ofport,
                      iface->vm_id ? iface->vm_id : "",
                      iface->attached_mac ? iface->attached_mac : "");
    }
    return ds_steal_cstr(&s);
}

static bool
switch_inputs_changed(const struct agent *a)
{
    struct overlay_iface *ifaces;
    int64_t gre_ofport;
    size_t n_ifaces = overlay_bridge_ifaces(a->ovs.idl, &a->cfg.bridge,
                                            &ifaces, &gre_ofport);
    char *now = switch_inputs(ifaces, n_ifaces, gre_ofport);
    bool changed = !a->switch_inputs || strcmp(now, a->switch_inputs);
    free(now);
    free(ifaces);
    return changed;
}

/* Recomputes the desired flows from the current contents of both
 * databases. */
/* Records in the VM table the VMs bound by the last full translation, once
 * there is a transaction to do it in: when that translation had none (one
 * was on its way), the next pass that has one. */
static void
report_vms(struct agent *a, struct ovsdb_idl_txn *vtxn)
{
    if (a->vm_nics && vtxn) {
        overlay_chassis_report_vms(a->vmroam.idl, vtxn, a->cfg.chassis,
                                   a->vm_nics, a->n_vm_nics);
        overlay_chassis_vm_nics_destroy(a->vm_nics, a->n_vm_nics);
        a->vm_nics = NULL;
        a->n_vm_nics = 0;
    }
}

static void
translate_all(struct agent *a, struct ovsdb_idl_txn *vtxn)
{
    struct overlay_iface *ifaces;
    int64_t gre_ofport;
    size_t n_ifaces = overlay_bridge_ifaces(a->ovs.idl, &a->cfg.bridge,
                                            &ifaces, &gre_ofport);
    free(a->switch_inputs);
    a->switch_inputs = switch_inputs(ifaces, n_ifaces, gre_ofport);

    policy_destroy(&a->policy);
    policy_db_load(a->vmroam.idl, &a->policy);

    overlay_inputs_destroy(&a->inputs);
    overlay_inputs_gather(a->vmroam.idl, a->records, a->cfg.chassis,
                          time_wall_msec(), &a->inputs);
    a->redirects_expire = a->inputs.redirects_expire;
    a->gre_ofport = gre_ofport;
    struct overlay_input in = translation_input(a);
    in.ifaces = ifaces;
    in.n_ifaces = n_ifaces;
    struct overlay_port *ports;
    size_t n_ports = overlay_pipeline_bind(&in, &ports);

    overlay_pipeline_translate(&in, ports, n_ports, &a->desired,
                               &a->local_rds);
    struct smap_node *held;
    SMAP_FOR_EACH (held, &a->held) {
        hold_vm(a, held->key, held->value);
    }
    sset_clear(&a->bound);
    smap_clear(&a->incoming_macs);
    smap_clear(&a->incoming_ports);
    for (size_t i = 0; i < n_ports; i++) {
        const struct policy_lookup_record *r = ports[i].record;
        sset_add(&a->bound, ports[i].iface->name);
        if (ports[i].incoming) {
            smap_replace_nocopy(&a->incoming_macs,
                                overlay_announce_key(r->vsid, r->mac_e),
                                xstrdup(r->vm));
            smap_replace(&a->incoming_ports, ports[i].iface->name, r->vm);
        }
    }
    follow_incoming_ports(a);
    overlay_chassis_vm_nics_destroy(a->vm_nics, a->n_vm_nics);
    a->n_vm_nics = overlay_chassis_vm_nics(ports, n_ports, &a->vm_nics);
    report_vms(a, vtxn);
    a->n_full++;
    VLOG_DBG("full translation: %"PRIuSIZE" flows, %"PRIuSIZE" ports",
             hmap_count(&a->desired.flows), n_ports);
    free(ports);
    free(ifaces);
    a->n_records = a->policy.n_records;
    policy_clear(&a->policy, POLICY_LOOKUP_RECORDS);
}

/* Whether the VMs migrating to or from here, or the other chassis' PAs,
 * are others than those of the last full translation. */
static bool
inputs_changed(const struct agent *a)
{
    struct sset incoming = SSET_INITIALIZER(&incoming);
    struct sset outgoing = SSET_INITIALIZER(&outgoing);
    struct sset peer_pas = SSET_INITIALIZER(&peer_pas);
    migr_row_moving(a->vmroam.idl, a->cfg.chassis, &incoming, &outgoing);
    overlay_inputs_peer_pas(a->vmroam.idl, a->cfg.chassis, &peer_pas);
    bool changed = (!sset_equals(&incoming, &a->inputs.incoming)
                    || !sset_equals(&outgoing, &a->inputs.outgoing)
                    || !sset_equals(&peer_pas, &a->inputs.peer_pas));
    sset_destroy(&incoming);
    sset_destroy(&outgoing);
    sset_destroy(&peer_pas);
    return changed;
}

/* Whether 'row''s migration marks name this chassis as its source or
 * destination. */
static bool
marks_name_me(const struct agent *a,
              const struct vmroamrec_lookup_record *row)
{
    const char *source = smap_get(&row->moving, "source");
    const char *destination = smap_get(&row->moving, "destination");
    return ((source && !strcmp(source, a->cfg.chassis))
            || (destination && !strcmp(destination, a->cfg.chassis)));
}

/* Applies the lookup records changed since the last translation to the
 * desired flows, record by record.  Returns false if only a full
 * translation can: other policy tables changed, redirects of departed VMs
 * are in force (they are read from records, and point into the IDL), the
 * VMs migrating here or away or the other chassis' PAs changed, too many
 * records did (a database reconnection may resend them all), a record's
 * key changed or its migration marks name this chassis, or
 * overlay_pipeline_update_record() says so.  A record migrating between two other hosts is a remote record
 * like any other here.
 * What it applied before that is replaced by the full translation. */
static bool
translate_changes(struct agent *a)
{
    struct ovsdb_idl *idl = a->vmroam.idl;
    if (policy_db_structure_seqno(idl) != a->structure_seqno
        || a->inputs.n_redirects || inputs_changed(a)) {
        return false;
    }

    const struct vmroamrec_lookup_record *row;
    size_t n = 0;
    VMROAMREC_LOOKUP_RECORD_FOR_EACH_TRACKED (row, idl) {
        if (++n > MAX(100, a->n_records / 4)) {
            return false;
        }
    }

    struct overlay_input in = translation_input(a);
    VMROAMREC_LOOKUP_RECORD_FOR_EACH_TRACKED (row, idl) {
        bool deleted = vmroamrec_lookup_record_is_deleted(row);
        if (!deleted
            && (marks_name_me(a, row)
                || (!vmroamrec_lookup_record_is_new(row)
                    && (vmroamrec_lookup_record_is_updated(
                            row, VMROAMREC_LOOKUP_RECORD_COL_VSID)
                        || vmroamrec_lookup_record_is_updated(
                            row, VMROAMREC_LOOKUP_RECORD_COL_CA))))) {
            return false;
        }

        struct policy_lookup_record r;
        if (!deleted) {
            policy_db_read_record(row, &r);
        }
        bool applied = overlay_pipeline_update_record(
            &in, &a->local_rds, &a->desired, &row->header_.uuid,
            deleted ? NULL : &r);
        if (!deleted) {
            policy_tables[POLICY_LOOKUP_RECORDS].destroy(&r);
        }
        if (!applied) {
            return false;
        }
    }
    a->n_incremental++;
    return true;
}

/* Brings the desired flows up to date, by the changes since the last
 * translation if it can, and numbers the result for the switch. */
static void
translate(struct agent *a, struct ovsdb_idl_txn *vtxn, bool full)
{
    if (full || !translate_changes(a)) {
        translate_all(a, vtxn);
    }
    ovsdb_idl_track_clear(a->vmroam.idl);
    a->structure_seqno = policy_db_structure_seqno(a->vmroam.idl);
    a->req++;
    a->req_generation = policy_db_generation(a->vmroam.idl);
    VLOG_DBG("generation %"PRId64": %"PRIuSIZE" flows", a->req_generation,
             hmap_count(&a->desired.flows));
}

/* Reports what the switch now holds: interfaces installed, VMs bound, the
 * generation applied. */
static void
report(struct agent *a, struct ovsdb_idl_txn *vtxn, struct ovsdb_idl_txn *otxn)
{
    /* A port is installed once its flows are in the switch, tunnels to the
     * other hosts included: before the GRE port has its OpenFlow port, the
     * translation has no tunnel flows yet. */
    bool flows_in = (overlay_ofctrl_acked(a->ofctrl) >= a->req && a->req
                     && a->gre_ofport > 0);
    /* The hold begins when the switch has its flows, not when the agent
     * decides it: a guest that paused before then lost what reached it.
     * The job hears of it even without a transaction to stamp the row. */
    if (!smap_is_empty(&a->held)
        && overlay_ofctrl_acked(a->ofctrl) >= a->held_req) {
        if (!a->held_at) {
            a->held_at = time_wall_msec();
        }
        const struct smap_node *node;
        SMAP_FOR_EACH (node, &a->held) {
            migr_executor_held(a->migrations, a->vmroam.idl, vtxn, node->key,
                               a->held_at);
        }
    }
    if (flows_in) {
        if (!sset_equals(&a->installed, &a->bound)) {
            sset_destroy(&a->installed);
            sset_clone(&a->installed, &a->bound);
        }
        if (a->generation_applied != a->req_generation) {
            a->generation_applied = a->req_generation;
            a->generation_applied_at = time_wall_msec();
        }
        if (vtxn) {
            const struct smap_node *node;
            SMAP_FOR_EACH (node, &a->incoming_macs) {
                migr_executor_port_ready(a->migrations, a->vmroam.idl,
                                         node->value);
            }
        }
    }
    if (otxn) {
        overlay_bridge_mark_installed(a->ovs.idl, otxn, &a->cfg.bridge,
                                      &a->installed);
    }
    if (vtxn) {
        struct smap versions = SMAP_INITIALIZER(&versions);
        const struct ovsrec_open_vswitch *ovs
            = ovsrec_open_vswitch_first(a->ovs.idl);
        smap_add(&versions, "vmroam", VMROAM_VERSION);
        if (ovs && ovs->ovs_version) {
            smap_add(&versions, "ovs", ovs->ovs_version);
        }
        if (a->hypervisor) {
            a->hypervisor->class->versions(a->hypervisor->data, &versions);
        }

        long long int now = time_wall_msec();
        char *channel_address = migr_channel_address(
            a->channel, ipam_underlay_pa(a->underlay));
        struct overlay_chassis_state st = {
            .name = a->cfg.chassis,
            .pa = ipam_underlay_pa(a->underlay),
            .provider_subnet = ipam_underlay_subnet(a->underlay),
            .underlay_link = ipam_host_link_state(a->host),
            .libvirt_uri = a->cfg.libvirt_peer_uri,
            .migration_ports = a->cfg.migration_ports,
            .migration_channel = channel_address,
            .migration_socket_dir = a->cfg.migration_socket_dir,
            .up = true,
            .generation_applied = a->generation_applied,
            .generation_applied_at = a->generation_applied_at,
            .versions = &versions,
            .heartbeat = now >= a->next_heartbeat ? now : 0,
        };
        if (st.heartbeat) {
            a->next_heartbeat = now + OVERLAY_CHASSIS_HEARTBEAT_MS;
        }
        overlay_chassis_update(a->vmroam.idl, vtxn, &st);
        smap_destroy(&versions);
        free(channel_address);
    }
}

/* Once for each migration to or from this host, as it starts: probes the
 * tunnel to every other chassis, so that the switch knows each next hop
 * before the migration's packets need it.  Returns false if it has to try
 * again (no GRE port or no OpenFlow connection yet). */
static bool
warm_tunnels(struct agent *a)
{
    struct sset active = SSET_INITIALIZER(&active);
    bool new = false;
    const struct vmroamrec_migration *m;
    VMROAMREC_MIGRATION_FOR_EACH (m, a->vmroam.idl) {
        if (migr_state_is_active(migr_row_state(m))
            && (!strcmp(m->source, a->cfg.chassis)
                || (m->destination
                    && !strcmp(m->destination, a->cfg.chassis)))) {
            char *id = xasprintf(UUID_FMT, UUID_ARGS(&m->header_.uuid));
            new |= !sset_contains(&a->warmed, id);
            sset_add_and_free(&active, id);
        }
    }
    bool sent = !new;
    if (new && a->gre_ofport > 0) {
        struct sset pas = SSET_INITIALIZER(&pas);
        const char *pa;
        overlay_inputs_peer_pas(a->vmroam.idl, a->cfg.chassis, &pas);
        sent = true;
        SSET_FOR_EACH (pa, &pas) {
            char *probe = overlay_pipeline_tunnel_probe(a->gre_ofport, pa);
            sent &= overlay_ofctrl_packet_out(a->ofctrl, probe);
            free(probe);
        }
        sset_destroy(&pas);
    }
    if (sent) {
        sset_swap(&a->warmed, &active);
    }
    sset_destroy(&active);
    return sent;
}

/* Notes the incoming VMs that announced themselves on their ports here
 * (the pipeline sends their first announcement to the agent). */
static void
take_announcements(struct agent *a)
{
    struct overlay_packet_in *pins;
    size_t n = overlay_ofctrl_take_packet_ins(a->ofctrl, &pins);
    for (size_t i = 0; i < n; i++) {
        char *key = overlay_announce_key(pins[i].vsid, pins[i].eth_src);
        const char *vm = smap_get(&a->incoming_macs, key);
        if (vm) {
            sset_add(&a->announced, vm);
        }
        free(key);
    }
    free(pins);
}

/* Free space in 'dir', or -1 if it cannot be known. */
static int64_t
free_disk_kb(const char *dir)
{
    struct statvfs st;
    return statvfs(dir, &st) ? -1 : (int64_t) st.f_bavail * st.f_frsize / 1024;
}

/* Tells the database what this host and its VMs weigh, for placement. */
static void
report_sizes(struct agent *a, struct ovsdb_idl_txn *vtxn)
{
    struct migr_host_size host;
    struct migr_vm_size *vms;
    size_t n;
    char *error = (a->hypervisor->class->sizes
                   ? a->hypervisor->class->sizes(a->hypervisor->data, &host,
                                                 &vms, &n)
                   : NULL);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 10);
        VLOG_WARN_RL(&rl, "cannot size this host and its VMs: %s", error);
        free(error);
    } else if (a->hypervisor->class->sizes) {
        migr_inventory_report(a->vmroam.idl, vtxn, a->cfg.chassis, &host,
                              free_disk_kb(a->cfg.images_dir), vms, n);
        migr_vm_sizes_free(vms, n);
    }
}

/* Tells the database which VMs run here, as the hypervisor lists them. */
static void
scan_vms(struct agent *a, struct ovsdb_idl_txn *vtxn)
{
    if (!a->hypervisor || !vtxn || time_msec() < a->next_vm_scan) {
        return;
    }
    struct sset running = SSET_INITIALIZER(&running);
    char *error = a->hypervisor->class->list_running(a->hypervisor->data,
                                                     &running);
    if (error) {
        /* Not knowing is no reason to call every VM stopped. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 10);
        VLOG_WARN_RL(&rl, "cannot list the running VMs: %s", error);
        free(error);
    } else {
        struct sset arriving = SSET_INITIALIZER(&arriving);
        migr_row_arriving(a->vmroam.idl, a->cfg.chassis, &arriving);
        overlay_chassis_report_running(a->vmroam.idl, vtxn, a->cfg.chassis,
                                       &running, &arriving);
        sset_destroy(&arriving);
    }
    sset_destroy(&running);
    a->next_vm_scan = time_msec() + 1000;
    if (time_msec() >= a->next_size_scan) {
        report_sizes(a, vtxn);
        a->next_size_scan = time_msec() + SIZE_SCAN_MS;
    }
}

/* With --migration-network, keeps the channel listening on this host's
 * address in the first migration network it has one in. */
static void
keep_channel_listening(struct agent *a)
{
    unsigned int seqno = ipam_host_change_seqno(a->host);
    if (!a->channel || !a->cfg.migration_networks.n
        || (a->channel_looked && seqno == a->channel_seqno)) {
        return;
    }
    /* Again only once the host's addresses may have changed. */
    a->channel_looked = true;
    a->channel_seqno = seqno;
    struct sset addrs = SSET_INITIALIZER(&addrs);
    ipam_host_addresses(a->host, &addrs);
    char *pick = migr_network_pick(&a->cfg.migration_networks, &addrs);
    sset_destroy(&addrs);
    if (pick && !nullable_string_is_equal(pick, a->channel_bound)) {
        char *listen = xasprintf(strchr(pick, ':') ? "pssl:%d:[%s]"
                                 : "pssl:%d:%s", a->cfg.migration_port,
                                 pick);
        char *error = migr_channel_listen(a->channel, listen);
        if (error) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 10);
            VLOG_WARN_RL(&rl, "%s", error);
            free(error);
            free(pick);
            a->channel_looked = false;      /* Try again next pass. */
        } else {
            VLOG_INFO("migration channel: listening on %s", listen);
            free(a->channel_bound);
            a->channel_bound = pick;
        }
        free(listen);
    } else if (!pick && a->channel_bound) {
        char *error = migr_channel_listen(a->channel, NULL);
        ovs_assert(!error);
        VLOG_WARN("migration channel: no address here in the migration "
                  "networks any more (%s was): receiving no migrations",
                  a->channel_bound);
        free(a->channel_bound);
        a->channel_bound = NULL;
    } else {
        free(pick);
    }
}

/* Replicates the heartbeats of this host and of its migrations' peers
 * only, and the lookup records this host needs (overlay/monitor.h). */
static void
monitor(struct agent *a)
{
    struct ovsdb_idl *idl = a->vmroam.idl;
    struct sset peers = SSET_INITIALIZER(&peers);
    migr_row_peers(idl, a->cfg.chassis, &peers);
    unsigned int peers_seqno = overlay_chassis_monitor(idl, a->cfg.chassis,
                                                       &peers);
    sset_destroy(&peers);

    struct sset vms = SSET_INITIALIZER(&vms);
    migr_row_vms(idl, a->cfg.chassis,
                 time_wall_msec() - OVERLAY_REDIRECT_GRACE_MS, &vms);
    unsigned int records_seqno = overlay_monitor_records(
        idl, a->cfg.chassis, &a->policy, &a->local_rds, &vms,
        a->cfg.monitor_all);
    sset_destroy(&vms);
    a->cond_seqno = MAX(peers_seqno, records_seqno);
}

/* Whether the replica holds what the last conditions asked for: until
 * then, the records of a routing domain new here are not all in. */
static bool
replica_complete(const struct agent *a)
{
    return ovsdb_idl_get_condition_seqno(a->vmroam.idl) == a->cond_seqno;
}

static void
run(struct agent *a)
{
    struct ovsdb_idl_txn *vtxn = ovsdb_idl_loop_run(&a->vmroam);
    struct ovsdb_idl_txn *otxn = ovsdb_idl_loop_run(&a->ovs);
    overlay_ofctrl_run(a->ofctrl);
    migr_executor_read_lifecycle(a->migrations);
    take_announcements(a);
    ipam_host_run(a->host);
    ipam_underlay_run(a->underlay, a->vmroam.idl, a->cfg.chassis);
    keep_channel_listening(a);

    /* A leased PA is the source of the switch's routes, which vmroamd
     * keeps; a static one, the GRE port's. */
    if (a->cfg.pa) {
        a->cfg.bridge.local_ip = a->cfg.pa;
    } else {
        overlay_routectl_set(a->routectl,
                             ipam_underlay_programmed(a->underlay),
                             ipam_underlay_gateway(a->underlay),
                             a->cfg.underlay_dev);
        overlay_routectl_run(a->routectl);
    }
    if (otxn) {
        overlay_bridge_ensure(a->ovs.idl, otxn, &a->cfg.bridge);
    }

    if (a->portq_retry && time_msec() >= a->portq_retry) {
        follow_incoming_ports(a);
    }
    report_vms(a, vtxn);

    /* Translate only once both databases have been read in full, and the
     * server has sent every record asked for: flows from half a picture
     * would replace good ones in the switch. */
    if (idl_synced(&a->vmroam) && idl_synced(&a->ovs)
        && replica_complete(a)) {
        unsigned int vseqno = ovsdb_idl_get_seqno(a->vmroam.idl);
        unsigned int oseqno = ovsdb_idl_get_seqno(a->ovs.idl);
        bool full = (a->recompute || !a->n_full
                     || (oseqno != a->ovs_seqno && switch_inputs_changed(a))
                     || time_wall_msec() >= a->redirects_expire);
        a->ovs_seqno = oseqno;
        if (full || vseqno != a->vmroam_seqno) {
            a->vmroam_seqno = vseqno;
            a->recompute = false;
            translate(a, vtxn, full);
            a->warm_due = true;
            /* A routing domain new here: its records come first. */
            monitor(a);
        }
        hold(a);
        if (replica_complete(a)) {
            overlay_ofctrl_put(a->ofctrl, &a->desired, a->req);
        }
        if (a->warm_due) {
            /* Migrations start and end only with database changes. */
            a->warm_due = !warm_tunnels(a);
        }
    }
    report(a, vtxn, otxn);
    if (idl_synced(&a->vmroam)) {
        if (vtxn) {
            const char *vm;
            SSET_FOR_EACH (vm, &a->announced) {
                migr_executor_activated(a->migrations, a->vmroam.idl, vtxn,
                                        vm);
            }
            sset_clear(&a->announced);
            const struct simap_node *node;
            SIMAP_FOR_EACH (node, &a->held_dropped) {
                migr_executor_held_dropped(a->migrations, a->vmroam.idl,
                                           node->name, node->data);
            }
            simap_clear(&a->held_dropped);
        }
        migr_executor_run(a->migrations, a->vmroam.idl, vtxn,
                          ipam_host_link_state(a->host));
        scan_vms(a, vtxn);
        monitor(a);
    }

    ovsdb_idl_loop_commit_and_wait(&a->vmroam);
    ovsdb_idl_loop_commit_and_wait(&a->ovs);
}

static void
wait_(struct agent *a)
{
    overlay_ofctrl_wait(a->ofctrl);
    overlay_routectl_wait(a->routectl);
    ipam_host_wait(a->host);
    migr_executor_wait(a->migrations);
    if (a->hypervisor) {
        poll_timer_wait_until(a->next_vm_scan);
    }
    if (a->portq_retry) {
        poll_timer_wait_until(a->portq_retry);
    }
    if (a->redirects_expire != LLONG_MAX) {
        poll_timer_wait_until(time_msec() + MAX(0, a->redirects_expire
                                                - time_wall_msec()));
    }
    poll_timer_wait_until(a->next_heartbeat);
}

static void
status_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[] OVS_UNUSED, void *a_)
{
    struct agent *a = a_;
    struct ds s = DS_EMPTY_INITIALIZER;
    const char *name;

    ds_put_format(&s, "chassis: %s\n", a->cfg.chassis);
    const char *pa = ipam_underlay_pa(a->underlay);
    ds_put_format(&s, "pa: %s (%s) on %s, underlay link %s\n",
                  pa ? pa : "none",
                  a->cfg.pa ? "static" : "IPAM lease", a->cfg.underlay_dev,
                  ipam_host_link_state(a->host)
                  ? ipam_host_link_state(a->host) : "unknown");
    ds_put_format(&s, "vmroam db: %s (%s)\n", a->cfg.db,
                  ovsdb_idl_is_connected(a->vmroam.idl)
                  ? "connected" : "not connected");
    ds_put_format(&s, "ovs db: %s (%s)\n", a->cfg.ovs_db,
                  ovsdb_idl_is_connected(a->ovs.idl)
                  ? "connected" : "not connected");
    ds_put_format(&s, "openflow: %s (%s)\n", a->cfg.ofctl_target,
                  overlay_ofctrl_is_connected(a->ofctrl)
                  ? "connected" : "not connected");
    overlay_routectl_describe(a->routectl, &s);
    ds_put_format(&s, "generation applied: %"PRId64" (database: %"PRId64")\n",
                  a->generation_applied,
                  policy_db_generation(a->vmroam.idl));
    ds_put_format(&s, "bound ports: %"PRIuSIZE, sset_count(&a->bound));
    SSET_FOR_EACH (name, &a->bound) {
        ds_put_format(&s, " %s%s", name,
                      sset_contains(&a->installed, name) ? "" : "(pending)");
    }
    ds_put_format(&s, "\nflows: %"PRIuSIZE" installed, %"PRIuSIZE
                  " desired\n", overlay_ofctrl_n_flows(a->ofctrl),
                  hmap_count(&a->desired.flows));
    ds_put_format(&s, "translations: %u full, %u of changes\n",
                  a->n_full, a->n_incremental);
    size_t n_records = 0;
    const struct vmroamrec_lookup_record *r;
    VMROAMREC_LOOKUP_RECORD_FOR_EACH (r, a->vmroam.idl) {
        n_records++;
    }
    ds_put_format(&s, "lookup records replicated: %"PRIuSIZE" (%s)\n",
                  n_records, a->cfg.monitor_all ? "all, --monitor-all"
                  : "the routing domains here");
    ds_put_format(&s, "full resyncs: %u\n",
                  overlay_ofctrl_n_resyncs(a->ofctrl));
    unsigned int probing, waiting;
    migr_executor_probing(a->migrations, &probing, &waiting);
    ds_put_format(&s, "storage probes: %u in progress, %u threads waiting "
                  "on the file system\n", probing, waiting);
    size_t sent, total;
    if (overlay_ofctrl_sending(a->ofctrl, &sent, &total)) {
        ds_put_format(&s, "bundle on its way: %"PRIuSIZE" of %"PRIuSIZE
                      " flow changes sent\n", sent, total);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
host_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *a_)
{
    struct agent *a = a_;
    struct ds s = DS_EMPTY_INITIALIZER;
    ipam_host_describe(a->host, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
recompute_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
              const char *argv[] OVS_UNUSED, void *a_)
{
    struct agent *a = a_;
    a->recompute = true;
    overlay_ofctrl_force_resync(a->ofctrl);
    unixctl_command_reply(conn, NULL);
}

static void
exit_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *a_)
{
    struct agent *a = a_;
    a->exiting = true;
    unixctl_command_reply(conn, NULL);
}

/* An agent that stops cleanly, even on a signal, says so in the vmroam
 * database, waiting at most a second. */
#define MARK_DOWN_TIMEOUT_MS 1000
static struct agent *the_agent;

static void
signal_hook(void *aux OVS_UNUSED)
{
    if (the_agent) {
        overlay_chassis_mark_down(the_agent->vmroam.idl,
                                  the_agent->cfg.chassis,
                                  MARK_DOWN_TIMEOUT_MS);
    }
}

int
main(int argc, char *argv[])
{
    struct agent a;
    memset(&a, 0, sizeof a);
    a.redirects_expire = LLONG_MAX;

    set_program_name(argv[0]);
    service_start(&argc, &argv);
    parse_options(argc, argv, &a.cfg);
    policy_db_ssl_from_environment();
    check_certificate(&a.cfg);
    fatal_ignore_sigpipe();
    daemonize_start(false);

    struct unixctl_server *unixctl;
    int error = unixctl_server_create(a.cfg.unixctl_path, &unixctl);
    if (error) {
        ovs_fatal(error, "cannot create control socket");
    }
    unixctl_command_register("vmroamd/status", "", 0, 0, status_cmd, &a);
    unixctl_command_register("vmroamd/recompute", "", 0, 0, recompute_cmd,
                             &a);
    unixctl_command_register("vmroamd/host", "", 0, 0, host_cmd, &a);
    unixctl_command_register("exit", "", 0, 0, exit_cmd, &a);
    daemonize_complete();

    a.vmroam = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(
        ovsdb_idl_create(a.cfg.db, &vmroamrec_idl_class, true, true));
    /* Any member of a Raft cluster, or any relay, serves an agent: like
     * ovn-controller, it reads what its server has and writes through it
     * (a follower passes writes to the leader, a relay to its source,
     * which checks their prerequisites).  A relay is never a leader, so
     * following the leader would turn every relay of a list away. */
    ovsdb_idl_set_leader_only(a.vmroam.idl, false);
    policy_db_omit_for_agent(a.vmroam.idl);
    policy_db_alert_policy_only(a.vmroam.idl);
    policy_db_track_records(a.vmroam.idl);
    a.records = policy_db_index_records(a.vmroam.idl);
    a.ovs = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(
        ovsdb_idl_create(a.cfg.ovs_db, &ovsrec_idl_class, true, true));
    overlay_bridge_register_columns(a.ovs.idl);
    a.ofctrl = overlay_ofctrl_create(a.cfg.ofctl_target);
    char *rundir = switch_rundir(a.cfg.ovs_db);
    a.routectl = overlay_routectl_create(a.cfg.switch_ctl, rundir);
    free(rundir);
    char *error_msg = NULL;
    a.host = ipam_host_create(a.cfg.underlay_dev, a.cfg.uplink, &error_msg);
    if (!a.host) {
        ovs_fatal(0, "%s", error_msg);
    }
    a.underlay = ipam_underlay_create(a.host, a.cfg.underlay_dev, a.cfg.pa);
    if (a.cfg.libvirt) {
        a.hypervisor = migr_libvirt_open(a.cfg.libvirt, &error_msg);
        if (!a.hypervisor) {
            ovs_fatal(0, "%s", error_msg);
        }
    }
    a.migrations = migr_executor_create(a.cfg.chassis, a.hypervisor,
                                         a.records, a.cfg.max_downtime_ms);
    if (stream_ssl_is_configured()) {
        /* With a host certificate, migrations go through the channel. */
        a.channel = migr_channel_create(
            a.cfg.migration_networks.n ? NULL : a.cfg.migration_listen,
            &error_msg);
        if (!a.channel) {
            ovs_fatal(0, "%s", error_msg);
        }
        migr_executor_set_channel(a.migrations, a.channel,
                                  a.cfg.migration_socket_dir,
                                  a.cfg.compression);
    } else if (a.cfg.migration_listen) {
        ovs_fatal(0, "--migration-listen needs --private-key, --certificate "
                  "and --ca-cert");
    }
    policy_init(&a.policy);
    overlay_inputs_init(&a.inputs);
    sset_init(&a.local_rds);
    overlay_desired_init(&a.desired);
    smap_init(&a.held);
    sset_init(&a.bound);
    smap_init(&a.incoming_ports);
    smap_init(&a.deepened);
    simap_init(&a.held_dropped);
    smap_init(&a.incoming_macs);
    sset_init(&a.installed);
    sset_init(&a.announced);
    sset_init(&a.warmed);

    /* Before the first connection: the first replica is the one asked. */
    monitor(&a);

    the_agent = &a;
    fatal_signal_add_hook(signal_hook, NULL, NULL, false);
    VLOG_INFO("chassis %s: vmroam db %s, ovs db %s, openflow %s",
              a.cfg.chassis, a.cfg.db, a.cfg.ovs_db, a.cfg.ofctl_target);

    while (!a.exiting) {
        run(&a);
        unixctl_server_run(unixctl);

        wait_(&a);
        unixctl_server_wait(unixctl);
        poll_block();
    }

    overlay_chassis_mark_down(a.vmroam.idl, a.cfg.chassis,
                              MARK_DOWN_TIMEOUT_MS);
    the_agent = NULL;
    unixctl_server_destroy(unixctl);
    overlay_ofctrl_destroy(a.ofctrl);
    overlay_routectl_destroy(a.routectl);
    ipam_host_destroy(a.host);
    migr_executor_destroy(a.migrations);
    migr_channel_destroy(a.channel);
    migr_libvirt_close(a.hypervisor);
    ipam_underlay_destroy(a.underlay);
    free(a.channel_bound);
    ovsdb_idl_loop_destroy(&a.vmroam);
    ovsdb_idl_loop_destroy(&a.ovs);
    overlay_desired_destroy(&a.desired);
    sset_destroy(&a.local_rds);
    overlay_inputs_destroy(&a.inputs);
    policy_destroy(&a.policy);
    free(a.switch_inputs);
    overlay_chassis_vm_nics_destroy(a.vm_nics, a.n_vm_nics);
    smap_destroy(&a.held);
    sset_destroy(&a.bound);
    smap_destroy(&a.incoming_ports);
    smap_destroy(&a.deepened);
    simap_destroy(&a.held_dropped);
    smap_destroy(&a.incoming_macs);
    sset_destroy(&a.installed);
    sset_destroy(&a.announced);
    sset_destroy(&a.warmed);
    service_stop();
    return 0;
}
