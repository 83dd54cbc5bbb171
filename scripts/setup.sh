#!/usr/bin/env bash
# Installs every build, test and demo dependency of mrfp from Debian 12 packages.
# Idempotent: apt-get skips what is already installed. Needs root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev
  dpdk dpdk-dev libdpdk-dev libipsec-mb-dev
  libsrtp2-dev libopus-dev libspeexdsp-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libbenchmark-dev libgtest-dev libgmock-dev
  libcli11-dev libspdlog-dev libfmt-dev libcivetweb-dev
  libssl-dev gnuplot-nox openssl iproute2
  ffmpeg  # a real SRTP client with its own SRTP code (libavformat): tests/e2e/ffmpeg_interop_test
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: must run as root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
