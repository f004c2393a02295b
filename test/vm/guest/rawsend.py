#!/usr/bin/python3
# In the guest: sends hand-made Ethernet/IPv4/UDP frames from a kernel NIC through an AF_PACKET socket, so a test
# can send what the kernel's stack never would (corrupted checksums, chosen 5-tuples, 802.1Q tags).
#   rawsend.py IFACE DST_MAC KIND COUNT [FLOWS]
# KIND: rss (FLOWS flows: source ports 10000..10000+FLOWS-1, COUNT frames each), good, badip (IPv4 header checksum
# wrong), badudp (UDP checksum wrong), vlan (tagged with VID 100). The first payload byte names the kind
# (R, G, I, U, V) and the next four carry a sequence number. Prints sent=N.
import socket
import struct
import sys
import time

iface, dst_mac, kind, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
flows = int(sys.argv[5]) if len(sys.argv) > 5 else 1
src_mac = open(f'/sys/class/net/{iface}/address').read().strip()
SRC_IP, DST_IP = '10.99.0.1', '10.99.0.2'


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def frame(sport: int, seq: int, marker: bytes) -> bytes:
    payload = marker + struct.pack('!I', seq) + bytes(range(32))
    src, dst = socket.inet_aton(SRC_IP), socket.inet_aton(DST_IP)
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack('!BBH', 0, 17, udp_len)
    udp = struct.pack('!HHHH', sport, 9999, udp_len, 0) + payload
    uc = csum(pseudo + udp) or 0xffff
    if kind == 'badudp':
        uc ^= 0x5a5a
    udp = udp[:6] + struct.pack('!H', uc) + udp[8:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + udp_len, seq & 0xffff, 0x4000, 64, 17, 0, src, dst)
    ic = csum(ip)
    if kind == 'badip':
        ic ^= 0x5a5a
    ip = ip[:10] + struct.pack('!H', ic) + ip[12:]
    eth = bytes.fromhex(dst_mac.replace(':', '')) + bytes.fromhex(src_mac.replace(':', ''))
    if kind == 'vlan':
        eth += struct.pack('!HH', 0x8100, 100)
    return eth + struct.pack('!H', 0x0800) + ip + udp


marker = {'rss': b'R', 'good': b'G', 'badip': b'I', 'badudp': b'U', 'vlan': b'V'}[kind]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
sent = 0
for f in range(flows):
    for i in range(count):
        s.send(frame(10000 + f, sent, marker))
        sent += 1
        if sent % 32 == 0:
            time.sleep(0.01)  # paced: the qdisc and the emulated NIC keep every frame
print(f'sent={sent}')
