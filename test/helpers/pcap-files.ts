// Capture files for the net_pcap tests, built byte by byte (independent of the driver's reader): pcap in either
// byte order with µs or ns timestamps, pcapng with sections, interfaces and EPB/SPB blocks, and a reader of pcap
// files for comparing outputs. Frames are Ethernet/IPv4/UDP with a seeded payload.
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';

/** A small seeded PRNG (mulberry32), so every run builds the same files. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n Ethernet frames of lengths in [min, max] (IPv4/UDP headers, seeded payload; frame i carries i). */
export function makeFrames(n: number, seed: number, min = 60, max = 1514): Uint8Array[] {
  const rnd = prng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = min + Math.floor(rnd() * (max - min + 1));
    const f = new Uint8Array(len);
    for (let k = 0; k < len; k++) f[k] = Math.floor(rnd() * 256);
    f.set([0x02, 0, 0, 0, 0, 0xbb, 0x02, 0, 0, 0, 0, 0xaa, 0x08, 0x00], 0);
    if (len >= 34) {
      f.set([0x45, 0, ((len - 14) >> 8) & 0xff, (len - 14) & 0xff, (i >> 8) & 0xff, i & 0xff, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
    }
    out.push(f);
  }
  return out;
}

export interface PcapOpts {
  be?: boolean;
  nsec?: boolean;
  snaplen?: number;
  linktype?: number;
  /** orig_len to write per frame (default its length) */
  orig?: (i: number, f: Uint8Array) => number;
}

/** A pcap file image of frames. */
export function pcapBytes(frames: Uint8Array[], o: PcapOpts = {}): Buffer {
  const le = !o.be;
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const w32 = (b: Buffer, at: number, v: number) => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  const w16 = (b: Buffer, at: number, v: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  w32(h, 0, o.nsec ? 0xa1b23c4d : 0xa1b2c3d4);
  w16(h, 4, 2);
  w16(h, 6, 4);
  w32(h, 16, o.snaplen ?? 65535);
  w32(h, 20, o.linktype ?? 1);
  parts.push(h);
  frames.forEach((f, i) => {
    const r = Buffer.alloc(16);
    w32(r, 0, 1700000000 + i);
    w32(r, 4, o.nsec ? 123456789 : 123456);
    w32(r, 8, f.length);
    w32(r, 12, o.orig ? o.orig(i, f) : f.length);
    parts.push(r, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

function block(type: number, body: Buffer, le: boolean): Buffer {
  const pad = (4 - (body.length % 4)) % 4;
  const len = 12 + body.length + pad;
  const b = Buffer.alloc(len);
  const w = (at: number, v: number) => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  w(0, type);
  w(4, len);
  body.copy(b, 8);
  w(len - 4, len);
  return b;
}

export interface NgSection {
  be?: boolean;
  /** link types of the section's interfaces (default [1]) */
  ifaces?: number[];
  /** frames and the interface each came from; spb: write a Simple Packet Block (interface 0) */
  packets: Array<{ frame: Uint8Array; iface?: number; spb?: boolean }>;
  /** add a Name Resolution Block and a custom block (skipped by readers) */
  extraBlocks?: boolean;
}

/** A pcapng file image: one SHB per section, its IDBs, then its packets as EPBs (or SPBs). */
export function pcapngBytes(sections: NgSection[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of sections) {
    const le = !s.be;
    const u32 = (v: number) => { const b = Buffer.alloc(4); if (le) b.writeUInt32LE(v >>> 0); else b.writeUInt32BE(v >>> 0); return b; };
    const u16 = (v: number) => { const b = Buffer.alloc(2); if (le) b.writeUInt16LE(v); else b.writeUInt16BE(v); return b; };
    parts.push(block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]), le));
    for (const lt of s.ifaces ?? [1]) {
      // if_tsresol option (code 9, length 1, value 9: nanoseconds), then opt_endofopt
      const opts = Buffer.concat([u16(9), u16(1), Buffer.from([9, 0, 0, 0]), u16(0), u16(0)]);
      parts.push(block(1, Buffer.concat([u16(lt), u16(0), u32(262144), opts]), le));
    }
    if (s.extraBlocks) {
      parts.push(block(4, Buffer.concat([u16(0), u16(0)]), le));
      parts.push(block(0x40000bad, Buffer.concat([u32(32473), Buffer.from('pktio')]), le));
    }
    s.packets.forEach((p, i) => {
      const f = Buffer.from(p.frame);
      if (p.spb) parts.push(block(3, Buffer.concat([u32(f.length), f]), le));
      else parts.push(block(6, Buffer.concat([u32(p.iface ?? 0), u32(0x60000), u32(i * 1000), u32(f.length), u32(f.length), f]), le));
    });
  }
  return Buffer.concat(parts);
}

export interface PcapRecord {
  sec: number;
  frac: number;
  orig: number;
  data: Buffer;
}

/** Reads a little- or big-endian pcap file (for checking what the driver wrote). */
export function readPcap(path: string): { nsec: boolean; be: boolean; snaplen: number; linktype: number; records: PcapRecord[] } {
  const b = fs.readFileSync(path);
  const m = b.readUInt32LE(0);
  const be = m !== 0xa1b2c3d4 && m !== 0xa1b23c4d;
  const r32 = (at: number) => (be ? b.readUInt32BE(at) : b.readUInt32LE(at));
  const magic = r32(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${path}: not a pcap file`);
  const records: PcapRecord[] = [];
  for (let at = 24; at < b.length;) {
    const incl = r32(at + 8);
    records.push({ sec: r32(at), frac: r32(at + 4), orig: r32(at + 12), data: b.subarray(at + 16, at + 16 + incl) });
    at += 16 + incl;
  }
  return { nsec: magic === 0xa1b23c4d, be, snaplen: r32(16), linktype: r32(20), records };
}

/**
 * tshark's view of a capture: the Ethernet frames it reads (lens: their lengths; frames: it rewrites the file as a plain pcap, read back with readPcap)
 * and what it says on stderr; a file tshark cannot read gives status !== 0.
 */
export function tsharkFrames(path: string): { frames: Buffer[]; lens: number[]; stderr: string; status: number | null } {
  const out = `${path}.tshark.pcap`;
  const r = spawnSync('tshark', ['-r', path, '-F', 'pcap', '-w', out], { encoding: 'utf8' });
  const f = spawnSync('tshark', ['-r', path, '-Y', 'eth', '-T', 'fields', '-e', 'frame.len'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const frames = r.status === 0 ? readPcap(out).records.map((x) => x.data) : [];
  fs.rmSync(out, { force: true });
  return {
    frames, lens: f.stdout.split('\n').filter((l) => l.length > 0).map(Number), stderr: r.stderr + f.stderr,
    status: r.status === 0 ? f.status : r.status,
  };
}

export function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}
