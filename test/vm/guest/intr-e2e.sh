#!/bin/bash
# In the guest: intr-e2e.sh MODE. RX interrupts over VFIO MSI-X (test/vm/intr.vm.ts):
# 1. examples/l2fwd-power bridges pktio's ports A and B (ns0 <-> ns1): after a ping, 10 s without traffic, the
#    forwarding lcore's thread CPU time from /proc/PID/task/TID/stat (its tid from l2fwd-power's statistics); ping
#    RTTs (20 pings, 0.2 s apart: the lcore sleeps between them); 10,000 UDP datagrams from ns0 to ns1.
# 2. examples/l2fwd (busy polling) on the same ports: its busiest thread's CPU over 5 s idle, and the same pings.
# 3. examples/responder (when built) answers ping on port A through MSI-X.
# Prints KEY=VALUE lines.
set -u
MODE=$1
G=$(cd "$(dirname "$0")" && pwd)
. "$G/l2fwd-lib.sh" # ROOT, A, B, l2fwd_eal, app_wait, links_up, port_stats, msix_irqs, nic_stat, kernel_rings_max
[ -n "${PKTIO_VM_PREPARED:-}" ] || bash "$G/prepare.sh" "$MODE" || { echo "prepare_failed=1"; exit 1; }
sysctl -qw net.core.rmem_max=33554432
# the kernel NICs' rings at their largest, as l2fwd-e2e.sh does: QEMU's e1000e and igb drop a frame that finds the
# receiver's ring full (9 of 10,000 datagrams went so beside a unit run, pktio having sent all of them)
kernel_rings_max
l2fwd_eal "$MODE" || exit 1
HZ=$(getconf CLK_TCK)
# utime + stime of a thread, in clock ticks (fields 14 and 15 of stat; the name in parentheses may hold spaces)
ticks() { sed 's/.*) //' "/proc/$1/task/$2/stat" | awk '{ print $12 + $13 }'; }
# CPU % of thread $2 of process $1 over $3 seconds
cpu_pct() {
    local t0 t1
    t0=$(ticks "$1" "$2") || return 1
    sleep "$3"
    t1=$(ticks "$1" "$2") || return 1
    awk -v d=$((t1 - t0)) -v hz="$HZ" -v s="$3" 'BEGIN { printf "%.2f\n", d * 100 / hz / s }'
}
# CPU % over $2 seconds of the thread of process $1 that used the most in that time (l2fwd's polling lcore; the main
# thread has more CPU time in all, from compiling at start-up under TCG)
busiest_pct() {
    local t v best=0
    declare -A t0
    for t in /proc/$1/task/*; do t0[${t##*/}]=$(ticks "$1" "${t##*/}" 2>/dev/null); done
    sleep "$2"
    for t in "${!t0[@]}"; do
        v=$(ticks "$1" "$t" 2>/dev/null) || continue
        [ $((v - t0[$t])) -gt "$best" ] && best=$((v - t0[$t]))
    done
    awk -v d="$best" -v hz="$HZ" -v s="$2" 'BEGIN { printf "%.2f\n", d * 100 / hz / s }'
}
# ping's average RTT in ms from 20 pings 0.2 s apart
rtt() { ip netns exec ns0 ping -c 20 -i 0.2 -W 2 10.99.0.2 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }

# ---- 1. l2fwd-power ------------------------------------------------------------------------------------------------
node "$ROOT/dist/examples/l2fwd-power/main.js" -l 0,1 -a $A -a $B "${EAL[@]}" -m 128 --log-level info -- \
    -q 2 --no-mac-updating -P -T 2 > power.log 2>&1 &
P=$!
app_wait power.log $P || { echo "power_started=0"; cat power.log; exit 1; }
echo "power_started=1"
links_up
ip netns exec ns0 ping -c 3 -W 3 10.99.0.2 > /dev/null 2>&1
echo "power_ping_rc=$?"
for i in $(seq 1 20); do grep -q 'Lcore 1 (thread' power.log && break; sleep 0.5; done
TID=$(sed -n 's/^Lcore 1 (thread \([0-9]*\)).*/\1/p' power.log | tail -1)
echo "power_tid=$TID"
sleep 1
echo "power_idle_cpu_pct=$(cpu_pct $P "$TID" 10)"
echo "power_rtt_ms=$(rtt)"
ip netns exec ns1 node "$G/udp.mjs" recv 9999 10000 90 > recv.log 2>&1 &
R=$!
for i in $(seq 1 50); do grep -q listening recv.log && break; sleep 0.2; done
ip netns exec ns0 node "$G/udp.mjs" send 10.99.0.2 9999 10000 64 > /dev/null
wait $R
sed -n 's/^\(received\|intact\)=/power_\1=/p' recv.log
# where a datagram pktio sent could be lost after it: ns1's NIC (its ring full: missed) or its socket
for c in rx_packets rx_missed_errors rx_dropped; do echo "power_ns1_${c%_errors}=$(nic_stat ns1 $c)"; done
echo "power_msix_irqs=$(( $(msix_irqs $A) + $(msix_irqs $B) ))"
sleep 1
kill -INT $P
wait $P
echo "power_rc=$?"
port_stats power.log power_
sed -n 's/.*| total wake-ups \([0-9]*\), asleep \([0-9.]*\) s$/power_wakeups=\1\npower_asleep_s=\2/p' power.log | tail -2
grep -q 'Bye' power.log && echo "power_bye=1"
grep -q 'not returned' power.log && echo "power_mbufs_lost=1"

# ---- 2. l2fwd, busy polling ------------------------------------------------------------------------------------------
node "$ROOT/dist/examples/l2fwd/main.js" -l 0,1 -a $A -a $B "${EAL[@]}" -m 128 --log-level info -- \
    -q 2 --no-mac-updating -P -T 0 > busy.log 2>&1 &
P=$!
app_wait busy.log $P || { echo "busy_started=0"; cat busy.log; exit 1; }
links_up
ip netns exec ns0 ping -c 3 -W 3 10.99.0.2 > /dev/null 2>&1
echo "busy_ping_rc=$?"
sleep 1
echo "busy_idle_cpu_pct=$(busiest_pct $P 5)"
echo "busy_rtt_ms=$(rtt)"
kill -INT $P
wait $P
echo "busy_rc=$?"

# ---- 3. responder on port A (MSI-X) ------------------------------------------------------------------------------
RESP=$ROOT/dist/examples/responder/main.js
if [ -f "$RESP" ]; then
    # an address of ns0's subnet that no namespace has: ns0 ARPs for it, the responder answers through port A
    node "$RESP" -l 0 -a $A "${EAL[@]}" -m 128 --log-level info -- --ip 10.99.0.10 > responder.log 2>&1 &
    P=$!
    for i in $(seq 1 120); do grep -q '^answering' responder.log && break; kill -0 $P 2>/dev/null || break; sleep 0.5; done
    sleep 1
    ip netns exec ns0 ping -c 5 -i 0.3 -W 3 10.99.0.10 > resp-ping.log 2>&1
    echo "responder_ping_rc=$?"
    echo "responder_msix_irqs=$(msix_irqs $A)"
    sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/responder_ping_sent=\1\nresponder_ping_received=\2/p' resp-ping.log
    kill -INT $P
    wait $P
    echo "responder_rc=$?"
    tail -20 responder.log | sed 's/^/responder_log: /'
else
    echo "responder_missing=1"
fi
# ---- 4. VFIO interrupts of port A, each kind: MSI-X, MSI, INTx (82574 only: its ICS raises a cause) ------------
if [ "$(cat /sys/bus/pci/devices/$A/device)" = 0x10d3 ]; then node "$G/irq-check.mjs" $A $MODE; fi
[ $MODE = cdev ] && FLOW=cdev || FLOW=legacy
FLOW=$FLOW node "$G/readback.mjs" $A $B
