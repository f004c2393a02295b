#!/bin/bash
# In the guest: prepare.sh MODE (type1 | cdev | noiommu)
# Loads the rebuilt vfio modules, hands the pktio NICs (00:03.0, 00:04.0) to vfio-pci, gives the other NICs to
# the kernel's e1000e, each in its own network namespace (ns0: 10.99.0.1/24, ns1: 10.99.0.2/24), reserves
# 256 hugepages on /dev/hugepages. Few forks: every process start is slow under TCG.
set -euo pipefail
MODE=${1:-type1}
C=${PKTIO_VM_CACHE:-/var/cache/pktio-vm}
K=$C/kernel/lib/modules/$(uname -r)/kernel
ins() { busybox insmod "$@"; }
ins "$K/virt/lib/irqbypass.ko.xz"
ins "$C/mods/iommufd.ko"
if [ "$MODE" = noiommu ]; then ins "$C/mods/vfio.ko" enable_unsafe_noiommu_mode=1; else ins "$C/mods/vfio.ko"; fi
ins "$C/mods/vfio_iommu_type1.ko"
ins "$C/mods/vfio-pci-core.ko"
# pktio's NICs go to vfio-pci when it loads; e1000e then takes only the others
PKTIO_NICS=${PKTIO_NICS:-0000:00:03.0 0000:00:04.0}
for b in $PKTIO_NICS; do [ -e /sys/bus/pci/devices/$b ] && echo vfio-pci > /sys/bus/pci/devices/$b/driver_override; done
ins "$C/mods/vfio-pci.ko"
ins "$K/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz"
for b in $PKTIO_NICS; do
    [ -e /sys/bus/pci/devices/$b ] || continue
    d=$(readlink /sys/bus/pci/devices/$b/driver); [ "${d##*/}" = vfio-pci ] || { echo "prepare: $b not on vfio-pci" >&2; exit 1; }
done
echo 256 > /proc/sys/vm/nr_hugepages
mkdir -p /dev/hugepages && mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
i=0
for b in 0000:00:05.0 0000:00:06.0; do
    [ -e /sys/bus/pci/devices/$b ] || continue
    for w in 1 2 3 4 5 6 7 8 9 10; do [ -d /sys/bus/pci/devices/$b/net ] && break; sleep 0.2; done
    ifc=$(ls /sys/bus/pci/devices/$b/net)
    ip netns add ns$i
    ip link set "$ifc" netns ns$i
    ip netns exec ns$i sh -c "sysctl -qw net.ipv6.conf.all.disable_ipv6=1; ip link set lo up; ip link set $ifc name eth0; ip addr add 10.99.0.$((i + 1))/24 dev eth0; ip link set eth0 up"
    i=$((i + 1))
done
echo "prepare: mode $MODE, vfio: $(ls /dev/vfio | tr '\n' ' ')$( [ -d /dev/vfio/devices ] && ls /dev/vfio/devices | tr '\n' ' ')"
