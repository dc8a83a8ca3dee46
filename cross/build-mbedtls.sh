#!/usr/bin/env bash
# build-mbedtls.sh - boxmail's minimal static mbedTLS for the static builds,
# compiled from Debian's source package with cross/mbedtls-config.h.
#
#   cross/build-mbedtls.sh TARGET SRCDIR PREFIX
#
# TARGET is aarch64 or armhf (Debian's cross gcc) or host (gcc, for
# `make static`). SRCDIR (e.g. build/debian-src) caches the source package:
# cross/debian-fetch.sh --source fetches mbedtls_*.dsc, the .orig tarball and
# the Debian tarball there through a private apt state in SRCDIR/apt that
# reads the machine's own apt sources (no mirror is named in the repository).
# PREFIX (e.g. build/cross/aarch64/mbedtls) receives:
#   lib/libmbedcrypto.a lib/libmbedx509.a lib/libmbedtls.a
#   include/mbedtls/ include/psa/         the headers of the same source
#   include/boxmail-mbedtls-config.h      the configuration they were built with
#   share/doc/mbedtls/                    LICENSE and Debian's copyright file
# CMake takes it with -DBOXMAIL_MBEDTLS_PREFIX=PREFIX and compiles boxmail
# with -DMBEDTLS_CONFIG_FILE pointing at the configuration above, so both
# sides see the same structure layouts. PREFIX's include/mbedtls/config.h
# (mbedTLS's default configuration) is replaced by an #error: a file that
# includes an mbedTLS header without that definition does not compile,
# instead of silently using other layouts.
#
# Steps: the .dsc's SHA-256 sums are checked, the tarballs unpacked, the
# patches of debian/patches/series applied with patch(1) (bookworm's
# 2.28.3-1 has none), the version checked (the configuration is written for
# 2.28), then library/Makefile builds the three archives with
# -Os -ffunction-sections -fdata-sections (boxmail links with --gc-sections)
# and without unwind tables (see cflags below).
#
# A second run does nothing: PREFIX/.boxmail-mbedtls records the source
# package, the SHA-256 of the configuration and of this script, the
# compiler's version and the flags; any change rebuilds. The build happens
# in PREFIX.build and is moved into place only when complete.
#
# Environment: JOBS (parallel compile jobs, default: nproc).
# Exit status: 0 on success; 1 with a message naming what failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
config=$here/mbedtls-config.h

if [ $# -ne 3 ]; then echo "usage: $0 aarch64|armhf|host SRCDIR PREFIX" >&2; exit 2; fi
case $1 in
  aarch64) cc=aarch64-linux-gnu-gcc ar=aarch64-linux-gnu-ar pkg="g++-aarch64-linux-gnu" ;;
  armhf)   cc=arm-linux-gnueabihf-gcc ar=arm-linux-gnueabihf-ar pkg="g++-arm-linux-gnueabihf" ;;
  host)    cc=gcc ar=ar pkg="g++" ;;
  *) echo "build-mbedtls: unknown TARGET '$1' (aarch64, armhf or host)" >&2; exit 2 ;;
esac
srcdir=$(realpath -m "$2")
prefix=$(realpath -m "$3")
# No unwind tables: mbedTLS is C and never throws; they cost about 22 KB of
# .eh_frame in an aarch64 daemon with TLS. Consequence: a C++ exception
# thrown inside a callback that mbedTLS calls (BIO send/recv, RNG) cannot
# unwind through mbedTLS and ends the process (std::terminate); callbacks
# must catch everything (src/tls's do).
cflags="-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables"
jobs=${JOBS:-$(nproc)}

for tool in "$cc" "$ar" patch tar sha256sum make; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-mbedtls: ERROR: $tool is missing (for $1: install $pkg, make deps)" >&2
    exit 1
  fi
done
if [ ! -f "$config" ]; then
  echo "build-mbedtls: ERROR: no configuration at $config" >&2
  exit 1
fi

# The source package (no network when it is already in SRCDIR).
"$here/debian-fetch.sh" --source "$srcdir/apt" "$srcdir" mbedtls
dsc=$(compgen -G "$srcdir/mbedtls_*.dsc" | sort -V | tail -1 || true)
if [ -z "$dsc" ]; then
  echo "build-mbedtls: ERROR: no mbedtls_*.dsc in $srcdir after debian-fetch.sh --source" >&2
  exit 1
fi

stamp=$prefix/.boxmail-mbedtls
want="$(basename "$dsc") config=$(sha256sum < "$config" | cut -d' ' -f1)"
want+=" script=$(sha256sum < "$0" | cut -d' ' -f1) cc=$("$cc" -dumpfullversion)-$("$cc" -dumpmachine)"
want+=" cflags=$cflags"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
started=$SECONDS

# The files the .dsc lists, against its SHA-256 sums (apt checked them on
# download; this catches a damaged cache).
sums=$(awk '/^Checksums-Sha256:/ {f=1; next} /^[^ ]/ {f=0} f && NF==3 {print $1 "  " $3}' "$dsc")
if [ -z "$sums" ] || ! (cd "$srcdir" && echo "$sums" | sha256sum --check --quiet --strict >/dev/null); then
  echo "build-mbedtls: ERROR: the files of $dsc do not match its SHA-256 sums; remove them from $srcdir to fetch them again" >&2
  exit 1
fi
orig=$(echo "$sums" | awk '$2 ~ /\.orig\.tar\./ {print $2; exit}')
debian=$(echo "$sums" | awk '$2 ~ /\.debian\.tar\./ {print $2; exit}')
if [ -z "$orig" ] || [ -z "$debian" ]; then
  echo "build-mbedtls: ERROR: $dsc lists no .orig and .debian tarball (not a 3.0 (quilt) source package?)" >&2
  exit 1
fi

build=$prefix.build
rm -rf "$build" "$prefix.new"
mkdir -p "$build"
echo "build-mbedtls: building $(basename "$dsc" .dsc) for $1 with $cc into $prefix" >&2
tar -xf "$srcdir/$orig" -C "$build" --strip-components=1
tar -xf "$srcdir/$debian" -C "$build"
if [ -f "$build/debian/patches/series" ]; then
  # series: one patch per line, an optional -pN after it, # comments.
  while read -r name level _; do
    case $name in ''|'#'*) continue ;; esac
    if ! out=$(patch -d "$build" "${level:--p1}" --forward --batch -i "debian/patches/$name" 2>&1); then
      echo "build-mbedtls: ERROR: Debian's patch $name does not apply to $orig:" >&2
      echo "$out" | tail -20 >&2
      exit 1
    fi
  done < "$build/debian/patches/series"
fi

version=$(sed -n 's/^#define MBEDTLS_VERSION_STRING  *"\(.*\)"$/\1/p' "$build/include/mbedtls/version.h")
case $version in
  2.28.*) ;;
  *)
    echo "build-mbedtls: ERROR: Debian's mbedtls source is version '${version:-unknown}'; cross/mbedtls-config.h is written for 2.28 (3.x renamed the options and the header: adapt it first, docs/tls.md)" >&2
    exit 1 ;;
esac

# Compiled with the configuration under its own name in include/ (found
# through the library Makefile's -I../include), MAKEFLAGS of a calling make
# (its command-line variables) kept away from mbedTLS's Makefile.
cp "$config" "$build/include/boxmail-mbedtls-config.h"
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$build/library" -j "$jobs" \
       CC="$cc" AR="$ar" CFLAGS="$cflags -DMBEDTLS_CONFIG_FILE='\"boxmail-mbedtls-config.h\"'" \
       static > "$build/build.log" 2>&1; then
  echo "build-mbedtls: ERROR: the mbedTLS build failed for $1 ($build/build.log):" >&2
  grep -E 'error|Error' "$build/build.log" | head -20 >&2 || tail -20 "$build/build.log" >&2
  exit 1
fi
if grep -q 'warning:' "$build/build.log"; then
  grep 'warning:' "$build/build.log" | head -10 >&2
fi

new=$prefix.new
mkdir -p "$new/include" "$new/lib" "$new/share/doc/mbedtls"
cp -R "$build/include/mbedtls" "$build/include/psa" "$new/include/"
cp "$config" "$new/include/boxmail-mbedtls-config.h"
cat > "$new/include/mbedtls/config.h" <<'EOF'
/* Replaced by cross/build-mbedtls.sh: this mbedTLS is built with
 * include/boxmail-mbedtls-config.h, and code using its headers must be
 * compiled with the same configuration, or its structures have other
 * layouts than the library's. */
#error "boxmail's minimal mbedTLS: compile with -DMBEDTLS_CONFIG_FILE=\"<prefix>/include/boxmail-mbedtls-config.h\" (CMake: BOXMAIL_MBEDTLS_PREFIX)"
EOF
cp "$build/library/libmbedcrypto.a" "$build/library/libmbedx509.a" "$build/library/libmbedtls.a" "$new/lib/"
cp "$build/LICENSE" "$build/debian/copyright" "$new/share/doc/mbedtls/"
echo "$want" > "$new/.boxmail-mbedtls"
rm -rf "$prefix"
mv "$new" "$prefix"
rm -rf "$build"
echo "build-mbedtls: $prefix ready: mbedTLS $version ($(basename "$dsc" .dsc)), $(du -cb "$prefix"/lib/*.a | tail -1 | cut -f1) bytes of archives, $((SECONDS - started)) s" >&2
