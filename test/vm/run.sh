#!/bin/bash
# run.sh [--mode type1|noiommu|cdev] [--topology l2fwd|one|loop] [--nic e1000e|igb|mixed|virtio] [--qemu auto|10|system]
#        [--mem MB] [--smp N] [--timeout S] [--out DIR] [--aw-bits N] [--packed on|off] [--virtio-legacy] [--mq N]
#        [--heartbeat S] -- COMMAND
# run.sh [--topology T] [--nic N] --describe
#
# Boots the rig's guest (QEMU TCG, q35; with --mode type1 or cdev also intel-iommu) with the host root read-only
# over 9p, runs COMMAND with bash in the guest (chrooted into the host root, working directory = the out share),
# prints its output and exits with its status (124: timeout, 125: the guest gave no status). The out share is --out
# DIR, or a directory of its own in /var/tmp, removed when the command exits 0 and named on stderr when it fails.
# Networking is QEMU hubs only: nothing reaches the host's network.
#
# NICs (--nic): e1000e (82574L, 8086:10d3; the default), igb (82576, 8086:10c9, QEMU 8+), mixed (pktio port A and
# the kernel NIC on its hub igb, port B and its hub's kernel NIC e1000e). QEMU's igb reserves its SR-IOV VF slots at
# devfn = PF + 0x80 + 2i, so two igb functions sit at least two slots apart; hub 1 moves for --nic igb:
#
#                     e1000e                 igb                    mixed                  MAC
#   hub 0  pktio A    00:03.0 e1000e         00:03.0 igb            00:03.0 igb            52:54:00:00:01:01
#          ns0        00:05.0 e1000e         00:05.0 igb            00:05.0 igb            52:54:00:00:02:01
#   hub 1  pktio B    00:04.0 e1000e         00:07.0 igb            00:04.0 e1000e         52:54:00:00:01:02
#          ns1        00:06.0 e1000e         00:09.0 igb            00:06.0 e1000e         52:54:00:00:02:02
# virtio: virtio-net-pci in every role, at the e1000e slots (modern only: disable-legacy=on; --packed on|off
# chooses the ring layout QEMU offers pktio's two ports, default off, the kernel's NICs keeping split rings, see
# vprops; with the vIOMMU modes iommu_platform=on, so the device's DMA
# goes through the IOMMU as VFIO maps it; --virtio-legacy makes pktio's two ports legacy-only, disable-modern=on,
# for the refusal check). Multi-queue needs a netdev with several queues (hubs have one): with --mq N (virtio, N > 1)
# every NIC gets a multi-queue tap (queues=N; virtio-net-pci mq=on, vectors=2N+2) instead of a hub port, and each
# hub becomes a bridge of taps, all inside a network namespace made for this run (pktiovm<PID>) and deleted after
# it: QEMU runs in that namespace, so still nothing reaches the host's network.
# Topology l2fwd (default): all four. one: pktio A and ns0 (the RSS topology with --nic igb). loop: pktio A and
# pktio B, both on hub 0 (each receives what the other sends).
#
# The guest gets the layout as variables (in COMMAND's environment and in OUT/rig.env; --describe prints them and
# exits without booting): PKTIO_VM_NIC, PKTIO_VM_TOPOLOGY, PKTIO_VM_QEMU_VERSION; PKTIO_VM_PORT_A and
# PKTIO_VM_PORT_B (pktio's BDFs), PKTIO_VM_NS0 and PKTIO_VM_NS1 (the kernel NICs' BDFs), each with _MODEL and _MAC;
# PKTIO_NICS (the pktio BDFs, which guest/prepare.sh hands to vfio-pci) and PKTIO_VM_KERNEL_NICS. Absent roles are
# empty.
#
# More QEMU arguments: PKTIO_VM_QEMU_ARGS (split on spaces).
# --heartbeat S (or PKTIO_VM_HEARTBEAT; default 30, 0 for none): every S seconds the guest writes what each process
# is doing to a second serial port, kept in OUT/heartbeat.log (init.sh says what); a command that runs out of time
# prints the last one, and where the vCPUs were just before the kill. A guest that writes no heartbeat for four
# periods (two minutes at 30) has stalled: run.sh says so, injects an NMI, which the guest kernel answers with a
# panic that prints every task's stack and every CPU's backtrace on the console, and ends the run (status 124)
# without waiting for --timeout.
# QEMU (--qemu, or PKTIO_VM_QEMU): 10 is the QEMU 10 that provision.sh unpacks into the cache, system is the
# host's qemu-system-x86_64 (Debian 12: 7.2, no igb); auto (default) takes 10 when it is provisioned.
set -euo pipefail
C=${PKTIO_VM_CACHE:-/var/cache/pktio-vm}
MODE=type1 TOPO=l2fwd NIC=${PKTIO_VM_NIC:-e1000e} QEMU=${PKTIO_VM_QEMU:-auto} MEM=1536 SMP=2 TIMEOUT=300 OUT= AW=48
PACKED=off VLEGACY=0 MQ=1 HEARTBEAT=${PKTIO_VM_HEARTBEAT:-30}
# PKTIO_VM_TCG_THREAD: single (default) runs all vCPUs on one host thread, multi runs one thread each, with
# multi-threaded TCG's races between vCPU threads (see README: a lost EOI write stalls a guest now and then, and
# an MMIO lookup aborts in iotlb_to_section); only multi gets the second boot below
TCG_THREAD=${PKTIO_VM_TCG_THREAD:-single}
DESCRIBE=0
while [ $# -gt 0 ]; do
    case $1 in
        --mode) MODE=$2; shift ;;
        --topology) TOPO=$2; shift ;;
        --nic) NIC=$2; shift ;;
        --qemu) QEMU=$2; shift ;;
        --mem) MEM=$2; shift ;;
        --smp) SMP=$2; shift ;;
        --timeout) TIMEOUT=$2; shift ;;
        --out) OUT=$2; shift ;;
        --aw-bits) AW=$2; shift ;;
        --packed) PACKED=$2; shift ;;
        --virtio-legacy) VLEGACY=1 ;;
        --mq) MQ=$2; shift ;;
        --heartbeat) HEARTBEAT=$2; shift ;;
        --describe) DESCRIBE=1 ;;
        --) shift; break ;;
        *) break ;;
    esac
    shift
done
case $MODE in type1|cdev|noiommu) ;; *) echo "run.sh: --mode type1, noiommu or cdev" >&2; exit 2 ;; esac
case $TOPO in l2fwd|one|loop) ;; *) echo "run.sh: --topology l2fwd, one or loop" >&2; exit 2 ;; esac
case $NIC in e1000e|igb|mixed|virtio) ;; *) echo "run.sh: --nic e1000e, igb, mixed or virtio" >&2; exit 2 ;; esac
case $PACKED in on|off) ;; *) echo "run.sh: --packed on or off" >&2; exit 2 ;; esac
case $MQ in [1-8]) ;; *) echo "run.sh: --mq 1 to 8" >&2; exit 2 ;; esac
if [ "$MQ" -gt 1 ] && [ "$NIC" != virtio ]; then echo "run.sh: --mq is for --nic virtio" >&2; exit 2; fi
case $TCG_THREAD in single|multi) ;; *) echo "run.sh: PKTIO_VM_TCG_THREAD=single or multi" >&2; exit 2 ;; esac
case $HEARTBEAT in 0|[1-9]|[1-9][0-9]|[1-9][0-9][0-9]) ;; *) echo "run.sh: --heartbeat 0 (none) to 999 seconds" >&2; exit 2 ;; esac

# the layout: role -> hub, slot, model, MAC
declare -A HUB=([A]=0 [NS0]=0 [B]=1 [NS1]=1) SLOT MODEL
declare -A MAC=([A]=52:54:00:00:01:01 [B]=52:54:00:00:01:02 [NS0]=52:54:00:00:02:01 [NS1]=52:54:00:00:02:02)
case $NIC in
    e1000e) SLOT=([A]=03 [B]=04 [NS0]=05 [NS1]=06); MODEL=([A]=e1000e [B]=e1000e [NS0]=e1000e [NS1]=e1000e) ;;
    igb) SLOT=([A]=03 [B]=07 [NS0]=05 [NS1]=09); MODEL=([A]=igb [B]=igb [NS0]=igb [NS1]=igb) ;;
    mixed) SLOT=([A]=03 [B]=04 [NS0]=05 [NS1]=06); MODEL=([A]=igb [B]=e1000e [NS0]=igb [NS1]=e1000e) ;;
    virtio) SLOT=([A]=03 [B]=04 [NS0]=05 [NS1]=06)
        MODEL=([A]=virtio-net-pci [B]=virtio-net-pci [NS0]=virtio-net-pci [NS1]=virtio-net-pci) ;;
esac
case $TOPO in
    l2fwd) ROLES=(A NS0 B NS1) ;;
    one) ROLES=(A NS0) ;;
    loop) ROLES=(A B); HUB[B]=0 ;;   # both pktio ports on one hub: what one sends, the other receives
esac
has() { case " ${ROLES[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
bdf() { has "$1" && echo "0000:00:${SLOT[$1]}.0" || true; }

# which QEMU
Q10_ENV=$C/qemu10/qemu.env
QEMU10_VERSION= QEMU10_BIN= QEMU10_DATA= QEMU10_LIBS=
[ -f "$Q10_ENV" ] && . "$Q10_ENV"
if [ "$QEMU" = auto ]; then
    if [ -n "$QEMU10_BIN" ] && [ -x "$QEMU10_BIN" ]; then QEMU=10; else QEMU=system; fi
fi
case $QEMU in
    10) [ -x "${QEMU10_BIN:-/nonexistent}" ] || { echo "run.sh: QEMU 10 is not provisioned in $C/qemu10: run test/vm/provision.sh as root" >&2; exit 2; }
        QBIN=$QEMU10_BIN QVER=$QEMU10_VERSION ;;
    system) QBIN=$(command -v qemu-system-x86_64 || true)
        [ -n "$QBIN" ] || { echo "run.sh: no qemu-system-x86_64 on this host" >&2; exit 2; }
        QVER=$("$QBIN" --version | sed -n 's/^QEMU emulator version \([0-9][0-9.]*\).*/\1/p') ;;
    *) echo "run.sh: --qemu auto, 10 or system" >&2; exit 2 ;;
esac
if [ "$NIC" != e1000e ] && [ "$NIC" != virtio ] && [ "${QVER%%.*}" -lt 8 ]; then
    echo "run.sh: --nic $NIC needs QEMU 8 or later for igb; this is QEMU $QVER (--qemu 10, after provision.sh)" >&2; exit 2
fi

describe() {
    echo "PKTIO_VM_NIC=$NIC"
    echo "PKTIO_VM_TOPOLOGY=$TOPO"
    echo "PKTIO_VM_QEMU_VERSION=$QVER"
    echo "PKTIO_VM_VIRTIO_PACKED=$([ "$NIC" = virtio ] && echo "$PACKED" || true)"
    echo "PKTIO_VM_VIRTIO_MQ=$([ "$NIC" = virtio ] && echo "$MQ" || true)"
    local r v nics= knics=
    for r in A B NS0 NS1; do
        v=PKTIO_VM_PORT_$r; case $r in NS*) v=PKTIO_VM_$r ;; esac
        if has $r; then
            echo "$v=$(bdf $r)"; echo "${v}_MODEL=${MODEL[$r]}"; echo "${v}_MAC=${MAC[$r]}"
            case $r in NS*) knics="$knics $(bdf $r)" ;; *) nics="$nics $(bdf $r)" ;; esac
        else
            echo "$v="; echo "${v}_MODEL="; echo "${v}_MAC="
        fi
    done
    echo "PKTIO_NICS='${nics# }'"
    echo "PKTIO_VM_KERNEL_NICS='${knics# }'"
}
if [ $DESCRIBE = 1 ]; then describe; exit 0; fi

[ $# -gt 0 ] || { echo "run.sh: no command" >&2; exit 2; }
[ -f "$C/initrd.gz" ] || { echo "run.sh: the rig is not provisioned: run test/vm/provision.sh as root" >&2; exit 2; }
# a directory of its own unless --out names one: removed after a command that exits 0, kept (and named) otherwise
OWN_OUT=0
[ -n "$OUT" ] || { OUT=$(mktemp -d /var/tmp/pktio-vm.XXXXXX); OWN_OUT=1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
describe > "$OUT/rig.env"
{ echo "set -a; . $OUT/rig.env; set +a"; printf '%s\n' "$*"; } > "$OUT/cmd.sh"
rm -f "$OUT/rc"

Q=("$QBIN")
if [ "$QEMU" = 10 ]; then
    # its own pvh.bin, linuxboot_dma.bin and SeaBIOS first (the host's /usr/share/qemu is 7.2's)
    for d in $QEMU10_DATA; do Q+=(-L "$d"); done
fi
Q+=(-accel "tcg,thread=$TCG_THREAD" -cpu max -m "$MEM" -smp "$SMP" -nodefaults -no-user-config
   -display none -serial stdio -no-reboot -kernel "$C/vmlinux" -initrd "$C/initrd.gz"
   -fsdev local,id=host,path=/,security_model=none,readonly=on,multidevs=remap
   -device virtio-9p-pci,fsdev=host,mount_tag=host,addr=0x10
   -fsdev local,id=out,path="$OUT",security_model=none,multidevs=remap
   -device virtio-9p-pci,fsdev=out,mount_tag=out,addr=0x11)
KEEP=$(cd "$(dirname "$0")/../.." && pwd -P)
case "$OUT$KEEP" in *\ *) echo "run.sh: paths with spaces cannot go on the kernel command line" >&2; exit 2 ;; esac
ARGS="console=ttyS0 panic=-1 no_timer_check quiet loglevel=3 pktio.out=$OUT pktio.keep=$KEEP default_hugepagesz=2M"
# an NMI from QEMU's monitor (a stalled guest, see below) panics the guest, which first prints all tasks (0x1), the
# timers (0x4) and every CPU's backtrace (0x40); TCG has no PMU, so no watchdog NMI ever comes uninvited
ARGS="$ARGS sysctl.kernel.unknown_nmi_panic=1 panic_print=0x45 nmi_watchdog=0"
if [ "$HEARTBEAT" != 0 ]; then
    # ttyS1 for the heartbeat, into a host file that QEMU writes (the out share may be what hangs)
    Q+=(-chardev "file,id=hb,path=$OUT/heartbeat.log" -device isa-serial,chardev=hb)
    ARGS="$ARGS pktio.hb=$HEARTBEAT"
fi
if [ "$MODE" = noiommu ]; then
    Q+=(-M q35); ARGS="$ARGS intel_iommu=off"
else
    # aw-bits=48 explicitly: QEMU 7.2's default 39-bit IOVA space is smaller than user addresses (IOVA = VA)
    Q+=(-M q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on,aw-bits=$AW); ARGS="$ARGS intel_iommu=on"
fi
declare -A NETDEV=([A]=pa [B]=pb [NS0]=ka [NS1]=kb)
# virtio-net-pci's properties: modern only (or legacy only for pktio's ports with --virtio-legacy), the ring layout,
# mergeable buffers and EVENT_IDX (QEMU's defaults, written out), the IOMMU honoured under the vIOMMU
vprops() {
    if [ $VLEGACY = 1 ] && { [ "$1" = A ] || [ "$1" = B ]; }; then
        # legacy only: no modern interface, so no packed ring and no IOMMU platform (QEMU refuses both there)
        echo ",disable-modern=on,disable-legacy=off,mrg_rxbuf=on"
        return
    fi
    # packed rings for pktio's ports only: the kernel NICs (Linux 6.12's driver on QEMU 10, with the vIOMMU) are the
    # test's traffic source and sink, not what it tests, and with packed rings ns0's NIC twice stopped sending for
    # good mid-test (frames in flight that the device never completed; a restart of pktio's port did not revive it)
    local packed=off; { [ "$1" = A ] || [ "$1" = B ]; } && packed=$PACKED
    local p=",disable-legacy=on,packed=$packed,mrg_rxbuf=on,event_idx=on"
    [ "$MODE" = noiommu ] || p="$p,iommu_platform=on"
    [ "$MQ" -gt 1 ] && p="$p,mq=on,vectors=$((2 * MQ + 2))"
    echo "$p"
}
# --mq: the run's namespace, one bridge per hub, one multi-queue tap per NIC (made before QEMU attaches to it)
NETNS=
if [ "$MQ" -gt 1 ]; then
    NETNS=pktiovm$$
    ip netns add "$NETNS"
    trap 'ip netns del "$NETNS" 2>/dev/null || true' EXIT
    for h in 0 1; do ip -n "$NETNS" link add "br$h" type bridge; ip -n "$NETNS" link set "br$h" up; done
    for r in "${ROLES[@]}"; do
        ip -n "$NETNS" tuntap add dev "t${NETDEV[$r]}" mode tap multi_queue
        # a tap queue holds txqueuelen frames while QEMU does not read it (its guest ring is full): 500 by default,
        # which a loaded host's TCG guest can fall behind by (the multi-queue test once lost 52 frames before RX)
        ip -n "$NETNS" link set "t${NETDEV[$r]}" txqueuelen 10000
        ip -n "$NETNS" link set "t${NETDEV[$r]}" master "br${HUB[$r]}" up
    done
fi
for r in "${ROLES[@]}"; do
    id=${NETDEV[$r]}
    extra=; [ "$NIC" = virtio ] && extra=$(vprops "$r")
    nd="hubport,id=$id,hubid=${HUB[$r]}"
    [ "$MQ" -gt 1 ] && nd="tap,id=$id,ifname=t$id,script=no,downscript=no,vhost=off,queues=$MQ"
    Q+=(-netdev "$nd" -device "${MODEL[$r]},netdev=$id,addr=0x${SLOT[$r]},mac=${MAC[$r]}$extra")
done
Q+=(-append "$ARGS")
# PKTIO_VM_QEMU_ARGS: more QEMU arguments, split on spaces (the MMIO count of bench/run.ts traces register accesses
# with "-D FILE -trace e1000e_core_read -trace e1000e_core_write")
# shellcheck disable=SC2206
[ -n "${PKTIO_VM_QEMU_ARGS:-}" ] && Q+=($PKTIO_VM_QEMU_ARGS)

pidfile=$OUT/qemu.pid
Q+=(-pidfile "$pidfile" -monitor "unix:$OUT/qemu.mon,server=on,wait=off")
# monitor CMD: runs one command on QEMU's monitor and prints its answer (nothing if QEMU does not answer in 5 s)
monitor() {
    node -e 'const s = require("net").connect(process.argv[1]); let o = "", sent = false;
        const done = () => { s.destroy(); process.stdout.write(o.slice(o.indexOf("\n", o.indexOf(process.argv[2])) + 1).replace(/\(qemu\) $/, "")); };
        const t = setTimeout(done, 5000);
        s.on("data", (d) => { o += d; if (!sent && /\(qemu\) $/.test(o)) { sent = true; s.write(process.argv[2] + "\n"); }
            else if (sent && /\n\(qemu\) $/.test(o)) { clearTimeout(t); done(); } });
        s.on("error", () => {});' "$OUT/qemu.mon" "$1" || true
}
# Where the vCPUs are, said on stderr of a guest that hangs: QEMU's monitor gives each one's RIP (firmware below 1 MiB,
# the kernel at 0xffffffff8..., randomised by KASLR) and whether it halted
vcpus() {
    monitor "info registers -a" | awk '/^CPU#[0-9]+/ { cpu = $1 } match($0, /^RIP=[^ ]+/) { rip = substr($0, RSTART, RLENGTH); h = $0; sub(/.*HLT=/, "HLT=", h); print "run.sh: " cpu ": " rip " " substr(h, 1, 5) }' >&2
}
# The local APICs of a stalled guest, twice a second apart: the timer (LVTT, counts), the vectors in service and
# pending (ISR, IRR) and the priorities. A vCPU whose timer interrupt waits in IRR behind a vector in service that
# never ends takes no tick: its sleepers never wake, and a thread polling in user space runs on alone
lapics() {
    local n
    for snap in 1 2; do
        for n in $(seq 0 $((SMP - 1))); do
            monitor "info lapic $n" | tr -d '\r' | awk -v n="$n" -v s="$snap" '$1 ~ /^(LVTT|Timer|ISR|IRR|APR)$/ { $1 = $1; l = l (l ? "; " : "") $0 }
                END { print "run.sh: APIC " n " (look " s "): " l }' >&2
        done
        sleep 1
    done
}
# The 9p shares' request queues as QEMU sees them (a guest process waiting in p9_client_rpc: is its request still in
# QEMU's 9p server (inuse > 0), or answered and signalled (used_idx = signalled_used) and the interrupt not taken?)
shares() {
    local d
    for d in 0 1; do
        monitor "info virtio-queue-status /machine/peripheral-anon/device[$d]/virtio-backend 0" | tr -d '\r' |
            awk -v d="$d" '$1 ~ /^(inuse|used_idx|signalled_used|last_avail_idx|shadow_avail_idx):$/ { l = l " " $1 " " $2 }
                END { print "run.sh: 9p share " (d == 0 ? "host" : "out") " queue 0:" l }' >&2
    done
}
stop() {
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    if [ -n "$NETNS" ]; then
        # what the host side dropped: a tap whose queue overflowed while QEMU did not read it (host_tNAME_tx_dropped)
        # and what each tap carried: rx = frames its QEMU NIC sent, tx = frames the bridge gave it for that NIC
        ip netns exec "$NETNS" sh -c 'for d in /sys/class/net/t*; do for c in tx_dropped rx_packets tx_packets; do
            echo "host_${d##*/}_$c=$(cat "$d/statistics/$c")"; done; done' 2>/dev/null || true
        sleep 0.5; ip netns del "$NETNS" 2>/dev/null || true
    fi
}
trap stop EXIT
trap 'exit 130' INT TERM
ENVS=()
[ "$QEMU" = 10 ] && [ -n "$QEMU10_LIBS" ] && ENVS=(LD_LIBRARY_PATH="$QEMU10_LIBS")
IN=(); [ -n "$NETNS" ] && IN=(ip netns exec "$NETNS")
# With multi-threaded TCG, a QEMU that dies of a signal before the guest's init has marked the out share
# (OUT/started) is started once more, and so is one that aborts in iotlb_to_section at any time (at boot, 1 in ~100
# here; once 6 s into a command), and one whose guest has not reached its command after BOOT_LIMIT seconds (a boot
# reaches it in 7 to 10 s here; one of a few hundred stayed silent for the whole 480 s of its test). All three came
# from QEMU's races between vCPU threads; single-threaded TCG has none, so there each of them fails the run, with
# what was seen. Each is said on stderr, with the time.
BOOT_LIMIT=${PKTIO_VM_BOOT_LIMIT:-120}
TRIES=1; [ "$TCG_THREAD" = multi ] && TRIES=2
for try in $(seq 1 $TRIES); do
    rm -f "$OUT/started" "$OUT/rc"
    set +e
    "${IN[@]}" env "${ENVS[@]}" timeout -k 5 "$TIMEOUT" "${Q[@]}" < /dev/null > "$OUT/console.log" 2>&1 &
    qpid=$!
    t0=$SECONDS hung=0 stalled=0
    while kill -0 $qpid 2>/dev/null && [ ! -e "$OUT/started" ]; do
        if [ $((SECONDS - t0)) -ge "$BOOT_LIMIT" ]; then hung=1; vcpus; kill "$(cat "$pidfile")" 2>/dev/null; break; fi
        sleep 1
    done
    boot=$((SECONDS - t0))
    # a command that runs out of time: where the vCPUs are, 10 s before timeout(1) ends QEMU. A guest whose heartbeat
    # stopped: the same, then its kernel's account of every task (an NMI, answered with a panic), then the end
    while [ $hung = 0 ] && kill -0 $qpid 2>/dev/null; do
        if [ $((SECONDS - t0)) -ge $((TIMEOUT - 10)) ]; then vcpus; lapics; shares; break; fi
        if [ "$HEARTBEAT" != 0 ] && [ -e "$OUT/heartbeat.log" ]; then
            stalled=$(($(date +%s) - $(stat -c %Y "$OUT/heartbeat.log")))
            if [ $stalled -ge $((4 * HEARTBEAT)) ]; then
                echo "run.sh: the guest stalled: no heartbeat for ${stalled}s (every ${HEARTBEAT}s), $((SECONDS - t0))s after QEMU started" >&2
                vcpus
                lapics
                shares
                echo "run.sh: an NMI for the guest's account of its tasks and CPUs (on its console, below)" >&2
                monitor nmi > /dev/null
                for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 $qpid 2>/dev/null || break; sleep 1; done
                [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
                break
            fi
            stalled=0
        fi
        sleep 1
    done
    wait $qpid
    st=$?
    set -e
    if [ $hung = 1 ]; then
        echo "run.sh: the guest had not reached its command after ${boot}s (QEMU exit $st; console: $(grep -v -c -E 'warning|terminating' "$OUT/console.log" || true) lines)" >&2
    elif [ ! -e "$OUT/started" ] && [ "$st" -gt 128 ] && [ "$st" != 137 ]; then
        echo "run.sh: QEMU died before the guest command started (exit $st: $(grep -m1 -E 'Assertion|qemu-system' "$OUT/console.log" | grep -v warning || true))" >&2
    elif [ "$st" = 134 ] && grep -q 'iotlb_to_section: Assertion' "$OUT/console.log"; then
        # QEMU's own race (its issue 1921): a vCPU thread of multi-threaded TCG looks up an MMIO access in a memory
        # map that another thread has just replaced (a BAR enabled by a driver bind, a vIOMMU remap). Nothing the
        # guest does is wrong there; with multi a fresh boot runs the command from its start (the guest scripts
        # overwrite their files in the out share), single-threaded TCG should never get here and fails the run
        echo "run.sh: QEMU aborted after $((SECONDS - t0))s in iotlb_to_section (QEMU issue 1921, a race between the vCPU threads of multi-threaded TCG; this guest ran ${TCG_THREAD}-threaded), not the guest's doing" >&2
    else
        if [ "$st" = 124 ] || [ "$st" = 137 ]; then
            echo "run.sh: the guest reached its command after ${boot}s; the command then ran out of time" >&2
        elif [ $stalled != 0 ]; then
            echo "run.sh: the guest reached its command after ${boot}s; it then stalled (QEMU exit $st)" >&2
        fi
        break
    fi
    [ "$try" -lt "$TRIES" ] || break
    mv "$OUT/console.log" "$OUT/console.1.log"
    echo "run.sh: booting once more" >&2
done
# the console carries the command's output; a stalled guest's panic (below) is summed up on stderr instead
grep -v -E '^(SeaBIOS|Booting|iPXE|$)' "$OUT/console.log" | sed 's/\r$//' | sed '/NMI received for unknown reason/,$d' || true
rc=$(cat "$OUT/rc" 2>/dev/null || true)
if [ $hung = 1 ]; then echo "run.sh: timeout: the guest never reached its command ($TRIES boot(s))" >&2; rc=124
elif [ "$st" = 124 ] || [ "$st" = 137 ] || [ $stalled != 0 ]; then
    if [ $stalled != 0 ]; then echo "run.sh: stalled: no heartbeat for ${stalled}s" >&2; else echo "run.sh: timeout after ${TIMEOUT}s" >&2; fi
    rc=124
    if grep -q 'Kernel panic - not syncing: NMI' "$OUT/console.log"; then
        # the CPUs' backtraces and every task that was running or in uninterruptible sleep, without registers
        echo "run.sh: the guest kernel's answer to the NMI (all of it, every task and the timers, in $OUT/console.log):" >&2
        sed 's/\r$//' "$OUT/console.log" | awk '
            /NMI backtrace for cpu|Kernel panic/ { blk = 1 }
            /task:.* state:[DR] / { blk = 1 }
            /task:.* state:[SITXPZ] / { blk = 0 }
            blk && !/(RAX|RDX|RBP|R10|R13|RSP): |Code: |CR0: |CS: |FS: |PKRU|Hardware name|Kernel Offset/ { sub(/^\[ *[0-9.]+\] /, ""); print }
            /<\/TASK>/ { blk = 0 }' | head -200 >&2
    fi
    if [ -s "$OUT/heartbeat.log" ]; then
        echo "run.sh: the guest's last heartbeat (every ${HEARTBEAT}s; all of them in $OUT/heartbeat.log):" >&2
        sed 's/\r$//' "$OUT/heartbeat.log" | awk '/^=== heartbeat/ { last = "" } { last = last $0 "\n" } END { printf "%s", last }' >&2
    elif [ "$HEARTBEAT" != 0 ]; then
        echo "run.sh: the guest wrote no heartbeat (every ${HEARTBEAT}s)" >&2
    fi
elif [ -z "$rc" ]; then echo "run.sh: the guest gave no exit status (QEMU exit $st)" >&2; rc=125
fi
if [ "$rc" = 0 ] && [ $OWN_OUT = 1 ]; then rm -rf "$OUT"; elif [ "$rc" != 0 ]; then echo "run.sh: the guest's files (console.log, ...) are in $OUT" >&2; fi
exit "$rc"
