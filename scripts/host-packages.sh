#!/usr/bin/env bash
# Debian packages the tests and benches use on the host: DPDK 22.11 (dpdk-testpmd, dpdk-test: the peer and the
# yardstick), tshark/editcap (pcap checks), iproute2 and ping (namespaces, veth), python3 (UDP senders), gcc (the
# DPDK side of mempool-bulk). Installs only what is missing; `npm run setup` runs it.
set -euo pipefail
pkgs=(dpdk-dev tshark iproute2 iputils-ping python3 gcc pkg-config)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
[ ${#need[@]} -eq 0 ] && { echo "host packages: all present (${pkgs[*]})"; exit 0; }
if [ "$(id -u)" != 0 ]; then
    echo "host packages: missing ${need[*]}: run as root, or: sudo apt-get install -y ${need[*]}" >&2
    exit 1
fi
command -v apt-get >/dev/null || { echo "host packages: no apt-get: install ${need[*]} with your package manager" >&2; exit 1; }
echo "host packages: apt-get install ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
