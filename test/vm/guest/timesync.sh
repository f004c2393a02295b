#!/bin/bash
# In the guest: timesync.sh MODE COUNT. Topology "loop" with --nic igb: pktio's ports A and B, both QEMU 82576s on
# hub 0. timesync-check.ts enables IEEE 1588 on both, sends COUNT PTPv2 Sync frames from A with TX timestamps and
# reads B's RX timestamps; prints KEY=VALUE lines that test/vm/timesync.vm.ts checks.
set -u
MODE=$1
COUNT=${2:-20}
G=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$G/../../.." && pwd)
OUT=${PKTIO_VM_OUT:-/tmp}
bash "$G/prepare.sh" "$MODE" > prepare.log 2>&1 || { echo "prepare_failed=1"; cat prepare.log; exit 1; }
case $MODE in
    type1) EAL=(--vfio-flow legacy) ;;
    cdev) EAL=(--vfio-flow cdev) ;;
    noiommu) EAL=(--vfio-noiommu) ;;
esac
cd "$ROOT"
timeout 120 node "$ROOT/dist/test/vm/guest/timesync-check.js" "$PKTIO_VM_PORT_A" "$PKTIO_VM_PORT_B" "$COUNT" "${EAL[@]}"
echo "check_rc=$?"
# pktgen with hardware timestamps: 3 s of 2,000 pps from A to B, one PTP probe per ms; its JSON result as KEY=VALUE
timeout 120 node dist/examples/pktgen/main.js -l 0,1 -a "$PKTIO_VM_PORT_A" -a "$PKTIO_VM_PORT_B" -m 256 --log-level warn \
    "${EAL[@]}" -- --tx 0 --rx 1 --rate 2000 --duration 3 --drain 1 -T 0 --json --timestamps hardware > "$OUT/pktgen.json" 2> "$OUT/pktgen.err"
echo "pktgen_rc=$?"
cat "$OUT/pktgen.err"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l.startsWith("{\"result\""));
const r = JSON.parse(lines[0]).result;
const p = r.probes ?? {};
for (const [k, v] of Object.entries({ timestamps: r.timestamps, tx: r.txPackets, lost: r.lost, probes_sent: p.sent,
  probes_measured: p.measured, probes_lost: p.lost, clock_error_ns: p.clockErrorNs, lat_count: r.rx[0].latency.count,
  lat_p50_ns: r.rx[0].latency.p50, lat_max_ns: r.rx[0].latency.max })) console.log(`pktgen_${k}=${v}`);
' "$OUT/pktgen.json" || { echo "pktgen_json=0"; cat "$OUT/pktgen.json"; }
