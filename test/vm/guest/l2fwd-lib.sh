# In the guest, sourced by the guest scripts that drive pktio's ports (l2fwd-e2e.sh, mixed-traffic.sh, kill-e2e.sh,
# intr-e2e.sh, nic-features.sh, virtio-mq.sh, virtio-intr.sh): examples/l2fwd between ns0 and ns1 over pktio's two
# ports (run.sh's PKTIO_VM_PORT_A / _B), and the kernel's counters to compare with pktio's.
#   l2fwd_eal MODE            sets EAL (pktio's VFIO flags for MODE) and FLOW (readback.mjs's flow)
#   l2fwd_setup MODE JUMBO    the set-up before l2fwd of l2fwd-e2e.sh and mixed-traffic.sh: l2fwd_eal, prepare.sh
#                             (unless PKTIO_VM_PREPARED), the socket buffer limit, kernel_rings_max; JUMBO=1: MTU
#                             9000 on the kernel NICs and APP=(--max-pkt-len 9018) for l2fwd, else APP=(); returns 1
#                             (prepare_failed=1 printed when prepare.sh failed) if the guest cannot run l2fwd
#   nic_stat NS COUNTER       a counter of NS's eth0 from /sys/class/net/eth0/statistics
#   mac_of NS                 the MAC of NS's eth0
#   kernel_rings_max          the kernel NICs' rings at their largest
#   l2fwd_start LOG ARGS...   starts l2fwd with ARGS after "--" (EAL already set), L2 = its pid; waits until it
#                             forwards, prints l2fwd_started, iommu, flow, iova and link_portN; returns 1 if it did not start
#   neigh_permanent           both neighbour entries permanent: no more ARP from either kernel
#   l2fwd_stop LOG            SIGINT, wait, prints l2fwd_rc, pktio_portN_tx/rx/drop (l2fwd's last statistics),
#                             l2fwd_bye, mbufs_lost
#   app_wait LOG PID [SECS]   waits up to SECS (60) for an l2fwd-style app (l2fwd, l2fwd-power) to print 'L2FWD:';
#                             returns 1 if it exited or never did
#   links_up                  waits up to 10 s for ns0's and ns1's eth0 to be up
#   port_stats LOG PREFIX     PREFIXportN_tx/rx/drop from the app's last "Statistics for port" block
#   msix_irqs BDF             interrupts the kernel took on the function's VFIO MSI-X vectors (/proc/interrupts)
G=${G:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
ROOT=${ROOT:-$(cd "$G/../../.." && pwd)}
A=${PKTIO_VM_PORT_A:-0000:00:03.0} B=${PKTIO_VM_PORT_B:-0000:00:04.0}

l2fwd_eal() {
    case $1 in
        type1) EAL=(--vfio-flow legacy) FLOW=legacy ;;
        cdev) EAL=(--vfio-flow cdev) FLOW=cdev ;;
        noiommu) EAL=(--vfio-noiommu) FLOW=legacy ;;
        *) echo "unknown mode '$1': type1, cdev or noiommu" >&2; return 1 ;;
    esac
}

nic_stat() { ip netns exec "$1" cat "/sys/class/net/eth0/statistics/$2"; }
mac_of() { ip netns exec "$1" cat /sys/class/net/eth0/address; }

# QEMU's e1000e and igb drop a frame that finds its receiver's ring full, and the kernel drains it slowly under
# emulation while the other vCPU polls for pktio
kernel_rings_max() {
    local ns
    for ns in ns0 ns1; do ip netns exec $ns ethtool -G eth0 rx 4096 tx 4096 > /dev/null 2>&1 || true; done
}

l2fwd_setup() {
    local ns
    l2fwd_eal "$1" || return 1
    [ -n "${PKTIO_VM_PREPARED:-}" ] || bash "$G/prepare.sh" "$1" || { echo "prepare_failed=1"; return 1; }
    # room for the UDP receivers' socket buffers (udp.mjs, udp-mix.mjs ask for large ones)
    sysctl -qw net.core.rmem_max=33554432
    kernel_rings_max
    APP=()
    [ "$2" = 1 ] || return 0
    APP=(--max-pkt-len 9018)
    for ns in ns0 ns1; do ip netns exec $ns ip link set eth0 mtu 9000; done
}

app_wait() {
    local i
    for i in $(seq 1 $((${3:-60} * 2))); do grep -q 'L2FWD:' "$1" && return 0; kill -0 "$2" 2>/dev/null || break; sleep 0.5; done
    grep -q 'L2FWD:' "$1"
}

links_up() {
    local ns i
    for ns in ns0 ns1; do
        for i in $(seq 1 50); do [ "$(ip netns exec $ns cat /sys/class/net/eth0/operstate)" = up ] && break; sleep 0.2; done
    done
}

port_stats() {
    awk -v pre="$2" '/Statistics for port/ {p=$4} /Packets sent:/ {s[p]=$3} /Packets received:/ {r[p]=$3} /Packets dropped:/ {d[p]=$3}
        END {for (k in s) printf "%sport%s_tx=%s\n%sport%s_rx=%s\n%sport%s_drop=%s\n", pre, k, s[k], pre, k, r[k], pre, k, d[k]}' "$1"
}

msix_irqs() { awk -v b="$1" 'index($0, "vfio-msix") && index($0, b) { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' /proc/interrupts; }

l2fwd_start() {
    local log=$1
    shift
    node "$ROOT/dist/examples/l2fwd/main.js" -l 0,1 -a "$A" -a "$B" "${EAL[@]}" -m 128 --log-level info --log-format json -- \
        "$@" > "$log" 2>&1 &
    L2=$!
    app_wait "$log" $L2 || { echo "l2fwd_started=0"; cat "$log"; return 1; }
    echo "l2fwd_started=1"
    sed -n 's/.*"iommu":"\([a-z0-9]*\)".*"flows":\["\([a-z]*\)".*/iommu=\1\nflow=\2/p' "$log" | head -2
    sed -n 's/.*"iova":"\([a-z]*\)".*/iova=\1/p' "$log" | head -1
    # virtio: each port's negotiated ring layout (split or packed), in port order
    grep -q '"virtio-net started"' "$log" && echo "rings=$(sed -n 's/.*"ring":"\([a-z]*\)".*virtio-net started.*/\1/p' "$log" | paste -sd,)"
    links_up
    # pktio's links as l2fwd saw them after its link check (up to 9 s, as DPDK's l2fwd)
    sed -n 's/^Port \([0-9]*\) Link \([a-z]*\).*/link_port\1=\2/p' "$log"
}

neigh_permanent() {
    ip netns exec ns0 ip neigh replace 10.99.0.2 lladdr "$(mac_of ns1)" nud permanent dev eth0
    ip netns exec ns1 ip neigh replace 10.99.0.1 lladdr "$(mac_of ns0)" nud permanent dev eth0
}

l2fwd_stop() {
    local log=$1
    kill -INT $L2
    wait $L2
    echo "l2fwd_rc=$?"
    port_stats "$log" pktio_
    grep -q 'Bye' "$log" && echo "l2fwd_bye=1"
    grep -q 'not returned' "$log" && echo "mbufs_lost=1"
}
