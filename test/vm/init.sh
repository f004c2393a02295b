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
# OUT/heartbeat.log on the host, so not through the out share, which may be what hangs. Each process (kernel threads
# and the heartbeat's own left out) with its state and the kernel function it waits in, the kernel stack of each
# process in uninterruptible sleep (D), and the kernel's new messages (the console shows only errors, loglevel 3).
# A guest command that runs out of time shows its last heartbeat.
if [ "$HB" -gt 0 ] 2>/dev/null && [ -e /dev/ttyS1 ]; then
    chroot $R /usr/bin/env -i HB=$HB PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c '
        n=0 seen=0
        while sleep "$HB"; do
            n=$((n + 1))
            echo "=== heartbeat $n: up $(cut -d" " -f1 /proc/uptime) s, load $(cut -d" " -f1-3 /proc/loadavg)," \
                "MemAvailable $(awk "/^MemAvailable/ { print \$2 }" /proc/meminfo) kB"
            ps -eo pid,ppid,stat,wchan:24,etimes,args --no-headers | awk "\$2 != 2 && \$1 != 2 && \$1 != $$ && \$2 != $$" | cut -c1-200
            for st in /proc/[0-9]*/stat; do
                s=$(cat "$st" 2>/dev/null) || continue
                s=${s##*) } pid=${st#/proc/} pid=${pid%/stat}
                [ "${s%% *}" = D ] || continue
                echo "--- $pid D: $(tr "\0" " " < /proc/$pid/cmdline 2>/dev/null | cut -c1-120)"
                cat /proc/$pid/stack 2>/dev/null
            done
            total=$(dmesg | wc -l)
            [ "$total" -gt "$seen" ] && { echo "--- kernel:"; dmesg | tail -n $((total - seen)) | tail -n 40; }
            seen=$total
        done' < /dev/null > /dev/ttyS1 2>&1 &
fi
chroot $R /usr/bin/env -i HOME=/root TERM=dumb PKTIO_VM_OUT=$OUT PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/sh -c "cd $OUT && exec /bin/bash $OUT/cmd.sh" < /dev/console > /dev/console 2>&1
echo $? > $R$OUT/rc
kill -TERM -1 2>/dev/null; sleep 0.2; kill -KILL -1 2>/dev/null
sync
umount $R$OUT
poweroff -f
