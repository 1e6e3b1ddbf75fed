#!/bin/sh
# Installs the Debian packages vmroam needs and builds the static
# libopenvswitch (plus ovsdb-idlc and generated headers) that Debian does not
# ship as a -dev package.  Idempotent: a second run only checks.
#
# The build is cached outside the checkout, keyed by the version of the
# openvswitch-source package, so that it matches the installed switch.
#
#   deps.sh            install packages (if missing) and build (if missing)
#   deps.sh --dir      print the OVS build directory for this version
set -eu

PACKAGES="openvswitch-switch openvswitch-common openvswitch-source
libnl-3-dev libnl-route-3-dev libvirt-dev libxml2-dev liblz4-dev libcmocka-dev
libssl-dev openssl libcap-ng-dev libunbound-dev python3 autoconf automake libtool
pkg-config make gcc clang libclang-rt-14-dev iproute2 iputils-ping tcpdump
ethtool socat time procps bc qemu-system-x86 qemu-utils libvirt-daemon
libvirt-daemon-driver-qemu libvirt-clients busybox-static cpio kmod gzip"

CACHE=${VMROAM_CACHE:-/var/cache/vmroam}

ovs_version() {
    dpkg-query -W -f='${Version}' openvswitch-source 2>/dev/null
}

build_dir() {
    echo "$CACHE/ovs-$(ovs_version)"
}

install_packages() {
    missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
            || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
}

build_ovs() {
    dir=$(build_dir)
    [ -f "$dir/.vmroam-built" ] && return 0
    echo "deps: building libopenvswitch $(ovs_version) into $dir (about a minute)"
    tmp="$dir.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    tar -xzf /usr/src/openvswitch/openvswitch.tar.gz -C "$tmp" --strip-components=1
    (cd "$tmp" \
        && ./configure -q --enable-static --disable-shared \
               --localstatedir=/var --sysconfdir=/etc --prefix=/usr >/dev/null \
        && make -s -j"$(nproc)" lib/libopenvswitch.la ovsdb/libovsdb.la \
               ovsdb/ovsdb-idlc lib/vswitch-idl.h >/dev/null 2>&1 \
           || make -j"$(nproc)" >/dev/null)
    touch "$tmp/.vmroam-built"
    rm -rf "$dir"
    mv "$tmp" "$dir"
}

case "${1:-}" in
    --dir) build_dir ;;
    "") install_packages; build_ovs; echo "deps: ok ($(build_dir))" ;;
    *) echo "usage: $0 [--dir]" >&2; exit 2 ;;
esac
