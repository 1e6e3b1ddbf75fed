/* The migration network: which of a host's addresses its migration
 * channel listens on.
 *
 * As Hyper-V's Set-VMMigrationNetwork, the operator names the networks
 * migrations may use, in order of preference; a host's channel listens on
 * its address in the first of them it has one in, and falls back to the
 * next when that address goes.  Pure: the caller says which addresses the
 * host has now. */

#ifndef MIGRATOR_NETWORK_H
#define MIGRATOR_NETWORK_H 1

#include <stddef.h>

#include "openvswitch/compiler.h"

struct sset;
struct svec;

char *migr_network_parse(const char *, struct svec *networks)
    OVS_WARN_UNUSED_RESULT;
char *migr_network_pick(const struct svec *networks, const struct sset *addrs);

#endif /* migrator/network.h */
