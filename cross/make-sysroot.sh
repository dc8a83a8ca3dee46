#!/usr/bin/env bash
# make-sysroot.sh - build a target sysroot from the target's Debian packages.
#
#   cross/make-sysroot.sh ARCH WORKDIR
#
# ARCH is aarch64 or armhf. WORKDIR (e.g. build/cross/aarch64) receives:
#   apt/      the private apt state (see debian-fetch.sh)
#   debs/     the downloaded .deb files (kept as a cache)
#   sysroot/  the .debs unpacked with dpkg-deb -x (nothing is installed)
#
# What is in the sysroot: the -dev packages boxmail links against (mbedTLS,
# inih, udns, libxcrypt, libnftables) and the runtime libraries a target
# program loads (glibc, libstdc++, libgcc_s and libnftables' dependencies),
# so that `qemu-aarch64 -L sysroot` runs the cross-built programs and the
# image can take its shared libraries from here. The C library headers and
# libstdc++ used for compiling and linking are the cross compiler's own
# (/usr/<triplet>, Debian's cross packages of the same glibc 2.36 / gcc 12).
# Boost is header-only for boxmail: sysroot/usr/include/boost is a symlink to
# the host's /usr/include/boost (saves ~200 MB of arm64 headers).
#
# A second run with the same package list does nothing (stamp file).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ $# -ne 2 ]; then echo "usage: $0 aarch64|armhf WORKDIR" >&2; exit 2; fi
case $1 in
  aarch64) debarch=arm64 ;;
  armhf)   debarch=armhf ;;
  *) echo "make-sysroot: unknown ARCH '$1' (aarch64 or armhf)" >&2; exit 2 ;;
esac
work=$(realpath -m "$2")
sysroot=$work/sysroot

packages=(
  # runtime: glibc, C++ runtime (for the dynamically linked unit tests)
  libc6 libgcc-s1 libstdc++6
  # boxmail's libraries: headers, static archives and shared objects
  libcrypt-dev libcrypt1
  libmbedtls-dev libmbedtls14 libmbedx509-1 libmbedcrypto7
  libinih-dev libinih1
  libudns-dev libudns0
  # the firewall helper (dynamic: Debian has no static libnftables)
  libnftables-dev libnftables1 libmnl0 libnftnl11 libjansson4 libgmp10 libxtables12
)

stamp=$sysroot/.boxmail-sysroot
want="$debarch ${packages[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if [ ! -d /usr/include/boost ]; then
  echo "make-sysroot: ERROR: /usr/include/boost is missing (install libboost1.81-dev: make deps)" >&2
  exit 1
fi

"$here/debian-fetch.sh" "$debarch" "$work/apt" "$work/debs" "${packages[@]}"

echo "make-sysroot: unpacking ${#packages[@]} $debarch packages into $sysroot" >&2
rm -rf "$sysroot.new"
mkdir -p "$sysroot.new"
for p in "${packages[@]}"; do
  deb=$(compgen -G "$work/debs/${p}_*_${debarch}.deb" | head -1)
  dpkg-deb -x "$deb" "$sysroot.new"
done
# Absolute symlinks inside the packages (e.g. lib.so -> /lib/...) must point
# into the sysroot, not at the host: make them relative.
find "$sysroot.new" -type l | while read -r l; do
  t=$(readlink "$l")
  case $t in
    /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$sysroot.new$t")" "$l" ;;
  esac
done
ln -sfn /usr/include/boost "$sysroot.new/usr/include/boost"
rm -rf "$sysroot"
mv "$sysroot.new" "$sysroot"
echo "$want" > "$stamp"
echo "make-sysroot: $sysroot ready ($(du -sh "$sysroot" | cut -f1))" >&2
