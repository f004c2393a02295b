#!/bin/bash
# In the guest: virtio-intr.sh MODE. net_virtio's RX interrupts (test/vm/virtio.vm.ts), about half a minute:
# examples/l2fwd-power bridges ns0 and ns1 over pktio's two virtio ports (intrConf.rxq: MSI-X vector q + 1 per RX
# queue, the ring's interrupt suppression lifted while the lcore sleeps); ping through it, 10 pings 0.3 s apart so
# the lcore falls asleep between them; then SIGINT. Prints KEY=VALUE lines prefixed with intr_.
set -u
MODE=$1
G=$(cd "$(dirname "$0")" && pwd)
. "$G/l2fwd-lib.sh" # ROOT, A, B, l2fwd_eal, app_wait, links_up, msix_irqs
[ -n "${PKTIO_VM_PREPARED:-}" ] || bash "$G/prepare.sh" "$MODE" || { echo "intr_prepare_failed=1"; exit 1; }
l2fwd_eal "$MODE" || exit 1

node "$ROOT/dist/examples/l2fwd-power/main.js" -l 0,1 -a $A -a $B "${EAL[@]}" -m 128 --log-level info -- \
    -q 2 --no-mac-updating -P -T 2 > intr.log 2>&1 &
P=$!
started=0
app_wait intr.log $P && started=1
echo "intr_started=$started"
if [ $started = 1 ]; then
    links_up
    ip netns exec ns0 ping -c 3 -W 3 10.99.0.2 > /dev/null 2>&1
    ip netns exec ns0 ping -c 10 -i 0.3 -W 3 10.99.0.2 > intr-ping.log 2>&1
    echo "intr_ping_rc=$?"
    sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/intr_ping_sent=\1\nintr_ping_received=\2/p' intr-ping.log
    echo "intr_msix_irqs=$(( $(msix_irqs $A) + $(msix_irqs $B) ))"
    sleep 2.5 # one statistics period (-T 2) after the pings
    kill -INT $P
fi
wait $P
echo "intr_rc=$?"
sed -n 's/.*| total wake-ups \([0-9]*\), asleep \([0-9.]*\) s$/intr_wakeups=\1\nintr_asleep_s=\2/p' intr.log | tail -2
grep -q 'Bye' intr.log && echo "intr_bye=1"
grep -q 'not returned' intr.log && echo "intr_mbufs_lost=1"
[ $started = 1 ] || sed 's/^/intr_log: /' intr.log | tail -20
exit 0
