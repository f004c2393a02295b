#!/bin/bash
# In the guest: l2fwd-e2e.sh MODE [jumbo]. l2fwd bridges pktio's two ports (run.sh's PKTIO_VM_PORT_A / _B: any NIC
# model) through VFIO; ns0 and ns1 talk through it. With "jumbo": MTU 9000 on the kernel NICs, l2fwd with
# --max-pkt-len 9018, a ping that must not fragment, and 1,000 UDP datagrams of 8,000 bytes.
# Prints KEY=VALUE lines that test/vm/l2fwd.vm.ts checks.
set -u
MODE=$1
JUMBO=${2:-}
G=$(cd "$(dirname "$0")" && pwd)
. "$G/l2fwd-lib.sh"
l2fwd_setup "$MODE" "$([ "$JUMBO" = jumbo ] && echo 1 || echo 0)" || exit 1
# the kernel's counters at the start (after the MTU change of l2fwd_setup): a phase of nic-suite.sh may follow another
# in the same guest, and the checks compare what this run of l2fwd counted with what the kernel counted meanwhile
udp_in() { ip netns exec ns1 awk '/^Udp:/ { if (h) print $2 " " $6; h = 1 }' /proc/net/snmp; }
declare -A BEFORE
for ns in ns0 ns1; do for c in rx_packets tx_packets rx_missed_errors; do BEFORE[$ns.$c]=$(nic_stat $ns $c); done; done
read -r UDP_IN0 UDP_RCVBUF0 < <(udp_in)
l2fwd_start l2fwd.log -q 2 --no-mac-updating -P -T 0 "${APP[@]}" || exit 1
echo "secs_started=$SECONDS"
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
echo "secs_udp=$SECONDS"
grep -E '^(received|received_distinct|intact)=' recv.log
# datagrams missing: what each kernel NIC's queues hold (a sender's TX queue that stopped moving shows here as a
# qdisc backlog, bytes in flight under BQL and a TX timeout count; a receiver's as missed frames)
if [ "$(sed -n 's/^received=//p' recv.log)" != "$COUNT" ]; then
    for ns in ns0 ns1; do
        ip netns exec $ns ethtool -S eth0 2>/dev/null | sed "s/^ */diag $ns ethtool: /"
        ip netns exec $ns tc -s qdisc show dev eth0 | sed "s/^/diag $ns qdisc: /"
        ip netns exec $ns sh -c 'for q in /sys/class/net/eth0/queues/tx-*; do
            echo "$(basename $q) bql_inflight=$(cat $q/byte_queue_limits/inflight 2>/dev/null) bql_limit=$(cat $q/byte_queue_limits/limit 2>/dev/null) tx_timeout=$(cat $q/tx_timeout 2>/dev/null)"
        done' | sed "s/^/diag $ns /"
    done
    # the kernel NICs' interrupt counts (virtio: one vector per queue): a TX queue whose completions were written but
    # never signalled shows an output vector that stopped counting
    grep -E 'virtio|eth' /proc/interrupts | sed 's/^/diag irq: /'
fi
sleep 1
# UDP datagrams the receiving stack got (delivered to the socket, or dropped for a full socket buffer)
read -r UDP_IN UDP_RCVBUF < <(udp_in)
echo "ns1_udp_in=$((UDP_IN - UDP_IN0))"
echo "ns1_udp_rcvbuf_errors=$((UDP_RCVBUF - UDP_RCVBUF0))"
# quiesce before counting: the neighbours made permanent (no more ARP probes from either kernel), then a second for
# frames in flight to land while l2fwd still forwards; only then the kernel NICs' counters, then l2fwd stops
neigh_permanent
sleep 1
for ns in ns0 ns1; do
    for c in rx_packets tx_packets rx_missed_errors; do echo "${ns}_$c=$(($(nic_stat $ns $c) - BEFORE[$ns.$c]))"; done
done
l2fwd_stop l2fwd.log
echo "secs_stopped=$SECONDS"
FLOW=$FLOW node "$G/readback.mjs" $A $B
echo "secs_readback=$SECONDS"
