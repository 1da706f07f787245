#!/usr/bin/env bash
# Installs the Debian packages lockstep builds and tests with, only those missing.
set -euo pipefail
# Build: compilers, Boost.Context, RapidCheck, SQLite, CLI11, nlohmann_json, GoogleTest, gRPC.
# OpenSSL: member ids (SHA-1) and TLS for clients and peers.
# Tests and benchmarks: etcd 3.4 and etcdctl (the reference), chromium (the HTML report test),
# the openssl CLI and curl (the daemon's TLS test makes its certificates and fetches /health).
packages=(
  cmake make g++ pkg-config
  libboost-context-dev librapidcheck-dev libsqlite3-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libssl-dev libabsl-dev
  etcd-server etcd-client chromium openssl curl
)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
