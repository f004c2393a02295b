// RSS for Intel NICs: the default Toeplitz key, redirection-table helpers and a software Toeplitz hash (tests use
// it to predict the queue of a flow; applications can use it to place flows).

/** The 40-byte key Intel's and DPDK's drivers program by default (the symmetric-free "Microsoft" test key). */
export const DEFAULT_RSS_KEY: readonly number[] = [
  0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
  0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
  0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
];

/** The RETA DPDK sets up by default: entry i -> queue i mod nbQueues. */
export function defaultReta(size: number, nbQueues: number): number[] {
  return Array.from({ length: size }, (_, i) => i % Math.max(1, nbQueues));
}

/** Toeplitz hash of `input` under `key` (the NIC hashes the IP addresses, then the L4 ports, in network order). */
export function toeplitz(key: ArrayLike<number>, input: ArrayLike<number>): number {
  const keyBit = (pos: number): number => (pos >> 3 < key.length ? (key[pos >> 3] >> (7 - (pos & 7))) & 1 : 0);
  // the 32 key bits that line up with input bit `pos` start at key bit `pos`
  let window = ((key[0] << 24) | (key[1] << 16) | (key[2] << 8) | key[3]) >>> 0;
  let hash = 0;
  for (let pos = 0; pos < input.length * 8; pos++) {
    if ((input[pos >> 3] >> (7 - (pos & 7))) & 1) hash = (hash ^ window) >>> 0;
    window = ((window << 1) | keyBit(pos + 32)) >>> 0;
  }
  return hash;
}

/** The hash input of an IPv4 flow: source and destination address, then ports when `ports`. */
export function ipv4Tuple(src: string, dst: string, sport?: number, dport?: number): number[] {
  const a = (s: string) => s.split('.').map(Number);
  const out = [...a(src), ...a(dst)];
  if (sport !== undefined && dport !== undefined) out.push(sport >> 8, sport & 0xff, dport >> 8, dport & 0xff);
  return out;
}
