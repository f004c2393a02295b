#!/bin/bash
# In the guest: l2fwd-e2e.sh MODE. l2fwd bridges 00:03.0 and 00:04.0 through VFIO; ns0 and ns1 talk through it.
# Prints KEY=VALUE lines that test/vm/l2fwd.vm.ts checks.
set -u
MODE=$1
G=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$G/../../.." && pwd)
A=0000:00:03.0 B=0000:00:04.0
bash "$G/prepare.sh" "$MODE" || { echo "prepare_failed=1"; exit 1; }
sysctl -qw net.core.rmem_max=33554432
case $MODE in
    type1) EAL=(--vfio-flow legacy) FLOW=legacy ;;
    cdev) EAL=(--vfio-flow cdev) FLOW=cdev ;;
    noiommu) EAL=(--vfio-noiommu) FLOW=legacy ;;
esac
node "$ROOT/dist/examples/l2fwd/main.js" -l 0,1 -a $A -a $B "${EAL[@]}" -m 128 --log-level info -- \
    -q 2 --no-mac-updating -P -T 0 > l2fwd.log 2>&1 &
L2=$!
for i in $(seq 1 120); do grep -q 'L2FWD:' l2fwd.log && break; kill -0 $L2 2>/dev/null || break; sleep 0.5; done
grep -q 'L2FWD:' l2fwd.log || { echo "l2fwd_started=0"; cat l2fwd.log; exit 1; }
echo "l2fwd_started=1"
sed -n 's/.*"iommu":"\([a-z0-9]*\)".*"flows":\["\([a-z]*\)".*/iommu=\1\nflow=\2/p' l2fwd.log | head -2
sed -n 's/.*"iova":"\([a-z]*\)".*/iova=\1/p' l2fwd.log | head -1
for ns in ns0 ns1; do
    for i in $(seq 1 50); do [ "$(ip netns exec $ns cat /sys/class/net/eth0/operstate)" = up ] && break; sleep 0.2; done
done
ip netns exec ns0 ping -c 3 -W 3 10.99.0.2 > ping.log 2>&1
echo "ping_rc=$?"
ip netns exec ns1 node "$G/udp.mjs" recv 9999 10000 60 > recv.log 2>&1 &
R=$!
for i in $(seq 1 50); do grep -q listening recv.log && break; sleep 0.2; done
ip netns exec ns0 node "$G/udp.mjs" send 10.99.0.2 9999 10000
wait $R
grep received recv.log
sleep 1
# UDP datagrams the receiving stack got (delivered to the socket, or dropped for a full socket buffer)
ip netns exec ns1 awk '/^Udp:/ { if (h) { print "ns1_udp_in=" $2; print "ns1_udp_rcvbuf_errors=" $6 } h = 1 }' /proc/net/snmp
for ns in ns0 ns1; do
    for c in rx_packets tx_packets; do echo "${ns}_$c=$(ip netns exec $ns cat /sys/class/net/eth0/statistics/$c)"; done
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
