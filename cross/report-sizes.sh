#!/bin/sh
# report-sizes.sh - print (and keep in BUILDDIR/sizes.txt) the stripped sizes
# of the programs a cross build staged, with what each links dynamically,
# and the names installed as links to the multi-call program boxmail.
#   cross/report-sizes.sh ARCH BUILDDIR
# BUILDDIR/stage is the `cmake --install --strip` tree (prefix /usr).
set -eu
arch=$1 dir=$2
stage=$dir/stage
case $arch in aarch64) t=aarch64-linux-gnu ;; armhf) t=arm-linux-gnueabihf ;; *) t=$arch ;; esac
{
  echo "# stripped sizes, $arch ($(date -u +%Y-%m-%d))"
  for p in lib/boxmail/boxmail sbin/boxmail-fw; do
    f=$stage/usr/$p
    p=${p##*/}
    if [ ! -f "$f" ] || [ -L "$f" ]; then
      echo "$p: not built"
      continue
    fi
    needed=$($t-readelf -d "$f" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u | tr "\n" " ")
    if [ -n "$needed" ]; then kind="dynamic: $needed"; else kind=static; fi
    echo "$p: $(stat -c %s "$f") bytes, $kind"
  done
  for p in boxmaild boxmailctl boxmail.cgi; do
    f=$(find "$stage/usr/sbin" "$stage/usr/bin" "$stage/usr/lib/boxmail" -maxdepth 1 -name "$p" 2>/dev/null | head -1)
    if [ -n "$f" ] && [ -L "$f" ]; then
      echo "$p: ${f#"$stage"} -> $(readlink "$f")"
    elif [ -n "$f" ]; then
      echo "$p: $(stat -c %s "$f") bytes, not a link"
    else
      echo "$p: missing"
    fi
  done
} | tee "$dir/sizes.txt"
