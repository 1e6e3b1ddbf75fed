#!/usr/bin/env python3
"""Writes a valid vmroam policy with N lookup records (for benchmarks).

usage: gen-policy.py N OUT [SEED]
Records spread over 16 tenants x 16 virtual subnets (10.x.0.0/16 CAs, the
same CA space in every tenant) and 250 hosts on 4 provider subnets.  SEED
changes which PA the first record has, for one-record-change runs."""
import json
import sys

n, out = int(sys.argv[1]), sys.argv[2]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
tenants, subnets = 16, 16
rds = [{"name": "tenant-%d" % t,
        "virtual_subnets": [{"vsid": 10000 + t * subnets + s,
                             "prefix": "10.%d.0.0/16" % s,
                             "gateway": "10.%d.255.254" % s}
                            for s in range(subnets)]}
       for t in range(tenants)]
psubnets = [{"footprint": "rack-%d" % r, "prefix": "172.16.%d.0/24" % r,
             "gateway": "172.16.%d.1" % r} for r in range(4)]
with open(out, "w") as f:
    f.write('{"routing_domains": %s, "provider_subnets": %s, '
            '"customer_routes": [], "lookup_records": [\n'
            % (json.dumps(rds), json.dumps(psubnets)))
    per_subnet = (n + tenants * subnets - 1) // (tenants * subnets)
    for i in range(n):
        vs, k = divmod(i, per_subnet)
        host = (i + (seed if i == 0 else 0)) % 250
        f.write('%s{"vsid": %d, "ca": "10.%d.%d.%d", "mac": "02:%02x:%02x:%02x:%02x:%02x", '
                '"pa": "172.16.%d.%d", "host": "hv%d"}\n'
                % ("," if i else "", 10000 + vs, vs % subnets, k // 250, k % 250 + 1,
                   (i >> 32) & 255, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255,
                   host % 4, host // 4 + 2, host))
    f.write("]}\n")
