#!/bin/bash
# Provisions the VM test rig on a Debian 12 host, as root. Idempotent: a second run only checks.
#
# What it makes, all under $PKTIO_VM_CACHE (default /var/cache/pktio-vm), nothing in the repository:
#   kernel/           Debian's bookworm-backports 6.12 kernel image, unpacked (vmlinux for a fast PVH boot)
#   initrd.gz         a busybox initramfs: 9p modules, an /init that mounts the host root read-only and runs a command
#   mods/             vfio, vfio_iommu_type1, vfio-pci-core, vfio-pci and iommufd rebuilt from the same kernel's
#                     sources with no-IOMMU and the VFIO device cdev enabled (Debian builds neither)
#   qemu10/           QEMU 10 (qemu-system-x86, -data and seabios from bookworm-backports) unpacked with dpkg -x into
#                     qemu10/root, for igb (82576, QEMU 8+); libraries the host lacks are unpacked there too, and
#                     qemu10/qemu.env tells run.sh the binary, its data folders and LD_LIBRARY_PATH
# and installs with apt: qemu-system-x86 (7.2: q35, intel-iommu, e1000e; kept, selectable with run.sh --qemu system),
# busybox-static, the build tools, pciutils, ethtool and dpdk-dev (testpmd, the comparison in the guest). The backports
# packages come through a private APT state under the cache; /etc/apt and the system's QEMU are not touched.
set -euo pipefail
C=${PKTIO_VM_CACHE:-/var/cache/pktio-vm}
KVER=${PKTIO_VM_KVER:-6.12.95+deb12-amd64}
PKG=${PKTIO_VM_KPKG:-6.12.95-1~bpo12+1}
KV=${KVER%-amd64}
t0=$(date +%s)
say() { echo "provision: $*"; }
[ "$(id -u)" = 0 ] || { echo "provision: run as root (apt, and VFIO in the guest)" >&2; exit 1; }
mkdir -p "$C"

# 1. host packages
need=()
for p in qemu-system-x86 busybox-static cpio gcc make bc xz-utils zstd binutils libelf-dev dpdk-dev iproute2 iputils-ping pciutils ethtool; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    say "apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. kernel packages from bookworm-backports through a private APT state
A=$C/apt
papt_up=0
papt() { # COMMAND... with the private APT state (bookworm-backports; bookworm itself after papt_main)
    if [ $papt_up = 0 ]; then
        mkdir -p "$A"/{lists/partial,cache/archives/partial,sources.d} "$C/dl"
        cat > "$A/sources.d/backports.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        cat > "$A/apt.conf" <<EOF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$A/sources.d";
Dir::State::Lists "$A/lists";
Dir::Cache "$A/cache";
APT::Sandbox::User "root";
EOF
        APT_CONFIG=$A/apt.conf apt-get -qq update
        papt_up=1
    fi
    APT_CONFIG=$A/apt.conf "$@"
}
papt_main() { # also bookworm and bookworm-updates: only for libraries QEMU 10 needs and the host lacks
    papt true
    [ -f "$A/sources.d/bookworm.sources" ] && return 0
    sed 's/^Suites: .*/Suites: bookworm bookworm-updates/' "$A/sources.d/backports.sources" > "$A/sources.d/bookworm.sources"
    APT_CONFIG=$A/apt.conf apt-get -qq update
}
debs=(linux-image-$KVER linux-headers-$KVER linux-headers-$KV-common linux-kbuild-$KV linux-source-6.12)
have=1
for p in "${debs[@]}"; do ls "$C/dl/${p}_"*.deb >/dev/null 2>&1 || have=0; done
if [ $have = 0 ]; then
    say "downloading ${debs[*]} ($PKG)"
    want=(); for p in "${debs[@]}"; do want+=("$p=$PKG"); done
    papt true
    ( cd "$C/dl" && papt apt-get -qq download "${want[@]}" )
fi

# 2b. QEMU 10 for igb (82576 needs QEMU 8+; Debian 12 has 7.2), unpacked into the cache, never installed: dpkg -x of
# qemu-system-x86, qemu-system-data (pvh.bin, linuxboot_dma.bin of the same version) and seabios (1.16.3; bookworm's
# 1.16.2 is older than it wants). qemu-system-common holds only modules and helpers the rig does not use. Depends
# the host does not satisfy (absent, or older than required) are unpacked into the same root and go on
# LD_LIBRARY_PATH. The system's qemu-system-x86 7.2 stays as it is (run.sh --qemu system).
Q10=$C/qemu10
if [ ! -f "$Q10/qemu.env" ] || [ ! -x "$Q10/root/usr/bin/qemu-system-x86_64" ]; then
    t1=$(date +%s)
    QPKG=${PKTIO_VM_QEMU_PKG:-}   # pin a version (e.g. 1:10.0.2+ds-2+deb13u1~bpo12+1); default: what backports has
    qsel() { if [ -n "$QPKG" ]; then echo "$1=$QPKG"; else echo "$1/bookworm-backports"; fi; }
    T=$Q10.tmp R=$Q10.tmp/root
    rm -rf "$T"; mkdir -p "$T/debs"
    say "downloading QEMU from bookworm-backports"
    papt true
    ( cd "$T/debs" && papt apt-get -qq download "$(qsel qemu-system-x86)" "$(qsel qemu-system-data)" seabios/bookworm-backports )
    for d in "$T"/debs/*.deb; do dpkg -x "$d" "$R"; done
    # unsatisfied Depends: for each entry (a | b ...), the first alternative if none is installed in a fitting version
    missing=()
    while read -r entry; do
        [ -n "$entry" ] || continue
        ok=0 first=
        IFS='|' read -ra alts <<< "$entry"
        for a in "${alts[@]}"; do
            read -r n rel <<< "$a"; n=${n%%:*}
            [ -n "$first" ] || first=$n
            case $n in qemu-system-common|qemu-system-data|seabios) ok=1; break ;; esac
            st=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' "$n" 2>/dev/null) || continue
            [ "${st:0:2}" = ii ] || continue
            if [ -n "$rel" ]; then
                rel=${rel#(}; rel=${rel%)}; read -r op req <<< "$rel"
                case $op in '>=') op=ge ;; '<=') op=le ;; '>>') op=gt ;; '<<') op=lt ;; '=') op=eq ;; esac
                dpkg --compare-versions "${st#*|}" "$op" "$req" || continue
            fi
            ok=1; break
        done
        [ $ok = 1 ] || missing+=("$first")
    done < <(dpkg-deb -f "$T"/debs/qemu-system-x86_*.deb Depends | tr ',' '\n')
    LIBS=
    if [ ${#missing[@]} -gt 0 ]; then
        say "QEMU 10 needs what the host lacks: ${missing[*]} (unpacked beside it, not installed)"
        papt_main
        for p in "${missing[@]}"; do
            ( cd "$T/debs" && { papt apt-get -qq download "$p" || papt apt-get -qq download "$p/bookworm-backports"; } )
            dpkg -x "$T"/debs/"${p}"_*.deb "$R"
        done
        LIBS=$Q10/root/usr/lib/x86_64-linux-gnu:$Q10/root/lib/x86_64-linux-gnu
    fi
    TL=${LIBS//$Q10\/root/$R}
    QB=$R/usr/bin/qemu-system-x86_64
    if LD_LIBRARY_PATH=$TL ldd "$QB" | grep -E 'not found'; then
        echo "provision: QEMU 10's shared libraries do not all resolve (above)" >&2; exit 1
    fi
    ver=$(LD_LIBRARY_PATH=$TL "$QB" --version | sed -n 's/^QEMU emulator version \([0-9][0-9.]*\).*/\1/p') || true
    [ -n "$ver" ] && [ "${ver%%.*}" -ge 8 ] || { echo "provision: QEMU '$ver' from backports does not run or is older than 8" >&2; exit 1; }
    # (not "-device help": that loads every module, and the only ones on this host are the system QEMU's)
    LD_LIBRARY_PATH=$TL "$QB" -device igb,help > /dev/null || { echo "provision: QEMU $ver has no igb device" >&2; exit 1; }
    printf '%s\n' "# written by provision.sh; read by run.sh" "QEMU10_VERSION=$ver" \
        "QEMU10_BIN=$Q10/root/usr/bin/qemu-system-x86_64" \
        "QEMU10_DATA='$Q10/root/usr/share/qemu $Q10/root/usr/share/seabios'" "QEMU10_LIBS=$LIBS" > "$T/qemu.env"
    rm -rf "$T/debs" "$Q10"
    mv "$T" "$Q10"
    say "QEMU $ver unpacked in $Q10 ($(($(date +%s) - t1)) s)"
fi

# 3. kernel image, modules index, PVH vmlinux
K=$C/kernel
MD=$K/lib/modules/$KVER
if [ ! -f "$C/vmlinux" ]; then
    rm -rf "$K"; mkdir -p "$K"
    dpkg -x "$C"/dl/linux-image-"${KVER}"_*.deb "$K"
    busybox depmod -b "$K" "$KVER"
    # the bzImage is zstd-compressed; QEMU boots the ELF inside it directly (PVH note), skipping decompression
    img=$K/boot/vmlinuz-$KVER
    off=$(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$img" | head -1 | cut -d: -f1)
    tail -c +$((off + 1)) "$img" | zstd -dcq 2>/dev/null > "$C/vmlinux.tmp" || true
    readelf -n "$C/vmlinux.tmp" | grep -q '0x00000012' || { echo "provision: no PVH note in the kernel" >&2; exit 1; }
    mv "$C/vmlinux.tmp" "$C/vmlinux"
fi

# 4. initramfs: busybox + virtio/9p modules + init
if [ ! -f "$C/initrd.gz" ] || [ "$(dirname "$0")/init.sh" -nt "$C/initrd.gz" ]; then
    W=$(mktemp -d)
    mkdir -p "$W"/{bin,dev,proc,sys,mnt/root,lib/modules}
    cp /bin/busybox "$W/bin/busybox"
    for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$W/bin/$a"; done
    # dependency order from modules.dep (virtio_pci is built in on 6.12)
    order=()
    add() {
        local line; line=$(grep -E "/$1\.ko(\.[a-z]+)?:" "$MD/modules.dep" | head -1) || true
        [ -n "$line" ] || return 0
        local d; for d in ${line#*:}; do d=${d##*/}; add "${d%%.ko*}"; done
        case " ${order[*]:-} " in *" ${line%%:*} "*) ;; *) order+=("${line%%:*}") ;; esac
    }
    for m in virtio_pci netfs 9pnet 9pnet_virtio 9p; do add "$m"; done
    for p in "${order[@]}"; do
        b=${p##*/}
        case $b in *.ko.xz) xz -dc "$MD/$p" > "$W/lib/modules/${b%.xz}" ;; *) cp "$MD/$p" "$W/lib/modules/" ;; esac
        echo "${b%.xz}" >> "$W/modules"
    done
    cp "$(dirname "$0")/init.sh" "$W/init"
    chmod +x "$W/init"
    # a new file moved into place: guests starting meanwhile read the old one whole
    ( cd "$W" && find . | cpio -o -H newc --quiet | gzip -1 > "$C/initrd.gz.tmp" ) && mv "$C/initrd.gz.tmp" "$C/initrd.gz"
    rm -rf "$W"
fi

# 5. vfio + iommufd with CONFIG_VFIO_NOIOMMU and CONFIG_VFIO_DEVICE_CDEV, out of tree
if [ ! -f "$C/mods/vfio.ko" ]; then
    H=$C/build/hdr
    rm -rf "$C/build"; mkdir -p "$H" "$C/build/src"
    for p in "linux-headers-$KVER" "linux-headers-$KV-common" "linux-kbuild-$KV"; do dpkg -x "$C"/dl/"${p}"_*.deb "$H"; done
    KH=$H/usr/src/linux-headers-$KVER
    sed -i "s|^include /usr/src/|include $H/usr/src/|" "$KH/Makefile"
    S=$C/build/src/linux-source-6.12
    dpkg-deb --fsys-tarfile "$C"/dl/linux-source-6.12_*.deb | tar -xO ./usr/src/linux-source-6.12.tar.xz |
        tar -xJ -C "$C/build/src" linux-source-6.12/drivers/vfio linux-source-6.12/drivers/iommu/iommufd \
            linux-source-6.12/drivers/iommu/iommu-priv.h linux-source-6.12/lib/interval_tree.c
    B=$C/build/m
    mkdir -p "$B/iommu/iommufd" "$B/vfio/pci"
    cp "$S/drivers/iommu/iommu-priv.h" "$B/iommu/"
    cp "$S"/drivers/iommu/iommufd/*.[ch] "$B/iommu/iommufd/"
    cp "$S"/drivers/vfio/*.[ch] "$B/vfio/"
    cp "$S"/drivers/vfio/pci/*.[ch] "$B/vfio/pci/"
    # iommufd needs the interval-tree span iterator, which this kernel was built without: link lib's copy in
    { echo '#include <linux/interval_tree.h>'
      sed -n '/^#ifdef CONFIG_INTERVAL_TREE_SPAN_ITER/,/^#endif/p' "$S/lib/interval_tree.c" | grep -v '^EXPORT_SYMBOL'
    } > "$B/iommu/iommufd/span_iter.c"
    printf '%s\n' 'subdir-ccflags-y += -DCONFIG_IOMMUFD_MODULE=1 -DCONFIG_VFIO_DEVICE_CDEV=1 -DCONFIG_VFIO_NOIOMMU=1 -DCONFIG_INTERVAL_TREE_SPAN_ITER=1' \
        'obj-m += iommu/iommufd/ vfio/' > "$B/Kbuild"
    printf '%s\n' 'obj-m += iommufd.o' \
        'iommufd-y := device.o fault.o hw_pagetable.o io_pagetable.o ioas.o main.o pages.o vfio_compat.o span_iter.o' > "$B/iommu/iommufd/Kbuild"
    printf '%s\n' 'obj-m += vfio.o vfio_iommu_type1.o pci/' \
        'vfio-y := vfio_main.o device_cdev.o group.o iommufd.o container.o virqfd.o' > "$B/vfio/Kbuild"
    printf '%s\n' 'ccflags-y += -I$(src)' 'obj-m += vfio-pci-core.o vfio-pci.o' \
        'vfio-pci-core-y := vfio_pci_core.o vfio_pci_intrs.o vfio_pci_rdwr.o vfio_pci_config.o' \
        'vfio-pci-y := vfio_pci.o vfio_pci_igd.o' > "$B/vfio/pci/Kbuild"
    say "building vfio/iommufd modules"
    make -s -C "$KH" M="$B" -j"$(nproc)" CONFIG_DEBUG_INFO_BTF_MODULES= modules > "$C/build/make.log" 2>&1 ||
        { tail -30 "$C/build/make.log"; exit 1; }
    mkdir -p "$C/mods.tmp"
    for m in iommu/iommufd/iommufd vfio/vfio vfio/vfio_iommu_type1 vfio/pci/vfio-pci-core vfio/pci/vfio-pci; do
        cp "$B/$m.ko" "$C/mods.tmp/"
    done
    rm -rf "$C/mods" && mv "$C/mods.tmp" "$C/mods"
    rm -rf "$C/build"
fi
say "ready in $C ($(($(date +%s) - t0)) s)"
