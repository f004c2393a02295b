#!/bin/bash
# In the guest: kill-e2e.sh MODE CYCLES. CYCLES times: l2fwd takes pktio's two ports (PKTIO_VM_PORT_A / _B) at once
# (no unbind, no reset by hand), forwards a ping from ns0 to ns1, is killed with SIGKILL under a ping flood, and a
# second process reads the ports back: the PCI command register from sysfs config (bus master, bit 2) and RCTL.EN /
# TCTL.EN from BAR 0 through sysfs resource0 (memory decode turned on for the read only if the release turned it
# off: bus mastering is never touched). Before the first kill the same read while l2fwd runs shows bus mastering
# on (the BAR cannot be mapped through sysfs then: vfio-pci holds it for l2fwd, mmap answers EINVAL).
# At the end: HugePages_Free and the files in every hugetlbfs mount, against the start.
# Prints KEY=VALUE lines that test/vm/kill.vm.ts checks.
set -u
MODE=$1
CYCLES=${2:-3}
G=$(cd "$(dirname "$0")" && pwd)
. "$G/l2fwd-lib.sh" # ROOT, A, B, l2fwd_eal, app_wait
bash "$G/prepare.sh" "$MODE" || { echo "prepare_failed=1"; exit 1; }
l2fwd_eal "$MODE" || exit 1
# RCTL (0x100) and TCTL (0x400): the receive and transmit enable bits (bit 1) of the 82574 and 82576 alike
regs() { # BDF -> "busmaster=B mem=M rctl_en=R tctl_en=T"
    /usr/bin/python3 - "$1" <<'PY'
import mmap, os, struct, sys
d = f"/sys/bus/pci/devices/{sys.argv[1]}"
with open(f"{d}/config", "rb") as f:
    cmd = struct.unpack("<H", f.read(6)[4:6])[0]
mem = (cmd >> 1) & 1
if not mem:  # decode off after release: enable memory space only (bit 1) to read; bus master (bit 2) stays as is
    with open(f"{d}/config", "r+b") as f:
        f.seek(4); f.write(struct.pack("<H", cmd | 2))
fd = os.open(f"{d}/resource0", os.O_RDONLY | os.O_SYNC)
try:
    m = mmap.mmap(fd, 0x1000, mmap.MAP_SHARED, mmap.PROT_READ)
    rctl = (struct.unpack("<I", m[0x100:0x104])[0] >> 1) & 1
    tctl = (struct.unpack("<I", m[0x400:0x404])[0] >> 1) & 1
    m.close()
except OSError:  # EINVAL while vfio-pci holds the BAR for a user (l2fwd still running)
    rctl = tctl = "-"
os.close(fd)
if not mem:
    with open(f"{d}/config", "r+b") as f:
        f.seek(4); f.write(struct.pack("<H", cmd))
print(f"busmaster={(cmd >> 2) & 1} mem={mem} rctl_en={rctl} tctl_en={tctl}")
PY
}
hugefiles() { awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts | while read -r m; do find "$m" -mindepth 1 | wc -l; done | paste -sd+ | bc; }
echo "huge_free_before=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)"
echo "huge_files_before=$(hugefiles)"
for i in $(seq 1 "$CYCLES"); do
    t0=$(date +%s)
    node "$ROOT/dist/examples/l2fwd/main.js" -l 0,1 -a $A -a $B "${EAL[@]}" -m 128 --log-level info -- \
        -q 2 --no-mac-updating -P -T 0 > l2fwd-$i.log 2>&1 &
    L2=$!
    app_wait l2fwd-$i.log $L2 120 && echo "c${i}_started=1" || { echo "c${i}_started=0"; sed "s/^/c${i}_log: /" l2fwd-$i.log | tail -20; }
    echo "c${i}_start_s=$(($(date +%s) - t0))"
    ip netns exec ns0 ping -c 3 -W 3 10.99.0.2 > /dev/null 2>&1
    echo "c${i}_ping_rc=$?"
    [ "$i" = 1 ] && echo "live_A $(regs $A)"
    ip netns exec ns0 ping -f -s 1000 10.99.0.2 > /dev/null 2>&1 &
    F=$!
    sleep 2
    kill -9 $L2
    wait $L2 2>/dev/null
    echo "c${i}_rc=$?"
    kill $F 2>/dev/null; wait $F 2>/dev/null
    for p in A B; do eval bdf=\$$p; echo "c${i}_$p $(regs $bdf)"; done
    echo "c${i}_huge_free=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)"
done
echo "huge_free_after=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)"
echo "huge_files_after=$(hugefiles)"
