#!/bin/bash
# In the guest: pktio's l2fwd loop, then DPDK testpmd (io forwarding, em PMD), on the same two e1000e ports of one
# hub, SECONDS each. Prints pktio_mpps= and dpdk_mpps=.
set -u
SECONDS_EACH=${1:-10}
G=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$G/../../.." && pwd)
PKTIO_NICS="0000:00:03.0 0000:00:04.0" bash "$G/prepare.sh" type1 > /dev/null || { echo prepare_failed=1; exit 1; }
node "$ROOT/dist/bench/e1000e-guest.js" "$SECONDS_EACH" || echo pktio_failed=1
( sleep 8; echo 'start tx_first'; sleep 3; echo 'show port stats all'; sleep "$SECONDS_EACH"; echo 'show port stats all';
  sleep 1; echo stop; echo quit ) |
    dpdk-testpmd -l 0,1 -n 1 --huge-dir /dev/hugepages -m 256 --file-prefix bench -a 0000:00:03.0 -a 0000:00:04.0 \
        -- -i --forward-mode=io --burst=32 > testpmd.log 2>&1
awk '/Throughput \(since last show\)/ {getline; if ($1 == "Rx-pps:") { n++; v[n] = $2 } }
     END { if (n >= 4) printf "dpdk_mpps=%.6f\n", (v[n] + v[n-1]) / 1e6; else print "dpdk_failed=1" }' testpmd.log
grep -m1 -E 'net_e1000_em|Probe PCI driver' testpmd.log | sed 's/^/# /'
