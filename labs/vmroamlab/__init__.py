"""The vmroam lab, behind its command line labs/lab.

Where things are built:
  topology.py  the lab file: Lab, Host, VM, Subnet; checks; generated policies
  ipam.py      the vmroam database, PA and CA leases, policy apply and validate
  hosts.py     the router, and each host: namespace, OVS daemons, br-phy, vmroamd
  vms.py       namespace VMs: veth to br-int, waiting for their flows
  qemu.py      QEMU guests: libvirtd per host, domains, serial logs
  commands.py  the subcommands (up, down, status, exec, stop, start, ...)
  common.py    constants, errors, running commands, pidfiles
"""
