#!/usr/bin/env bash
# Toolchains the verifiers (and their tests) use. Installs only what is missing, so it is cheap
# to run every time. Without root or apt-get it prints what to install instead.
set -euo pipefail

declare -A package_for=(
  [gcc]=gcc
  [g++]=g++
  [clang]=clang
  [x86_64-w64-mingw32-g++]=mingw-w64
  [bwrap]=bubblewrap
  [unshare]=util-linux
  [rustc]=rustc
  [cargo]=cargo
  [go]=golang-go
  [mcs]=mono-mcs
  [mono]=mono-runtime
  [sshd]=openssh-server  # the test build host of the msvc verifier (also brings ssh, sftp)
)

missing=()
for tool in "${!package_for[@]}"; do
  # sshd lives in /usr/sbin, which is not on the PATH of every user
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("${package_for[$tool]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with your package manager, e.g.: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
