// After l2fwd stopped: read back, through VFIO, that the NICs no longer DMA (bus mastering off, RX/TX disabled).
import koffi from 'koffi';
import { Vfio } from '../../../dist/src/vfio/index.js';
const v = new Vfio({ flow: process.env.FLOW ?? 'auto', allowNoIommu: true });
for (const bdf of process.argv.slice(2)) {
  const d = v.attach(bdf);
  const cmd = d.cfgRead16(4);
  d.enableMemory();
  const bar = d.mapBar(0);
  const r = new Uint32Array(koffi.view(bar.addr, bar.len));
  const rctl = r[0x100 >> 2];
  const tctl = r[0x400 >> 2];
  console.log(`readback ${bdf} busmaster=${(cmd >> 2) & 1} rctl_en=${(rctl >> 1) & 1} tctl_en=${(tctl >> 1) & 1}`);
}
v.close();
