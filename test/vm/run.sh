#!/bin/bash
# run.sh [--mode type1|noiommu|cdev] [--topology l2fwd|one] [--mem MB] [--smp N] [--timeout S] [--out DIR] -- COMMAND
#
# Boots the rig's guest (QEMU TCG, q35; with --mode type1 or cdev also intel-iommu) with the host root read-only
# over 9p, runs COMMAND with bash in the guest (chrooted into the host root, working directory = the out share),
# prints its output and exits with its status (124: timeout, 125: the guest gave no status).
# Networking is QEMU hubs only: nothing reaches the host's network.
#
# Topology l2fwd (default):         hub 0                         hub 1
#   pktio port A   0000:00:03.0  52:54:00:00:01:01       pktio port B   0000:00:04.0  52:54:00:00:01:02
#   kernel (ns0)   0000:00:05.0  52:54:00:00:02:01       kernel (ns1)   0000:00:06.0  52:54:00:00:02:02
# Topology one: 0000:00:03.0 (pktio) and 0000:00:05.0 (kernel) on hub 0.
# Topology loop: 0000:00:03.0 and 0000:00:04.0 (both pktio) on hub 0.
set -euo pipefail
C=${PKTIO_VM_CACHE:-/var/cache/pktio-vm}
MODE=type1 TOPO=l2fwd MEM=1536 SMP=2 TIMEOUT=300 OUT= AW=48
while [ $# -gt 0 ]; do
    case $1 in
        --mode) MODE=$2; shift ;;
        --topology) TOPO=$2; shift ;;
        --mem) MEM=$2; shift ;;
        --smp) SMP=$2; shift ;;
        --timeout) TIMEOUT=$2; shift ;;
        --out) OUT=$2; shift ;;
        --aw-bits) AW=$2; shift ;;
        --) shift; break ;;
        *) break ;;
    esac
    shift
done
[ $# -gt 0 ] || { echo "run.sh: no command" >&2; exit 2; }
[ -f "$C/initrd.gz" ] || { echo "run.sh: the rig is not provisioned: run test/vm/provision.sh as root" >&2; exit 2; }
case $MODE in type1|cdev|noiommu) ;; *) echo "run.sh: --mode type1, noiommu or cdev" >&2; exit 2 ;; esac
[ -n "$OUT" ] || OUT=$(mktemp -d /var/tmp/pktio-vm.XXXXXX)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
printf '%s\n' "$*" > "$OUT/cmd.sh"
rm -f "$OUT/rc"

Q=(qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m "$MEM" -smp "$SMP" -nodefaults -no-user-config
   -display none -serial stdio -no-reboot -kernel "$C/vmlinux" -initrd "$C/initrd.gz"
   -fsdev local,id=host,path=/,security_model=none,readonly=on,multidevs=remap
   -device virtio-9p-pci,fsdev=host,mount_tag=host,addr=0x10
   -fsdev local,id=out,path="$OUT",security_model=none,multidevs=remap
   -device virtio-9p-pci,fsdev=out,mount_tag=out,addr=0x11)
KEEP=$(cd "$(dirname "$0")/../.." && pwd -P)
case "$OUT$KEEP" in *\ *) echo "run.sh: paths with spaces cannot go on the kernel command line" >&2; exit 2 ;; esac
ARGS="console=ttyS0 panic=-1 quiet loglevel=3 pktio.out=$OUT pktio.keep=$KEEP default_hugepagesz=2M"
if [ "$MODE" = noiommu ]; then
    Q+=(-M q35); ARGS="$ARGS intel_iommu=off"
else
    # aw-bits=48: the default 39-bit IOVA space is smaller than user addresses (IOVA = VA)
    Q+=(-M q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on,aw-bits=$AW); ARGS="$ARGS intel_iommu=on"
fi
nic() { Q+=(-netdev "hubport,id=$1,hubid=$2" -device "e1000e,netdev=$1,addr=$3,mac=$4"); }
if [ "$TOPO" = loop ]; then
    # both pktio ports on one hub: what one sends, the other receives (forwarding benchmarks)
    nic pa 0 0x3 52:54:00:00:01:01
    nic pb 0 0x4 52:54:00:00:01:02
else
    nic pa 0 0x3 52:54:00:00:01:01
    nic ka 0 0x5 52:54:00:00:02:01
fi
if [ "$TOPO" = l2fwd ]; then
    nic pb 1 0x4 52:54:00:00:01:02
    nic kb 1 0x6 52:54:00:00:02:02
fi
Q+=(-append "$ARGS")

pidfile=$OUT/qemu.pid
Q+=(-pidfile "$pidfile")
stop() { [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true; }
trap stop EXIT
trap 'exit 130' INT TERM
set +e
timeout -k 5 "$TIMEOUT" "${Q[@]}" < /dev/null > "$OUT/console.log" 2>&1 &
wait $!
st=$?
set -e
# the console carries the command's output
grep -v -E '^(SeaBIOS|Booting|iPXE|$)' "$OUT/console.log" | sed 's/\r$//' || true
if [ "$st" = 124 ] || [ "$st" = 137 ]; then echo "run.sh: timeout after ${TIMEOUT}s" >&2; exit 124; fi
[ -f "$OUT/rc" ] || { echo "run.sh: the guest gave no exit status (QEMU exit $st)" >&2; exit 125; }
exit "$(cat "$OUT/rc")"
