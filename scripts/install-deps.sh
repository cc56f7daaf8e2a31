#!/usr/bin/env bash
# Installs the Debian packages that Kite's build, tests and runtime need, when missing.
# Idempotent and non-interactive; returns quickly when everything is already there.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  # libraries
  libsqlite3-dev sqlite3 libyaml-cpp-dev libfmt-dev libssl-dev libboost-dev rapidjson-dev
  libgoogle-perftools-dev
  zlib1g-dev libnghttp2-dev libprotobuf-dev protobuf-compiler
  # node agent runtime: containerd and its CRI plugin, runc, CNI plugins (/usr/lib/cni)
  containerd runc containernetworking-plugins iptables iproute2
  # test images (busybox-static) and the registry that pull tests run on loopback
  busybox-static docker-registry
  # tests
  catch2 python3-kubernetes libcurl4-openssl-dev
  # tests: real gRPC servers that our CRI and probe clients are checked against
  libgrpc++-dev protobuf-compiler-grpc
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
