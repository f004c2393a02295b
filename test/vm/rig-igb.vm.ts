// The rig's igb NICs (QEMU 10's 82576), without pktio: for --nic igb and --nic mixed (topology l2fwd, type1) the
// guest has the right device at every BDF run.sh exports, the pktio functions sit on vfio-pci with a VFIO group,
// the kernel NICs have their driver, their namespace and carrier, and ns0's NIC transmits (its ARP requests cannot
// reach ns1: the hubs are joined only through pktio, which is not running, so ns1 receives nothing).
import t from 'tap';
import * as path from 'node:path';
import { rigMissing, rigLayout, runInGuest, guestDir, showGuestOnFailure, type VmNic } from './vm.js';

const pciId: Record<string, string> = { igb: '8086:10c9', e1000e: '8086:10d3' };
const key = (bdf: string) => bdf.replace(/[:.]/g, '_');
const script = [
  `bash ${path.join(guestDir, 'prepare.sh')} type1 > prepare.log 2>&1; echo prepare_rc=$?`,
  // a: what sits at each address
  'lspci -n -D | while read -r b c id rest; do echo "id_${b//[:.]/_}=$id"; done',
  // b: the drivers, and the VFIO group node of the pktio functions
  'for b in $PKTIO_NICS $PKTIO_VM_KERNEL_NICS; do d=$(readlink /sys/bus/pci/devices/$b/driver); g=$(readlink /sys/bus/pci/devices/$b/iommu_group);' +
    ' echo "drv_${b//[:.]/_}=${d##*/}"; [ -c /dev/vfio/${g##*/} ] && echo "vfio_${b//[:.]/_}=1"; done',
  // c, d: per namespace its NIC, carrier, driver; ns0 pings ns1 (ARP only), tx before and after
  'for ns in ns0 ns1; do ip netns exec $ns bash -c \'d=$(readlink -f /sys/class/net/eth0/device); v=$(readlink /sys/class/net/eth0/device/driver);' +
    ' echo "${0}_bdf=${d##*/}"; echo "${0}_driver=${v##*/}"; echo "${0}_carrier=$(cat /sys/class/net/eth0/carrier)"; echo "${0}_addr=$(ip -o -4 addr show dev eth0 | awk "{print \\$4}")"\' $ns; done',
  'ip netns exec ns0 bash -c \'echo "ns0_tx_before=$(cat /sys/class/net/eth0/statistics/tx_packets)"; ping -c 3 -i 0.5 -W 1 10.99.0.2 > /dev/null 2>&1; echo "ping_rc=$?"; echo "ns0_tx_after=$(cat /sys/class/net/eth0/statistics/tx_packets)"\'',
  'echo "ns1_rx_packets=$(ip netns exec ns1 cat /sys/class/net/eth0/statistics/rx_packets)"',
].join('\n');

for (const nic of ['igb', 'mixed'] as VmNic[]) {
  const missing = rigMissing(nic);
  t.test(`rig --nic ${nic}: devices, drivers, kernel links`, { skip: missing ?? false, timeout: 300000 }, async (t) => {
    const lay = rigLayout(nic, 'l2fwd');
    const r = await runInGuest({ mode: 'type1', topology: 'l2fwd', nic, timeoutSec: 240 }, script);
    showGuestOnFailure(t, r);
    const k = r.kv;
    t.equal(r.code, 0, 'guest script exit status');
    t.equal(k.prepare_rc, '0', 'prepare.sh: vfio-pci for pktio, kernel NICs in their namespaces with carrier');
    const pfs = ['PORT_A', 'PORT_B', 'NS0', 'NS1'].map((role) => ({ role, bdf: lay[`PKTIO_VM_${role}`], model: lay[`PKTIO_VM_${role}_MODEL`] }));
    t.equal(new Set(pfs.map((p) => p.bdf)).size, 4, `four distinct addresses (${pfs.map((p) => p.bdf).join(' ')})`);
    // QEMU's igb reserves VF devfns at PF + 0x80 + 2i: igb functions two slots apart at least (else QEMU would not start)
    const igbSlots = pfs.filter((p) => p.model === 'igb').map((p) => parseInt(p.bdf.slice(8, 10), 16)).sort((a, b) => a - b);
    t.ok(igbSlots.every((s, i) => i === 0 || s - igbSlots[i - 1] >= 2), `igb slots two apart (${igbSlots.join(', ')})`);
    for (const p of pfs) {
      t.equal(k[`id_${key(p.bdf)}`], pciId[p.model], `${p.role} ${p.bdf}: ${p.model} (${pciId[p.model]})`);
    }
    for (const p of pfs.filter((p) => p.role.startsWith('PORT'))) {
      t.equal(k[`drv_${key(p.bdf)}`], 'vfio-pci', `pktio ${p.role} ${p.bdf} on vfio-pci`);
      t.equal(k[`vfio_${key(p.bdf)}`], '1', `${p.bdf} has its /dev/vfio group node`);
    }
    for (const [i, p] of pfs.filter((p) => p.role.startsWith('NS')).entries()) {
      const ns = `ns${i}`;
      t.equal(k[`drv_${key(p.bdf)}`], p.model, `kernel ${p.bdf} on the ${p.model} driver`);
      t.equal(k[`${ns}_bdf`], p.bdf, `${ns}'s eth0 is ${p.bdf}`);
      t.equal(k[`${ns}_driver`], p.model, `${ns}'s eth0 driver`);
      t.equal(k[`${ns}_carrier`], '1', `${ns}'s eth0 has carrier`);
      t.equal(k[`${ns}_addr`], `10.99.0.${i + 1}/24`, `${ns}'s address`);
    }
    t.not(k.ping_rc, '0', 'no path from ns0 to ns1 without pktio');
    t.ok(Number(k.ns0_tx_after) > Number(k.ns0_tx_before), `ns0's NIC transmits (tx_packets ${k.ns0_tx_before} -> ${k.ns0_tx_after})`);
    t.equal(k.ns1_rx_packets, '0', 'and nothing of it reaches hub 1');
  });
}
