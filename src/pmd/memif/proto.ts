// The memif control protocol, version 2.0 (DPDK 22.11 drivers/net/memif/memif.h; libmemif speaks the same).
//
// Every control message is one 128-byte record (memif_msg_t) on a SOCK_SEQPACKET unix socket: a 16-bit type at
// offset 0, then the union of the message bodies from offset 2, all packed, little-endian. ADD_REGION carries the
// region's memfd and ADD_RING the ring's eventfd as SCM_RIGHTS. The conversation (memif_socket.c):
//
//   server (listener)                      client
//   accept --------------- HELLO -------->  picks rings/ring size, creates the regions
//          <-------------- INIT ----------  version, interface id, mode, secret
//          --------------- ACK ---------->
//          <-------------- ADD_REGION ----  (fd: memfd)   one per region, ACK each
//          <-------------- ADD_RING ------  (fd: eventfd) one per ring, C2S first, ACK each
//          <-------------- CONNECT -------  server maps regions, link up
//          --------------- CONNECTED ---->  client link up
//   either side may send DISCONNECT (code, reason) and close; a closed socket is a disconnect too.
//
// Field layouts below are tables with memif.h's names; encode/decode are driven by them. decodeMsg() checks what
// a parser can check (size, type, string fields) and throws MemifProtoError with a sentence otherwise; what a
// field means for the connection is checked by the state machine (memif.ts).

export const MEMIF_COOKIE = 0x3e31f20;
export const MEMIF_VERSION_MAJOR = 2;
export const MEMIF_VERSION_MINOR = 0;
export const MEMIF_VERSION = (MEMIF_VERSION_MAJOR << 8) | MEMIF_VERSION_MINOR;
export const MEMIF_NAME_SZ = 32;
/** rte_eth_memif.h ETH_MEMIF_SECRET_SIZE: memif_msg_init_t.secret */
export const MEMIF_SECRET_SZ = 24;
/** sizeof(memif_msg_t) */
export const MEMIF_MSG_SZ = 128;
/** memif_msg_disconnect_t.string */
export const MEMIF_DISC_STRING_SZ = 96;

/** memif_msg_type_t */
export const MEMIF_MSG_TYPE_NONE = 0;
export const MEMIF_MSG_TYPE_ACK = 1;
export const MEMIF_MSG_TYPE_HELLO = 2;
export const MEMIF_MSG_TYPE_INIT = 3;
export const MEMIF_MSG_TYPE_ADD_REGION = 4;
export const MEMIF_MSG_TYPE_ADD_RING = 5;
export const MEMIF_MSG_TYPE_CONNECT = 6;
export const MEMIF_MSG_TYPE_CONNECTED = 7;
export const MEMIF_MSG_TYPE_DISCONNECT = 8;

export const MSG_TYPE_NAMES = ['NONE', 'ACK', 'HELLO', 'INIT', 'ADD_REGION', 'ADD_RING', 'CONNECT', 'CONNECTED', 'DISCONNECT'];

/** memif_ring_type_t: C2S = client to server (the client's TX), S2C = server to client */
export const MEMIF_RING_C2S = 0;
export const MEMIF_RING_S2C = 1;
/** memif_msg_add_ring_t.flags: the ring is C2S */
export const MEMIF_MSG_ADD_RING_FLAG_C2S = 1;
/** memif_interface_mode_t */
export const MEMIF_INTERFACE_MODE_ETHERNET = 0;

type Kind = 'u8' | 'u16' | 'u32' | 'u64' | 'char';
/** [memif.h field name, byte offset in the 128-byte message, kind, bytes of a char array] */
type Field = readonly [string, number, Kind, number?];

/** Message bodies, offsets from the start of memif_msg_t (the union starts at 2, after `type:16`). */
export const MSG_LAYOUT: Readonly<Record<number, readonly Field[]>> = {
  [MEMIF_MSG_TYPE_ACK]: [],
  // memif_msg_hello_t
  [MEMIF_MSG_TYPE_HELLO]: [
    ['name', 2, 'char', MEMIF_NAME_SZ], ['min_version', 34, 'u16'], ['max_version', 36, 'u16'],
    ['max_region', 38, 'u16'], ['max_s2c_ring', 40, 'u16'], ['max_c2s_ring', 42, 'u16'], ['max_log2_ring_size', 44, 'u8'],
  ],
  // memif_msg_init_t (mode is an 8-bit bitfield)
  [MEMIF_MSG_TYPE_INIT]: [
    ['version', 2, 'u16'], ['id', 4, 'u32'], ['mode', 8, 'u8'], ['secret', 9, 'char', MEMIF_SECRET_SZ],
    ['name', 33, 'char', MEMIF_NAME_SZ],
  ],
  // memif_msg_add_region_t
  [MEMIF_MSG_TYPE_ADD_REGION]: [['index', 2, 'u16'], ['size', 4, 'u64']],
  // memif_msg_add_ring_t
  [MEMIF_MSG_TYPE_ADD_RING]: [
    ['flags', 2, 'u16'], ['index', 4, 'u16'], ['region', 6, 'u16'], ['offset', 8, 'u32'], ['log2_ring_size', 12, 'u8'],
    ['private_hdr_size', 13, 'u16'],
  ],
  // memif_msg_connect_t / memif_msg_connected_t
  [MEMIF_MSG_TYPE_CONNECT]: [['if_name', 2, 'char', MEMIF_NAME_SZ]],
  [MEMIF_MSG_TYPE_CONNECTED]: [['if_name', 2, 'char', MEMIF_NAME_SZ]],
  // memif_msg_disconnect_t
  [MEMIF_MSG_TYPE_DISCONNECT]: [['code', 2, 'u32'], ['string', 6, 'char', MEMIF_DISC_STRING_SZ]],
};

export type MsgFields = Record<string, number | string>;
export interface MemifMsg {
  type: number;
  f: MsgFields;
}

export class MemifProtoError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'MemifProtoError';
  }
}

/** A C string field: bytes up to the first NUL (or the whole field); bytes outside printable ASCII become '?'. */
function readChars(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    const c = b[off + i];
    if (c === 0) break;
    s += c < 0x20 || c > 0x7e ? '?' : String.fromCharCode(c);
  }
  return s;
}

/** Parses one received message of n bytes (control path; allocates freely). */
export function decodeMsg(b: Uint8Array, n: number): MemifMsg {
  if (n !== MEMIF_MSG_SZ) throw new MemifProtoError(`message of ${n} bytes: memif messages are ${MEMIF_MSG_SZ}`);
  const dv = new DataView(b.buffer, b.byteOffset, MEMIF_MSG_SZ);
  const type = dv.getUint16(0, true);
  const layout = MSG_LAYOUT[type];
  if (layout === undefined) throw new MemifProtoError(`unknown message type ${type}`);
  const f: MsgFields = {};
  for (const [name, off, kind, len] of layout) {
    switch (kind) {
      case 'u8': f[name] = dv.getUint8(off); break;
      case 'u16': f[name] = dv.getUint16(off, true); break;
      case 'u32': f[name] = dv.getUint32(off, true); break;
      case 'u64': {
        const v = dv.getBigUint64(off, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MemifProtoError(`field ${name} = ${v} is out of range`);
        f[name] = Number(v);
        break;
      }
      case 'char': f[name] = readChars(b, off, len!); break;
    }
  }
  return { type, f };
}

/** Builds a 128-byte message; absent fields are 0 / empty, strings are cut to their field (NUL-terminated). */
export function encodeMsg(type: number, f: MsgFields = {}): Buffer {
  const layout = MSG_LAYOUT[type];
  if (layout === undefined) throw new MemifProtoError(`unknown message type ${type}`);
  const b = Buffer.alloc(MEMIF_MSG_SZ);
  b.writeUInt16LE(type, 0);
  for (const [name, off, kind, len] of layout) {
    const v = f[name];
    if (v === undefined) continue;
    switch (kind) {
      case 'u8': b.writeUInt8(Number(v), off); break;
      case 'u16': b.writeUInt16LE(Number(v), off); break;
      case 'u32': b.writeUInt32LE(Number(v), off); break;
      case 'u64': b.writeBigUInt64LE(BigInt(v), off); break;
      case 'char': b.write(String(v).slice(0, len! - 1), off, 'latin1'); break;
    }
  }
  return b;
}

/** A message for logs: its type name and fields. */
export function describeMsg(m: MemifMsg): string {
  return `${MSG_TYPE_NAMES[m.type] ?? m.type} ${JSON.stringify(m.f)}`;
}
