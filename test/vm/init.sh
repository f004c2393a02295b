#!/bin/sh
# /init of the rig's initramfs (busybox): mount the host root read-only over 9p, give it fresh /proc, /sys, /dev,
# /run and /tmp, mount the run's writable share at its host path, chroot, run its cmd.sh, store the exit status.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
OUT= KEEP= HB=0
for a in $(cat /proc/cmdline); do
    case $a in pktio.out=*) OUT=${a#pktio.out=} ;; pktio.keep=*) KEEP=${a#pktio.keep=} ;; pktio.hb=*) HB=${a#pktio.hb=} ;; esac
done
fail() { echo "pktio-vm init: $*" > /dev/console; poweroff -f; }
for m in $(cat /modules); do insmod /lib/modules/$m || fail "insmod $m"; done
R=/mnt/root
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro host $R || fail "mount host root"
# the checkout under test stays visible even when it lives under /tmp or /run, which get fresh tmpfs below
[ -n "$KEEP" ] && { mkdir -p /mnt/keep; mount -o bind $R$KEEP /mnt/keep || fail "bind $KEEP"; }
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm 2>/dev/null
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
ln -s /proc/self/fd $R/dev/fd 2>/dev/null
mount -t tmpfs tmpfs $R/run
mount -t tmpfs tmpfs $R/tmp
mount -t debugfs none $R/sys/kernel/debug 2>/dev/null
if [ -n "$KEEP" ]; then mkdir -p $R$KEEP 2>/dev/null; mount -o move /mnt/keep $R$KEEP || fail "move $KEEP"; fi
[ -n "$OUT" ] || fail "no pktio.out= on the kernel command line"
mkdir -p $R$OUT 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none out $R$OUT || fail "mount out share"
: > $R$OUT/started   # run.sh: from here on, a QEMU crash is the command's failure, not a boot to retry
# The heartbeat (run.sh --heartbeat S): every S seconds, on the second serial port, which QEMU writes to
# OUT/heartbeat.log on the host. It uses only this initramfs's busybox and /proc, never the 9p shares, since a hung
# share is one way a guest stalls. Each process (not kernel threads) as "pid ppid state wchan comm: args", the kernel
# stack of each one in uninterruptible sleep (D), and the kernel's messages since the last heartbeat (the console
# shows only errors). The args are read under a 1 s timeout: reading /proc/PID/cmdline takes the process's mmap
# lock, and a process whose lock a stuck thread holds (a page fault on a hung share) would stop the heartbeat too.
# A guest command that runs out of time shows its last heartbeat.
heartbeat() {
    n=0 seen=$(dmesg | wc -l)
    while sleep "$HB"; do
        n=$((n + 1))
        read -r up _ < /proc/uptime
        read -r l1 l2 l3 _ < /proc/loadavg
        echo "=== heartbeat $n: up $up s, load $l1 $l2 $l3, $(grep MemAvailable /proc/meminfo | tr -s ' ')"
        for d in /proc/[0-9]*; do
            read -r st < "$d/stat" 2>/dev/null || continue
            c=${st#*(} c=${c%)*} st=${st##*) } state=${st%% *} st=${st#* } ppid=${st%% *}
            [ "$ppid" = 2 ] || [ "$ppid" = 0 ] && [ "${d#/proc/}" != 1 ] && continue
            w=; read -r w < "$d/wchan" 2>/dev/null
            echo "${d#/proc/} $ppid $state ${w:--} $c: $(timeout -s KILL 1 cat "$d/cmdline" 2>/dev/null | tr '\0' ' ' | cut -c1-160)"
            [ "$state" = D ] && timeout -s KILL 1 cat "$d/stack" 2>/dev/null
        done
        total=$(dmesg | wc -l)
        [ "$total" -gt "$seen" ] && { echo "--- kernel:"; dmesg | tail -n $((total - seen)) | tail -n 40; }
        seen=$total
    done
}
[ "$HB" -gt 0 ] 2>/dev/null && [ -e /dev/ttyS1 ] && heartbeat < /dev/null > /dev/ttyS1 2>&1 &
chroot $R /usr/bin/env -i HOME=/root TERM=dumb PKTIO_VM_OUT=$OUT PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/sh -c "cd $OUT && exec /bin/bash $OUT/cmd.sh" < /dev/console > /dev/console 2>&1
echo $? > $R$OUT/rc
kill -TERM -1 2>/dev/null; sleep 0.2; kill -KILL -1 2>/dev/null
sync
umount $R$OUT
poweroff -f
