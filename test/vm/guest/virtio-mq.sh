#!/bin/bash
# In the guest (run.sh --nic virtio --mq 2): virtio-mq.sh MODE. pktio's testpmd with --rxq=2 --txq=2 in io mode
# between pktio's two virtio ports (2 queue pairs negotiated through VIRTIO_NET_CTRL_MQ), ns0 sending 8 UDP flows
# to ns1 through it; the multi-queue taps behind QEMU spread the flows over the RX queues.
# Prints KEY=VALUE lines: testpmd's per-stream RX counts (stream_rxP_qQ), the kernel's counters, the exit status.
set -u
MODE=$1
G=$(cd "$(dirname "$0")" && pwd)
. "$G/l2fwd-lib.sh" # ROOT, A, B, l2fwd_eal, nic_stat
bash "$G/prepare.sh" "$MODE" || { echo "prepare_failed=1"; exit 1; }
l2fwd_eal "$MODE" || exit 1
node "$ROOT/dist/examples/testpmd/main.js" -l 0,1 -a "$A" -a "$B" "${EAL[@]}" -m 128 --log-level info -- \
    --rxq=2 --txq=2 --forward-mode=io --duration 300 > testpmd.log 2>&1 &
TP=$!
for i in $(seq 1 120); do grep -q 'packet forwarding - ports=' testpmd.log && break; kill -0 $TP 2>/dev/null || break; sleep 0.5; done
grep -q 'packet forwarding - ports=' testpmd.log && echo "testpmd_started=1" || { echo "testpmd_started=0"; cat testpmd.log; exit 1; }
# the kernel ends' counters from here on: what they exchange through testpmd only
ns1_rx0=$(nic_stat ns1 rx_packets)
ns0_tx0=$(nic_stat ns0 tx_packets)
ip netns exec ns0 ping -c 3 -W 3 10.99.0.2 > ping.log 2>&1
echo "ping_rc=$?"
for p in 0 1 2 3 4 5 6 7; do ip netns exec ns0 node "$G/udp.mjs" send 10.99.0.2 $((9000 + p)) 500 64 > /dev/null & done
wait $(jobs -p | grep -v "^$TP$") 2>/dev/null
# frames still on their way (a loaded host runs the TCG guest slowly): wait until ns1 has as many as ns0 sent, or
# 15 s; then the counts, and what each host tap carried (run.sh prints host_t*_{rx,tx}_packets) says where a loss was
ns0_tx=$(($(nic_stat ns0 tx_packets) - ns0_tx0))
for i in $(seq 1 30); do [ $(($(nic_stat ns1 rx_packets) - ns1_rx0)) -ge $ns0_tx ] && break; sleep 0.5; done
echo "ns0_tx_packets=$(nic_stat ns0 tx_packets)"
echo "ns0_tx_delta=$ns0_tx"
echo "ns1_rx_delta=$(($(nic_stat ns1 rx_packets) - ns1_rx0))"
kill -INT $TP
wait $TP
echo "testpmd_rc=$?"
# "Forward Stats for RX Port= 0/Queue= 1 -> ..." then "RX-packets: N"
awk '/Forward Stats for RX Port=/ { split($0, a, /Port=|\/Queue=| -> /); p = a[2] + 0; q = a[3] + 0; getline;
     print "stream_rx" p "_q" q "=" $2 }' testpmd.log
grep -E 'Forward Stats|RX-packets|TX-packets' testpmd.log | sed 's/^/# /'
# what testpmd counted as dropped per port: a burst its TX queue refused (a full ring: QEMU's TX lags on a busy host)
awk '/Forward statistics for port/ { for (i = 1; i <= NF; i++) if ($i == "port") p = $(i + 1) }
     /TX-dropped:/ && p != "" { for (i = 1; i <= NF; i++) if ($i == "TX-dropped:") print "port" p "_tx_dropped=" $(i + 1); p = "" }' testpmd.log
grep -m1 -o 'queue pairs[^"]*' testpmd.log | sed 's/^/# /'
