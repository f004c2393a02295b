#!/bin/bash
# In the guest: nic-features.sh MODE. Topology "one": pktio's port A and a kernel NIC in ns0 on one hub.
# nic-features.ts receives 256 UDP flows (RSS), good and corrupted frames (checksum status) and VLAN-tagged frames
# from ns0's raw socket (rawsend.py), then sends VLAN-tagged and checksum-offloaded datagrams to ns0's sockets.
# Prints KEY=VALUE lines that test/vm/features.vm.ts checks.
set -u
MODE=$1
G=$(cd "$(dirname "$0")" && pwd)
. "$G/l2fwd-lib.sh" # ROOT, A, B, l2fwd_eal, nic_stat
[ -n "${PKTIO_VM_PREPARED:-}" ] || bash "$G/prepare.sh" "$MODE" || { echo "prepare_failed=1"; exit 1; }
l2fwd_eal "$MODE" || exit 1
NS="ip netns exec ns0"
# ns0: eth0 10.99.0.1/24 (prepare.sh), eth0.100 10.99.100.1/24; pktio's MAC for the .2 addresses
$NS ip link add link eth0 name eth0.100 type vlan id 100
$NS ip addr add 10.99.100.1/24 dev eth0.100
$NS ip link set eth0.100 up
$NS ip neigh replace 10.99.0.2 lladdr "$PKTIO_VM_PORT_A_MAC" dev eth0
$NS ip neigh replace 10.99.100.2 lladdr "$PKTIO_VM_PORT_A_MAC" dev eth0.100
NS0_MAC=$($NS cat /sys/class/net/eth0/address)
$NS node "$G/udp.mjs" recv 9997 100 120 > recv-vlan.log 2>&1 &
RV=$!
$NS node "$G/udp.mjs" recv 9998 100 120 > recv-csum.log 2>&1 &
RC=$!
cd "$ROOT"
# rawsend.py below: 4 x 256 RSS flows, then 50 each of good, badip, badudp and vlan = 1,224 UDP datagrams. The app
# receives until it has them all (180 s at most): python's start-up in a TCG guest on a loaded host took the five
# senders past the fixed 25 s window this phase once had, and the last kinds went missing.
EXPECT_FRAMES=1224 NS0_MAC=$NS0_MAC node "$ROOT/dist/test/vm/guest/nic-features.js" "$A" 180 "${EAL[@]}" > "$PKTIO_VM_OUT/app.log" 2>&1 &
APP=$!
cd - > /dev/null
for i in $(seq 1 240); do grep -q '^ready=1' app.log && break; kill -0 $APP 2>/dev/null || break; sleep 0.5; done
grep -q '^ready=1' app.log || { echo "app_ready=0"; cat app.log; exit 1; }
echo "app_ready=1"
sleep 1
$NS /usr/bin/python3 "$G/rawsend.py" eth0 "$PKTIO_VM_PORT_A_MAC" rss 4 256 | sed 's/^/rss_/'
$NS /usr/bin/python3 "$G/rawsend.py" eth0 "$PKTIO_VM_PORT_A_MAC" good 50 | sed 's/^/good_/'
$NS /usr/bin/python3 "$G/rawsend.py" eth0 "$PKTIO_VM_PORT_A_MAC" badip 50 | sed 's/^/badip_/'
$NS /usr/bin/python3 "$G/rawsend.py" eth0 "$PKTIO_VM_PORT_A_MAC" badudp 50 | sed 's/^/badudp_/'
$NS /usr/bin/python3 "$G/rawsend.py" eth0 "$PKTIO_VM_PORT_A_MAC" vlan 50 | sed 's/^/vlan_/'
$NS awk '/^Udp:/ { if (h) { print "ns0_udp_in_before=" $2; print "ns0_udp_csum_errors_before=" $8 } h = 1 }' /proc/net/snmp
wait $APP
echo "app_rc=$?"
cat app.log
wait $RV; sed 's/^/vlan_/' recv-vlan.log | grep -E '^vlan_(received|intact)='
wait $RC; sed 's/^/csum_/' recv-csum.log | grep -E '^csum_(received|intact)='
$NS awk '/^Udp:/ { if (h) { print "ns0_udp_in=" $2; print "ns0_udp_csum_errors=" $8 } h = 1 }' /proc/net/snmp
$NS awk '/^Ip:/ { if (h) print "ns0_ip_hdr_errors=" $5; h = 1 }' /proc/net/snmp
