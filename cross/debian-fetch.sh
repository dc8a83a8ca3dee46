#!/usr/bin/env bash
# debian-fetch.sh - download Debian packages of another architecture without
# installing them, through a private apt state.
#
#   cross/debian-fetch.sh DEBARCH STATEDIR DESTDIR PACKAGE...
#
# DEBARCH is a Debian architecture (arm64, armhf). STATEDIR holds the private
# apt state (lists, cache, an empty dpkg status); DESTDIR receives the .deb
# files. The machine's configured package sources (/etc/apt/sources.list and
# /etc/apt/sources.list.d) and its apt.conf (proxies) are reused as they are:
# no mirror address is written anywhere. The host's dpkg database, lists and
# installed packages are never touched.
#
# The package indexes are fetched once (STATEDIR/lists) and refreshed when
# older than a day; a .deb already in DESTDIR is not fetched again.
#
# PACKAGE is a package name. A name that is a metapackage with
# one dependency (linux-image-arm64) can be resolved first with
#   cross/debian-fetch.sh DEBARCH STATEDIR --depends NAME
# which prints the first dependency's package name.
#
# Exit status: 0 on success; 1 with a message naming the package and the
# apt error when an index or package cannot be fetched (never silently).
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 DEBARCH STATEDIR DESTDIR PACKAGE... | DEBARCH STATEDIR --depends NAME" >&2
  exit 2
fi
arch=$1 state=$(realpath -m "$2") dest=$3
shift 3

mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
touch "$state/status"
apt_opts=(
  -o "Dir::State=$state"
  -o "Dir::State::Lists=$state/lists"
  -o "Dir::State::status=$state/status"
  -o "Dir::Cache=$state/cache"
  -o "Dir::Cache::pkgcache=$state/cache/pkgcache.bin"
  -o "Dir::Cache::srcpkgcache=$state/cache/srcpkgcache.bin"
  -o "Dir::Etc::SourceList=/etc/apt/sources.list"
  -o "Dir::Etc::SourceParts=/etc/apt/sources.list.d"
  -o "APT::Architecture=$arch"
  -o "APT::Architectures=$arch"
  -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1"
  -o "Acquire::Languages=none"
)

# Refresh the private indexes when missing or older than a day.
stamp=$state/lists/.boxmail-updated
if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
  echo "debian-fetch: updating the $arch package indexes in $state (machine's sources)" >&2
  if ! out=$(apt-get "${apt_opts[@]}" update 2>&1); then
    # One broken index (seen: an armhf security index) need not stop us if
    # the main archive came through; apt-get download below fails loudly
    # when a package is really missing.
    echo "$out" | grep -E '^(E|W):' >&2 || true
    if ! ls "$state/lists/" | grep -q "binary-${arch}_Packages"; then
      echo "debian-fetch: ERROR: no $arch package index could be fetched from the machine's apt sources:" >&2
      echo "$out" | tail -20 >&2
      exit 1
    fi
  fi
  touch "$stamp"
fi

if [ "$dest" = "--depends" ]; then
  name=$1
  dep=$(apt-cache "${apt_opts[@]}" depends "$name" 2>/dev/null | awk '/^  (PreDepends|Depends):/ {print $2; exit}')
  if [ -z "$dep" ]; then
    echo "debian-fetch: ERROR: cannot resolve the dependency of $name ($arch)" >&2
    exit 1
  fi
  echo "$dep"
  exit 0
fi

have_deb() { compgen -G "${1}_*_${arch}.deb" >/dev/null || compgen -G "${1}_*_all.deb" >/dev/null; }

mkdir -p "$dest"
cd "$dest"
missing=()
for p in "$@"; do
  name=${p%%=*}
  have_deb "$name" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "debian-fetch: downloading ${#missing[@]} $arch package(s): ${missing[*]}" >&2
  if ! out=$(apt-get "${apt_opts[@]}" download "${missing[@]}" 2>&1); then
    echo "debian-fetch: ERROR: cannot download $arch package(s) ${missing[*]} with apt-get download:" >&2
    echo "$out" | tail -20 >&2
    exit 1
  fi
fi
for p in "$@"; do
  name=${p%%=*}
  if ! have_deb "$name"; then
    echo "debian-fetch: ERROR: $name ($arch) is not in $dest after apt-get download" >&2
    exit 1
  fi
done
