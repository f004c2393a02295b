// After l2fwd stopped: read back, through VFIO, that the NICs no longer DMA (bus mastering off, RX/TX disabled; for
// a virtio-net function: bus mastering off and device_status 0, the device reset).
import koffi from 'koffi';
import { Vfio } from '../../../dist/src/vfio/index.js';
const v = new Vfio({ flow: process.env.FLOW ?? 'auto', allowNoIommu: true });

/** device_status of a modern virtio function: the common configuration capability's BAR and offset, + 0x14. */
function virtioStatus(d) {
  for (let p = d.cfgRead8(0x34) & 0xfc; p !== 0; p = d.cfgRead8(p + 1) & 0xfc) {
    if (d.cfgRead8(p) !== 0x09 || d.cfgRead8(p + 3) !== 1) continue;
    const bar = d.mapBar(d.cfgRead8(p + 4));
    return new Uint8Array(koffi.view(bar.addr, bar.len))[d.cfgRead32(p + 8) + 0x14];
  }
  return -1;
}

for (const bdf of process.argv.slice(2)) {
  const d = v.attach(bdf);
  const cmd = d.cfgRead16(4);
  d.enableMemory();
  if (d.cfgRead16(0) === 0x1af4) {
    console.log(`readback ${bdf} busmaster=${(cmd >> 2) & 1} device_status=${virtioStatus(d)}`);
    continue;
  }
  const bar = d.mapBar(0);
  const r = new Uint32Array(koffi.view(bar.addr, bar.len));
  const rctl = r[0x100 >> 2];
  const tctl = r[0x400 >> 2];
  console.log(`readback ${bdf} busmaster=${(cmd >> 2) & 1} rctl_en=${(rctl >> 1) & 1} tctl_en=${(tctl >> 1) & 1}`);
}
v.close();
