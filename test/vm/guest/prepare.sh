#!/bin/bash
# In the guest: prepare.sh MODE (type1 | cdev | noiommu)
# Loads the rebuilt vfio modules, hands the pktio NICs ($PKTIO_NICS) to vfio-pci, gives every other e1000e and igb
# to the kernel's e1000e or igb driver, moves the kernel NICs of the topology ($PKTIO_VM_KERNEL_NICS: the first to
# ns0 as 10.99.0.1/24, the second to ns1 as 10.99.0.2/24, each named eth0 there), waits until they report carrier
# (QEMU's igb raises link only after the driver's PHY autoneg restart), loads 8021q (VLAN subinterfaces), reserves
# 256 hugepages on /dev/hugepages.
# run.sh puts both lists in the environment; without them, the e1000e layout: pktio 00:03.0 00:04.0, kernel
# 00:05.0 00:06.0. Few forks: every process start is slow under TCG.
set -euo pipefail
MODE=${1:-type1}
C=${PKTIO_VM_CACHE:-/var/cache/pktio-vm}
MD=$C/kernel/lib/modules/$(uname -r)
PKTIO_NICS=${PKTIO_NICS:-0000:00:03.0 0000:00:04.0}
KERNEL_NICS=${PKTIO_VM_KERNEL_NICS-0000:00:05.0 0000:00:06.0}
ins() { busybox insmod "$@"; }
kmod() { # NAME [PARAM...]: a module of the cache's kernel tree, its modules.dep dependencies first
    local n=$1 line d; shift
    [ -d "/sys/module/${n//-/_}" ] && return 0
    line=$(grep -m1 -E "/$n\.ko(\.xz)?:" "$MD/modules.dep") || { echo "prepare: no module $n in $MD" >&2; return 1; }
    for d in ${line#*:}; do d=${d##*/}; kmod "${d%%.ko*}"; done
    ins "$MD/${line%%:*}" "$@"
}
kmod irqbypass
ins "$C/mods/iommufd.ko"
if [ "$MODE" = noiommu ]; then ins "$C/mods/vfio.ko" enable_unsafe_noiommu_mode=1; else ins "$C/mods/vfio.ko"; fi
ins "$C/mods/vfio_iommu_type1.ko"
ins "$C/mods/vfio-pci-core.ko"
# pktio's NICs go to vfio-pci when it loads; e1000e and igb then take only the others
for b in $PKTIO_NICS; do [ -e /sys/bus/pci/devices/$b ] && echo vfio-pci > /sys/bus/pci/devices/$b/driver_override; done
# virtio-net functions were taken at boot by the built-in virtio-pci: let go of pktio's
for b in $PKTIO_NICS; do [ -e /sys/bus/pci/devices/$b/driver ] && echo "$b" > /sys/bus/pci/devices/$b/driver/unbind; done
ins "$C/mods/vfio-pci.ko"
for b in $PKTIO_NICS; do
    [ -e /sys/bus/pci/devices/$b ] || continue
    d=$(readlink /sys/bus/pci/devices/$b/driver); [ "${d##*/}" = vfio-pci ] || { echo "prepare: $b not on vfio-pci" >&2; exit 1; }
done
# the kernel drivers the other NICs need: 82574L (8086:10d3) e1000e, 82576 (8086:10c9) igb
need_e1000e=0 need_igb=0 need_virtio_net=0
for p in /sys/bus/pci/devices/*; do
    case " $PKTIO_NICS " in *" ${p##*/} "*) continue ;; esac
    read -r v < "$p/vendor"; read -r d < "$p/device"
    case $v:$d in 0x8086:0x10d3) need_e1000e=1 ;; 0x8086:0x10c9) need_igb=1 ;; 0x1af4:0x1041|0x1af4:0x1000) need_virtio_net=1 ;; esac
done
[ $need_e1000e = 1 ] && kmod e1000e
[ $need_igb = 1 ] && kmod igb
[ $need_virtio_net = 1 ] && kmod virtio_net
# 802.1Q subinterfaces for the VLAN tests
kmod 8021q
echo 256 > /proc/sys/vm/nr_hugepages
mkdir -p /dev/hugepages && mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
# a NIC's interfaces: under the PCI function (e1000e, igb), or under its virtio device (virtio-net)
netdir() {
    local d
    for d in /sys/bus/pci/devices/$1/net /sys/bus/pci/devices/$1/virtio*/net; do [ -d "$d" ] && { echo "$d"; return 0; }; done
    return 1
}
i=0 up=()
for b in $KERNEL_NICS; do
    [ -e /sys/bus/pci/devices/$b ] || continue
    case " $PKTIO_NICS " in *" $b "*) continue ;; esac
    for w in $(seq 1 50); do netdir "$b" > /dev/null && break; sleep 0.2; done
    ifc=$(ls "$(netdir "$b")") || { echo "prepare: $b has no network interface" >&2; exit 1; }
    ip netns add ns$i
    ip link set "$ifc" netns ns$i
    ip netns exec ns$i sh -c "sysctl -qw net.ipv6.conf.all.disable_ipv6=1; ip link set lo up; ip link set $ifc name eth0; ip addr add 10.99.0.$((i + 1))/24 dev eth0; ip link set eth0 up"
    up+=("ns$i:$b")
    i=$((i + 1))
done
# carrier: e1000e has it at once, igb after its autoneg (about a second under TCG)
for n in "${up[@]}"; do
    for w in $(seq 1 100); do
        case $(ip -n "${n%%:*}" -o link show dev eth0) in *LOWER_UP*) continue 2 ;; esac
        sleep 0.2
    done
    echo "prepare: ${n#*:} in ${n%%:*} has no carrier after 20 s" >&2; exit 1
done
echo "prepare: mode $MODE, vfio: $(ls /dev/vfio | tr '\n' ' ')$( [ -d /dev/vfio/devices ] && ls /dev/vfio/devices | tr '\n' ' ')," \
    "kernel: ${up[*]:-none}"
