#!/bin/bash
# In the guest: mixed-traffic.sh MODE SECONDS. examples/l2fwd (--no-mac-updating) bridges ns0 and ns1 over pktio's
# two ports for SECONDS while, in both directions at once: a ping flood (ping -f), UDP of many sizes over 4 flows
# each way (guest/udp-mix.mjs, 18 to 8972 bytes of payload), and with jumbo frames (MTU 9000, l2fwd --max-pkt-len
# 9018: every model of the rig has them) pings of 8972 bytes with DF set. Then the traffic stops, the queues drain,
# the kernel NICs' counters are read, l2fwd stops on SIGINT, and the KEY=VALUE lines below compare them.
#
# "Equal", per direction (ns0 -> port 0 -> l2fwd -> port 1 -> ns1, and the reverse), every sum exact:
#   in:   the sending kernel NIC's tx_packets = pktio's port ipackets + imissed + ierrors (what the NIC missed for
#         want of a descriptor is counted there, not lost unseen) and ipackets = what l2fwd received (rx_nombuf 0)
#   fwd:  what l2fwd received on the port = what it sent on the other + what it dropped there
#   out:  what l2fwd sent = the other port's opackets (oerrors 0)
#   recv: the other port's opackets = the receiving kernel NIC's rx_packets + rx_missed_errors + rx_fifo_errors
#         (a kernel ring overrun under TCG is the one loss allowed, and only when that NIC counts it)
#   stack: the sending stack's ICMP + UDP out - its NIC's tx_packets = what its qdisc dropped
# mixed_equal=1 when all twelve sums hold; mixed_lossless=1 when moreover nothing was missed or dropped anywhere.
# Each mismatch prints a mismatch_* line with both sides. The kernel's UDP and ICMP counters (per namespace) and
# each generator's own counts follow, and ping's summary.
set -u
MODE=$1
SECONDS_RUN=$2
G=$(cd "$(dirname "$0")" && pwd)
. "$G/l2fwd-lib.sh"
case ${PKTIO_VM_PORT_A_MODEL:-e1000e} in e1000e|igb|virtio*) JUMBO=1 MAXUDP=8972 ;; *) JUMBO=0 MAXUDP=1472 ;; esac
l2fwd_setup "$MODE" $JUMBO || exit 1
echo "jumbo=$JUMBO"
# a plain FIFO of 10,000 frames as each kernel NIC's qdisc: the default fq_codel drops what waits over 5 ms, which
# the slow emulated NICs make common (3 frames in 20 s in a first run), before the NIC counts anything
for ns in ns0 ns1; do ip netns exec $ns tc qdisc replace dev eth0 root pfifo limit 10000; done
# no ARP during the run: every frame counted is one the generators sent (or its answer)
neigh_permanent
NIC_KEYS=(rx_packets tx_packets rx_missed_errors rx_fifo_errors rx_over_errors rx_errors rx_dropped tx_dropped tx_errors)
declare -A BEFORE
for ns in ns0 ns1; do for c in "${NIC_KEYS[@]}"; do BEFORE[$ns.$c]=$(nic_stat $ns $c); done; done
# the kernel's counters beside the NIC's, "NAME=value" per namespace, one per line: IP, ICMP and UDP from
# /proc/net/snmp (Proto_Name), the root qdisc's (qdisc_sent, qdisc_dropped, qdisc_requeues) and the driver's own
# (ethtool -S, ethtool_NAME): where a frame the stack sent went missing before the NIC counted it
SNMP_KEYS=' Ip_OutRequests Ip_OutDiscards Ip_OutNoRoutes Ip_InReceives Ip_InDiscards Ip_InDelivers Icmp_InMsgs Icmp_InErrors
 Icmp_InEchos Icmp_InEchoReps Icmp_OutMsgs Icmp_OutErrors Icmp_OutEchos Icmp_OutEchoReps Udp_InDatagrams Udp_NoPorts
 Udp_InErrors Udp_OutDatagrams Udp_RcvbufErrors Udp_SndbufErrors '
stack_stats() {
    ip netns exec "$1" awk -v keys="$SNMP_KEYS" '/^(Ip|Icmp|Udp):/ { p = substr($1, 1, length($1) - 1)
        if (h[p]) { for (i = 2; i <= NF; i++) if (index(keys, " " p "_" n[i] " ")) print p "_" n[i] "=" $i }
        else { for (i = 2; i <= NF; i++) n[i] = $i; h[p] = 1 } }' /proc/net/snmp
    ip netns exec "$1" tc -s qdisc show dev eth0 | sed -n '0,/Sent/s/.*Sent [0-9]* bytes \([0-9]*\) pkt (dropped \([0-9]*\), overlimits [0-9]* requeues \([0-9]*\)).*/qdisc_sent=\1\nqdisc_dropped=\2\nqdisc_requeues=\3/p'
    ip netns exec "$1" ethtool -S eth0 2>/dev/null | sed -n 's/^ *\([a-z0-9_]*\): \([0-9]*\)$/ethtool_\1=\2/p'
}
declare -A STACK0
for ns in ns0 ns1; do while IFS== read -r k v; do STACK0[$ns.$k]=$v; done < <(stack_stats $ns); done

# mixed_verdict KVFILE...: the sums of the header, both directions, from the KEY=VALUE lines gathered
mixed_verdict() {
    cat "$@" | awk -F= '
        { v[$1] = $2 }
        function n(k) { if (!(k in v)) { missing = missing " " k; return 0 } return v[k] + 0 }
        function check(name, left, lexpr, right, rexpr) {
            if (left != right) { bad++; printf "mismatch_%s=%s!=%s (%s vs %s)\n", name, left, right, lexpr, rexpr }
        }
        END {
            for (d = 0; d < 2; d++) {
                src = "ns" d; dst = "ns" (1 - d); i = "pktio_port" d; o = "pktio_port" (1 - d); dir = d "to" (1 - d)
                check("in_" dir, n(src "_tx_packets"), src " tx_packets", n(i "_ipackets") + n(i "_imissed") + n(i "_ierrors"),
                      i " ipackets+imissed+ierrors")
                check("rxapp_" dir, n(i "_ipackets"), i " ipackets", n(i "_rx") + n(i "_rx_nombuf"), "l2fwd rx + rx_nombuf")
                check("fwd_" dir, n(i "_rx"), "l2fwd rx port " d, n(o "_tx") + n(o "_drop"), "l2fwd tx + drop port " (1 - d))
                check("out_" dir, n(o "_tx"), "l2fwd tx port " (1 - d), n(o "_opackets") - n(o "_oerrors"), o " opackets-oerrors")
                check("recv_" dir, n(o "_opackets"), o " opackets",
                      n(dst "_rx_packets") + n(dst "_rx_missed_errors") + n(dst "_rx_fifo_errors"), dst " rx_packets+rx_missed+rx_fifo")
                lost += n(i "_imissed") + n(i "_ierrors") + n(i "_rx_nombuf") + n(o "_drop") + n(o "_oerrors")
                lost += n(dst "_rx_missed_errors") + n(dst "_rx_fifo_errors") + n(dst "_rx_dropped") + n(src "_tx_dropped")
                frames += n(src "_tx_packets")
                # the stacks: every frame the sending stack counted went through its NIC or was dropped by its
                # qdisc; UDP datagrams sent that the other stack did not take in, for the record
                unsent = n(src "_Icmp_OutMsgs") + n(src "_Udp_OutDatagrams") - n(src "_tx_packets")
                check("stack_" src, unsent, src " ICMP+UDP out - tx_packets", n(src "_qdisc_dropped"), src " qdisc dropped")
                lost += n(src "_qdisc_dropped")
                printf "stack_udp_lost_%s=%d\n", dir, n(src "_Udp_OutDatagrams") - n(dst "_Udp_InDatagrams") - n(dst "_Udp_RcvbufErrors") - n(dst "_Udp_InErrors")
            }
            if (missing != "") { bad++; print "mismatch_missing_keys=" substr(missing, 2) }
            printf "mixed_frames=%d\nmixed_lost=%d\nmixed_equal=%d\nmixed_lossless=%d\n", frames, lost, bad == 0, bad == 0 && lost == 0
        }'
}

l2fwd_start l2fwd.log -q 2 --no-mac-updating -P -T 0 "${APP[@]}" || exit 1
ip netns exec ns0 ping -c 3 -W 3 10.99.0.2 > ping.log 2>&1
echo "ping_rc=$?"

# the traffic: UDP ends first bound, then all generators started together
ip netns exec ns0 node "$G/udp-mix.mjs" 10.99.0.2 7000 4 "$SECONDS_RUN" 3 $MAXUDP > udp-ns0.log 2>&1 &
U0=$!
ip netns exec ns1 node "$G/udp-mix.mjs" 10.99.0.1 7000 4 "$SECONDS_RUN" 3 $MAXUDP > udp-ns1.log 2>&1 &
U1=$!
for i in $(seq 1 100); do grep -q listening udp-ns0.log && grep -q listening udp-ns1.log && break; sleep 0.2; done
kill -USR1 $U0 $U1
PINGS=()
ip netns exec ns0 ping -q -f -w "$SECONDS_RUN" 10.99.0.2 > flood-ns0.log 2>&1 & PINGS+=($!)
ip netns exec ns1 ping -q -f -w "$SECONDS_RUN" 10.99.0.1 > flood-ns1.log 2>&1 & PINGS+=($!)
if [ $JUMBO = 1 ]; then
    # 8972 bytes of ICMP payload + 28 of headers = a 9000-byte IP packet that crosses whole or not at all
    ip netns exec ns0 ping -q -i 0.02 -s 8972 -M do -w "$SECONDS_RUN" 10.99.0.2 > jumbo-ns0.log 2>&1 & PINGS+=($!)
    ip netns exec ns1 ping -q -i 0.02 -s 8972 -M do -w "$SECONDS_RUN" 10.99.0.1 > jumbo-ns1.log 2>&1 & PINGS+=($!)
fi
wait "${PINGS[@]}" $U0 $U1
# every generator has stopped (udp-mix.mjs also waited 3 s for late datagrams): 2 s more for the rings to drain
sleep 2
for ns in ns0 ns1; do
    for c in "${NIC_KEYS[@]}"; do echo "${ns}_$c=$(($(nic_stat $ns $c) - BEFORE[$ns.$c]))"; done
    # the driver's counters only where they moved (ethtool -S lists dozens)
    while IFS== read -r k v; do
        d=$((v - ${STACK0[$ns.$k]:-0}))
        [ "${k#ethtool_}" = "$k" ] || [ $d != 0 ] && echo "${ns}_$k=$d"
    done < <(stack_stats $ns)
    sed "s/^udp_/${ns}_gen_udp_/" udp-$ns.log | grep "^${ns}_gen_udp_"
    # ping's summary: "N packets transmitted, M received"
    for kind in flood jumbo; do
        [ -f $kind-$ns.log ] || continue
        sed -n "s/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/${ns}_${kind}_ping_tx=\1\n${ns}_${kind}_ping_rx=\2/p" $kind-$ns.log
    done
done > kernel.kv
cat kernel.kv
l2fwd_stop l2fwd.log > l2fwd.kv
cat l2fwd.kv
sed -n 's/^Port \([0-9]*\) counters: \(.*\)/\1 \2/p' l2fwd.log | while read -r p rest; do
    for kv in $rest; do echo "pktio_port${p}_$kv"; done
done | tee ethdev.kv
mixed_verdict kernel.kv l2fwd.kv ethdev.kv | tee verdict.kv
grep -q '^mixed_equal=1' verdict.kv || tail -n 40 l2fwd.log | sed 's/^/l2fwd.log: /'
FLOW=$FLOW node "$G/readback.mjs" $A $B
