#!/bin/bash
# In the guest: bench-nic.sh SECONDS [both|pktio|dpdk] [ROUNDS]. pktio's l2fwd loop, then DPDK testpmd (io
# forwarding, the em, igb or virtio PMD), on the same two ports of one hub (run.sh --topology loop, any --nic),
# SECONDS each; ROUNDS times (default 1), alternating, so that a slow spell of the host falls on both sides.
# Prints, per round, pktio_mpps= / pktio_packets= and dpdk_mpps= / dpdk_packets= (frames forwarded in the measured
# window).
set -u
SECONDS_EACH=${1:-10}
WHICH=${2:-both}
ROUNDS=${3:-1}
G=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$G/../../.." && pwd)
A=${PKTIO_VM_PORT_A:-0000:00:03.0} B=${PKTIO_VM_PORT_B:-0000:00:04.0}
PKTIO_NICS="$A $B" bash "$G/prepare.sh" type1 > /dev/null || { echo prepare_failed=1; exit 1; }
pktio_round() {
    node "$ROOT/dist/bench/nic-guest.js" "$SECONDS_EACH" || echo pktio_failed=1
}
dpdk_round() {
    ( sleep 8; echo 'start tx_first'; sleep 3; echo 'show port stats all'; sleep "$SECONDS_EACH"; echo 'show port stats all';
      sleep 1; echo stop; echo quit ) |
        dpdk-testpmd -l 0,1 -n 1 --huge-dir /dev/hugepages -m 256 --file-prefix bench -a "$A" -a "$B" \
            -- -i --forward-mode=io --burst=32 > testpmd.log 2>&1
    # Rx-pps of both ports over the window, and the TX-packets counters at its two ends
    awk '
        /TX-packets:/ { tx[++ntx] = $2 }
        /Throughput \(since last show\)/ { getline; if ($1 == "Rx-pps:") { n++; v[n] = $2 } }
        END {
            if (n >= 4) printf "dpdk_mpps=%.6f\n", (v[n] + v[n-1]) / 1e6; else print "dpdk_failed=1"
            if (ntx >= 4) printf "dpdk_packets=%d\n", (tx[ntx] + tx[ntx-1]) - (tx[ntx-2] + tx[ntx-3])
        }' testpmd.log
    grep -m1 -E 'net_e1000_(em|igb)|Probe PCI driver' testpmd.log | sed 's/^/# /'
}
for ((r = 0; r < ROUNDS; r++)); do
    if [ "$WHICH" != dpdk ]; then pktio_round; fi
    if [ "$WHICH" != pktio ]; then dpdk_round; fi
done
