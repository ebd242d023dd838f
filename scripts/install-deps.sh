#!/usr/bin/env bash
# Installs the Debian packages replicast builds and tests with, when missing.
# Safe to run again: it only calls apt-get when something is absent.
set -euo pipefail

packages=(
	clang llvm libclang-rt-dev libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev pkg-config
	gcc make iproute2 iputils-ping ethtool tcpdump util-linux jq python3 strace libpcap-dev liburing-dev gnuplot-nox
	python3-prometheus-client dpkg-dev man-db groff-base
	# test_deb checks the packages make deb builds as the archive would
	lintian
	# replicast agent and fleet speak to etcd's JSON gateway; the tests run a
	# real etcd and make their own certificates
	libcurl4-openssl-dev libjson-c-dev etcd-server etcd-client openssl
	# real programs the end-to-end tests drive through a relay (test_real_*.sh)
	iperf ffmpeg softflowd nfdump
)
# make bpf-cross-check compiles the BPF programs for the other architecture
# with its asm/ headers (arm64's on amd64 hosts, amd64's elsewhere).
case "$(dpkg --print-architecture 2>/dev/null)" in
arm64) packages+=(linux-libc-dev-amd64-cross) ;;
*) packages+=(linux-libc-dev-arm64-cross) ;;
esac
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
# BPF programs include <asm/types.h>, which Debian ships per architecture.
[ -n "$multiarch" ] || packages+=(gcc-multilib)
if [ -f bench/deps.txt ]; then
	while read -r p; do [ -n "$p" ] && [ "${p#\#}" = "$p" ] && packages+=("$p"); done < bench/deps.txt
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
