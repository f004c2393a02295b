#!/bin/bash
# In the guest: l2fwd-e2e.sh MODE [jumbo]. l2fwd bridges pktio's two ports (run.sh's PKTIO_VM_PORT_A / _B: any NIC
# model) through VFIO; ns0 and ns1 talk through it. With "jumbo": MTU 9000 on the kernel NICs, l2fwd with
# --max-pkt-len 9018, a ping that must not fragment, and 1,000 UDP datagrams of 8,000 bytes.
# Prints KEY=VALUE lines that test/vm/l2fwd.vm.ts checks.
set -u
MODE=$1
JUMBO=${2:-}
G=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$G/../../.." && pwd)
A=${PKTIO_VM_PORT_A:-0000:00:03.0} B=${PKTIO_VM_PORT_B:-0000:00:04.0}
[ -n "${PKTIO_VM_PREPARED:-}" ] || bash "$G/prepare.sh" "$MODE" || { echo "prepare_failed=1"; exit 1; }
sysctl -qw net.core.rmem_max=33554432
case $MODE in
    type1) EAL=(--vfio-flow legacy) FLOW=legacy ;;
    cdev) EAL=(--vfio-flow cdev) FLOW=cdev ;;
    noiommu) EAL=(--vfio-noiommu) FLOW=legacy ;;
esac
# the kernel NICs' rings at their largest: QEMU's igb drops a frame that finds its receiver's ring full, and the
# kernel drains it slowly under emulation while the other vCPU polls for pktio
for ns in ns0 ns1; do ip netns exec $ns ethtool -G eth0 rx 4096 tx 4096 > /dev/null 2>&1 || true; done
# the kernel's counters at the start: a phase of nic-suite.sh may follow another in the same guest, and the checks
# compare what this run of l2fwd counted with what the kernel counted meanwhile
udp_in() { ip netns exec ns1 awk '/^Udp:/ { if (h) print $2 " " $6; h = 1 }' /proc/net/snmp; }
nic_stat() { ip netns exec "$1" cat "/sys/class/net/eth0/statistics/$2"; }
declare -A BEFORE
for ns in ns0 ns1; do for c in rx_packets tx_packets rx_missed_errors; do BEFORE[$ns.$c]=$(nic_stat $ns $c); done; done
read -r UDP_IN0 UDP_RCVBUF0 < <(udp_in)
APP=()
if [ "$JUMBO" = jumbo ]; then
    APP=(--max-pkt-len 9018)
    for ns in ns0 ns1; do ip netns exec $ns ip link set eth0 mtu 9000; done
fi
node "$ROOT/dist/examples/l2fwd/main.js" -l 0,1 -a $A -a $B "${EAL[@]}" -m 128 --log-level info --log-format json -- \
    -q 2 --no-mac-updating -P -T 0 "${APP[@]}" > l2fwd.log 2>&1 &
L2=$!
for i in $(seq 1 120); do grep -q 'L2FWD:' l2fwd.log && break; kill -0 $L2 2>/dev/null || break; sleep 0.5; done
grep -q 'L2FWD:' l2fwd.log || { echo "l2fwd_started=0"; cat l2fwd.log; exit 1; }
echo "l2fwd_started=1"
sed -n 's/.*"iommu":"\([a-z0-9]*\)".*"flows":\["\([a-z]*\)".*/iommu=\1\nflow=\2/p' l2fwd.log | head -2
sed -n 's/.*"iova":"\([a-z]*\)".*/iova=\1/p' l2fwd.log | head -1
for ns in ns0 ns1; do
    for i in $(seq 1 50); do [ "$(ip netns exec $ns cat /sys/class/net/eth0/operstate)" = up ] && break; sleep 0.2; done
done
# pktio's links as l2fwd saw them after its link check (up to 9 s, as DPDK's l2fwd)
sed -n 's/^Port \([0-9]*\) Link \([a-z]*\).*/link_port\1=\2/p' l2fwd.log
ip netns exec ns0 ping -c 3 -W 3 10.99.0.2 > ping.log 2>&1
PING_RC=$?
echo "ping_rc=$PING_RC"
[ $PING_RC = 0 ] || { sed 's/^/ping.log: /' ping.log; ip netns exec ns0 ip neigh show | sed 's/^/ns0 neigh: /'; }
COUNT=10000 SIZE=64
if [ "$JUMBO" = jumbo ]; then
    # 8972 bytes of ICMP payload + 28 of headers = a 9000-byte IP packet, DF set: it crosses whole or not at all
    ip netns exec ns0 ping -c 3 -W 3 -s 8972 -M do 10.99.0.2 > ping-jumbo.log 2>&1
    echo "ping_jumbo_rc=$?"
    COUNT=1000 SIZE=8000
fi
ip netns exec ns1 node "$G/udp.mjs" recv 9999 $COUNT 90 > recv.log 2>&1 &
R=$!
for i in $(seq 1 50); do grep -q listening recv.log && break; sleep 0.2; done
ip netns exec ns0 node "$G/udp.mjs" send 10.99.0.2 9999 $COUNT $SIZE
wait $R
grep -E '^(received|received_distinct|intact)=' recv.log
sleep 1
# UDP datagrams the receiving stack got (delivered to the socket, or dropped for a full socket buffer)
read -r UDP_IN UDP_RCVBUF < <(udp_in)
echo "ns1_udp_in=$((UDP_IN - UDP_IN0))"
echo "ns1_udp_rcvbuf_errors=$((UDP_RCVBUF - UDP_RCVBUF0))"
# quiesce before counting: the neighbours made permanent (no more ARP probes from either kernel), then a second for
# frames in flight to land while l2fwd still forwards; only then the kernel NICs' counters, then l2fwd stops
mac_of() { ip netns exec "$1" cat /sys/class/net/eth0/address; }
ip netns exec ns0 ip neigh replace 10.99.0.2 lladdr "$(mac_of ns1)" nud permanent dev eth0
ip netns exec ns1 ip neigh replace 10.99.0.1 lladdr "$(mac_of ns0)" nud permanent dev eth0
sleep 1
for ns in ns0 ns1; do
    for c in rx_packets tx_packets rx_missed_errors; do echo "${ns}_$c=$(($(nic_stat $ns $c) - BEFORE[$ns.$c]))"; done
done
kill -INT $L2
wait $L2
echo "l2fwd_rc=$?"
# the final statistics block: port N sent/received
awk '/Statistics for port/ {p=$4} /Packets sent:/ {s[p]=$3} /Packets received:/ {r[p]=$3} /Packets dropped:/ {d[p]=$3}
     END {for (k in s) printf "pktio_port%s_tx=%s\npktio_port%s_rx=%s\npktio_port%s_drop=%s\n", k, s[k], k, r[k], k, d[k]}' l2fwd.log
grep -q 'Bye' l2fwd.log && echo "l2fwd_bye=1"
grep -q 'not returned' l2fwd.log && echo "mbufs_lost=1"
FLOW=$FLOW node "$G/readback.mjs" $A $B
