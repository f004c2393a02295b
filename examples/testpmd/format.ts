// testpmd's text output, character for character (app/test-pmd/config.c and testpmd.c of DPDK 22.11), as pure
// functions of the numbers: the main lcore gathers the counters and these format them.
import { RSS_HF_NAMES, RSS_IP, RSS_UDP, RSS_TCP, RX_OFFLOAD_NAMES, TX_OFFLOAD_NAMES, type DevInfo, type Link } from '../../src/pmd/driver.js';
import type { FwdMode } from './params.js';
import type { EthStats } from '../../src/ethdev/ethdev.js';

/** printf %-Nd */
const l = (v: number | string, w: number): string => String(v).padEnd(w);
/** printf %Nd */
const r = (v: number | string, w: number): string => String(v).padStart(w);

/** rte_ether_format_addr: upper-case hex, colon separated. */
export function etherAddr(mac: ArrayLike<number>): string {
  return Array.from(mac, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

export interface StreamView {
  rxPort: number;
  rxQueue: number;
  txPort: number;
  txQueue: number;
  peer: number[];
}

export interface FwdConfigView {
  mode: FwdMode;
  nbPorts: number;
  /** per forwarding lcore: its id and its streams */
  lcores: Array<{ lcore: number; streams: StreamView[] }>;
  nbStreams: number;
}

/** pkt_fwd_config_display */
export function fwdConfigDisplay(c: FwdConfigView): string {
  let s = `${c.mode} packet forwarding - ports=${c.nbPorts} - cores=${c.lcores.length} - streams=${c.nbStreams} - ` +
    'NUMA support enabled, MP allocation mode: native\n';
  for (const lc of c.lcores) {
    s += `Logical Core ${lc.lcore} (socket 0) forwards packets on ${lc.streams.length} streams:`;
    for (const st of lc.streams) {
      s += `\n  RX P=${st.rxPort}/Q=${st.rxQueue} (socket 0) -> TX P=${st.txPort}/Q=${st.txQueue} (socket 0) peer=${etherAddr(st.peer)}`;
    }
    s += '\n';
  }
  return s + '\n';
}

export interface RxtxPortView {
  port: number;
  nbRxq: number;
  nbTxq: number;
  rxOffloads: number;
  txOffloads: number;
  nbRxd: number;
  nbTxd: number;
}

/** rxtx_config_display */
export function rxtxConfigDisplay(mode: FwdMode, burst: number, txPktLen: number, txSegs: number, nbFwdLcores: number,
  nbFwdPorts: number, ports: RxtxPortView[]): string {
  let s = `  ${mode} packet forwarding packets/burst=${burst}\n`;
  if (mode === 'txonly') s += `  packet len=${txPktLen} - nb packet segments=${txSegs}\n`;
  s += `  nb forwarding cores=${nbFwdLcores} - nb forwarding ports=${nbFwdPorts}\n`;
  for (const p of ports) {
    s += `  port ${p.port}: RX queue number: ${p.nbRxq} Tx queue number: ${p.nbTxq}\n` +
      `    Rx offloads=0x${p.rxOffloads.toString(16)} Tx offloads=0x${p.txOffloads.toString(16)}\n` +
      '    RX queue: 0\n' +
      `      RX desc=${p.nbRxd} - RX free threshold=0\n` +
      '      RX threshold registers: pthresh=0 hthresh=0  wthresh=0\n' +
      `      RX Offloads=0x${p.rxOffloads.toString(16)}\n` +
      '    TX queue: 0\n' +
      `      TX desc=${p.nbTxd} - TX free threshold=0\n` +
      '      TX threshold registers: pthresh=0 hthresh=0  wthresh=0\n' +
      `      TX offloads=0x${p.txOffloads.toString(16)} - TX RS bit threshold=0\n`;
  }
  return s;
}

/** The port counters testpmd's blocks print (ethdev's, without the per-queue arrays). */
export type PortCounters = Pick<EthStats, 'ipackets' | 'opackets' | 'ibytes' | 'obytes' | 'imissed' | 'ierrors' | 'oerrors' | 'rxNombuf'>;

export interface Rates {
  rxPps: number;
  rxBps: number;
  txPps: number;
  txBps: number;
}

const NIC_BORDER = '########################';

/** nic_stats_display: one port's block (starts with a newline, as testpmd's does) */
export function nicStatsDisplay(port: number, s: PortCounters, rt: Rates): string {
  return `\n  ${NIC_BORDER} NIC statistics for port ${l(port, 2)} ${NIC_BORDER}\n` +
    `  RX-packets: ${l(s.ipackets, 10)} RX-missed: ${l(s.imissed, 10)} RX-bytes:  ${s.ibytes}\n` +
    `  RX-errors: ${s.ierrors}\n` +
    `  RX-nombuf:  ${l(s.rxNombuf, 10)}\n` +
    `  TX-packets: ${l(s.opackets, 10)} TX-errors: ${l(s.oerrors, 10)} TX-bytes:  ${s.obytes}\n` +
    '\n  Throughput (since last show)\n' +
    `  Rx-pps: ${r(rt.rxPps, 12)}          Rx-bps: ${r(rt.rxBps, 12)}\n  Tx-pps: ${r(rt.txPps, 12)}          Tx-bps: ${r(rt.txBps, 12)}\n` +
    `  ${NIC_BORDER}############################${NIC_BORDER}\n`;
}

/** print_stats: the periodic block of --stats-period (clear screen, home, then every forwarding port) */
export function periodicStatsHeader(): string {
  return '\x1b[2J\x1b[1;1H\nPort statistics ====================================';
}

export interface StreamCounters {
  rxPort: number;
  rxQueue: number;
  txPort: number;
  txQueue: number;
  rx: number;
  tx: number;
  dropped: number;
  badIp: number;
  badL4: number;
  badOuterL4: number;
  badOuterIp: number;
}

/** fwd_stream_stats_display ('' for a stream that saw nothing, as testpmd skips it) */
export function streamStatsDisplay(f: StreamCounters, csum: boolean): string {
  if (f.rx === 0 && f.tx === 0 && f.dropped === 0) return '';
  let s = `\n  ------- Forward Stats for RX Port=${r(f.rxPort, 2)}/Queue=${r(f.rxQueue, 2)} -> ` +
    `TX Port=${r(f.txPort, 2)}/Queue=${r(f.txQueue, 2)} -------\n` +
    `  RX-packets: ${l(f.rx, 14)} TX-packets: ${l(f.tx, 14)} TX-dropped: ${l(f.dropped, 14)}`;
  if (csum) {
    s += `  RX- bad IP checksum: ${l(f.badIp, 14)}  Rx- bad L4 checksum: ${l(f.badL4, 14)} Rx- bad outer L4 checksum: ${l(f.badOuterL4, 14)}\n` +
      ` RX- bad outer IP checksum: ${l(f.badOuterIp, 14)}\n`;
  } else {
    s += '\n';
  }
  return s;
}

export interface PortFwdCounters {
  port: number;
  /** port counters since forwarding started (or the last clear) */
  stats: PortCounters;
  /** what the streams sending on this port dropped */
  txDropped: number;
  badIp: number;
  badL4: number;
  badOuterL4: number;
  badOuterIp: number;
}

const FWD_BORDER = '----------------------';
const ACC_BORDER = '+++++++++++++++';

/**
 * fwd_stats_display: the per-stream blocks when there are more streams than ports, then each port's forward
 * statistics, then the totals.
 */
export function fwdStatsDisplay(streams: StreamCounters[], ports: PortFwdCounters[], csum: boolean): string {
  let s = '';
  if (streams.length > ports.length) for (const f of streams) s += streamStatsDisplay(f, csum);
  let totRx = 0;
  let totTx = 0;
  let totRxDrop = 0;
  let totTxDrop = 0;
  let totNombuf = 0;
  for (const p of ports) {
    const st = p.stats;
    const txDrop = p.txDropped + st.oerrors;
    totRx += st.ipackets;
    totTx += st.opackets;
    totRxDrop += st.imissed;
    totTxDrop += txDrop;
    totNombuf += st.rxNombuf;
    s += `\n  ${FWD_BORDER} Forward statistics for port ${l(p.port, 2)} ${FWD_BORDER}\n` +
      `  RX-packets: ${l(st.ipackets, 14)} RX-dropped: ${l(st.imissed, 14)}RX-total: ${st.ipackets + st.imissed}\n`;
    if (csum) {
      s += `  Bad-ipcsum: ${l(p.badIp, 14)} Bad-l4csum: ${l(p.badL4, 14)}Bad-outer-l4csum: ${l(p.badOuterL4, 14)}\n` +
        `  Bad-outer-ipcsum: ${l(p.badOuterIp, 14)}\n`;
    }
    if (st.ierrors + st.rxNombuf > 0) {
      s += `  RX-error: ${st.ierrors}\n  RX-nombufs: ${l(st.rxNombuf, 14)}\n`;
    }
    s += `  TX-packets: ${l(st.opackets, 14)} TX-dropped: ${l(txDrop, 14)}TX-total: ${st.opackets + txDrop}\n` +
      `  ${FWD_BORDER}--------------------------------${FWD_BORDER}\n`;
  }
  s += `\n  ${ACC_BORDER} Accumulated forward statistics for all ports${ACC_BORDER}\n` +
    `  RX-packets: ${l(totRx, 14)} RX-dropped: ${l(totRxDrop, 14)}RX-total: ${totRx + totRxDrop}\n` +
    `  TX-packets: ${l(totTx, 14)} TX-dropped: ${l(totTxDrop, 14)}TX-total: ${totTx + totTxDrop}\n`;
  if (totNombuf > 0) s += `  RX-nombufs: ${l(totNombuf, 14)}\n`;
  s += `  ${ACC_BORDER}++++++++++++++++++++++++++++++++++++++++++++++${ACC_BORDER}\n`;
  return s;
}

/** rte_eth_link_speed_to_str */
export function linkSpeedStr(mbps: number): string {
  const named: Record<number, string> = {
    0: 'None', 10: '10 Mbps', 100: '100 Mbps', 1000: '1 Gbps', 2500: '2.5 Gbps', 5000: '5 Gbps', 10000: '10 Gbps',
    20000: '20 Gbps', 25000: '25 Gbps', 40000: '40 Gbps', 50000: '50 Gbps', 56000: '56 Gbps', 100000: '100 Gbps',
    200000: '200 Gbps', 400000: '400 Gbps',
  };
  return named[mbps] ?? 'Invalid';
}

/** rss_offload_types_display: every supported type by bit order, wrapped before 64 columns */
export function rssOffloadTypes(types: number): string {
  let s = '';
  let total = 0;
  for (let i = 0; i < 32; i++) {
    const bit = 2 ** i;
    if (Math.floor(types / bit) % 2 === 0) continue;
    const name = RSS_HF_NAMES.find(([b]) => b === bit)?.[1] ?? `user-defined-${i}`;
    const len = name.length + 2;
    if (total + len >= 64) {
      total = 0;
      s += '\n';
    }
    s += `  ${name}`;
    total += len;
  }
  return s + '\n';
}

/** rss_types_display: the group names (ip, udp, tcp) whose bits are all set, then the single types, wrapped at 64 */
export function rssTypes(types: number): string {
  const table: Array<[number, string]> = [[RSS_IP, 'ip'], [RSS_UDP, 'udp'], [RSS_TCP, 'tcp'], ...RSS_HF_NAMES];
  let s = '';
  let total = 0;
  for (const [t, name] of table) {
    if ((types & t) !== t) continue;
    const len = name.length + 2;
    if (total + len > 64) {
      s += '\n';
      total = 0;
    }
    s += `  ${name}`;
    total += len;
  }
  return s + '\n';
}

export interface PortInfoView {
  port: number;
  mac: ArrayLike<number>;
  name: string;
  devargs: string | null;
  info: DevInfo;
  link: Link;
  mtu: number;
  promisc: boolean;
  allmulti: boolean;
  vlanStrip: boolean;
  vlanFilter: boolean;
  nbRxq: number;
  nbTxq: number;
}

/** port_infos_display, with the MTU range lines testpmd 25.11+ prints after "MTU:" */
export function portInfosDisplay(v: PortInfoView): string {
  const i = v.info;
  const b = '*********************';
  let s = `\n${b} Infos for port ${l(v.port, 2)} ${b}\n` +
    `MAC address: ${etherAddr(v.mac)}` +
    `\nDevice name: ${v.name}` +
    `\nDriver name: ${i.driverName}` +
    '\nFirmware-version: not available' +
    (v.devargs !== null ? `\nDevargs: ${v.devargs}` : '') +
    '\nConnect to socket: 0' +
    '\nmemory allocation on the socket: 0' +
    `\nLink status: ${v.link.up ? 'up' : 'down'}\n` +
    `Link speed: ${linkSpeedStr(v.link.speed)}\n` +
    `Link duplex: ${v.link.fullDuplex ? 'full-duplex' : 'half-duplex'}\n` +
    `Autoneg status: ${v.link.autoneg ? 'On' : 'Off'}\n` +
    `MTU: ${v.mtu}\n` +
    `Minimum MTU: ${i.minMtu}\n` +
    `Maximum MTU: ${i.maxMtu}\n` +
    `Promiscuous mode: ${v.promisc ? 'enabled' : 'disabled'}\n` +
    `Allmulticast mode: ${v.allmulti ? 'enabled' : 'disabled'}\n` +
    `Maximum number of MAC addresses: ${i.maxMacAddrs}\n` +
    'Maximum number of MAC addresses of hash filtering: 0\n' +
    'VLAN offload: \n' +
    `  strip ${v.vlanStrip ? 'on' : 'off'}, filter ${v.vlanFilter ? 'on' : 'off'}, extend off, qinq strip off\n`;
  if (i.hashKeySize > 0) s += `Hash key size in bytes: ${i.hashKeySize}\n`;
  if (i.retaSize > 0) s += `Redirection table size: ${i.retaSize}\n`;
  if (!i.flowTypeRssOffloads) s += 'No RSS offload flow type is supported.\n';
  else s += 'Supported RSS offload flow types:\n' + rssOffloadTypes(i.flowTypeRssOffloads);
  s += `Minimum size of RX buffer: ${i.minRxBufSize}\n` +
    `Maximum configurable length of RX packet: ${i.maxRxPktLen}\n` +
    'Maximum configurable size of LRO aggregated packet: 0\n' +
    `Current number of RX queues: ${v.nbRxq}\n` +
    `Max possible RX queues: ${i.maxRxQueues}\n` +
    `Max possible number of RXDs per queue: ${i.rxDescLim.nbMax}\n` +
    `Min possible number of RXDs per queue: ${i.rxDescLim.nbMin}\n` +
    `RXDs number alignment: ${i.rxDescLim.nbAlign}\n` +
    `Current number of TX queues: ${v.nbTxq}\n` +
    `Max possible TX queues: ${i.maxTxQueues}\n` +
    `Max possible number of TXDs per queue: ${i.txDescLim.nbMax}\n` +
    `Min possible number of TXDs per queue: ${i.txDescLim.nbMin}\n` +
    `TXDs number alignment: ${i.txDescLim.nbAlign}\n` +
    'Max segment number per packet: 65535\n' +
    'Max segment number per MTU/TSO: 65535\n' +
    'Device capabilities: 0x0( )\n' +
    'Device error handling mode: none\n';
  return s;
}

/** show port (rx|tx)_offload capabilities: pktio takes every offload per queue */
export function offloadCapaDisplay(port: number, rx: boolean, capa: number): string {
  const names = (v: number) => (rx ? RX_OFFLOAD_NAMES : TX_OFFLOAD_NAMES).filter(([bit]) => (v & bit) !== 0)
    .sort((a, b) => a[0] - b[0]).map(([, n]) => ` ${n}`).join('');
  return `${rx ? 'Rx' : 'Tx'} Offloading Capabilities of port ${port} :\n  Per Queue :${names(capa)}\n  Per Port  :\n\n`;
}

/** port_summary_display header and lines */
export function portSummaryHeader(n: number): string {
  return `Number of available ports: ${n}\n${l('Port', 4)} ${l('MAC Address', 17)} ${l('Name', 12)} ${l('Driver', 14)} ${l('Status', 8)} Link\n`;
}

export function portSummaryLine(port: number, mac: ArrayLike<number>, name: string, driver: string, link: Link): string {
  return `${l(port, 4)} ${etherAddr(mac)} ${l(name, 12)} ${l(driver, 14)} ${l(link.up ? 'up' : 'down', 8)} ${linkSpeedStr(link.speed)}\n`;
}
