#!/usr/bin/env bash
# debian-fetch.sh - download Debian packages of another architecture, or
# Debian source packages, without installing them, through a private apt
# state.
#
#   cross/debian-fetch.sh DEBARCH STATEDIR DESTDIR PACKAGE...
#   cross/debian-fetch.sh --source STATEDIR DESTDIR SOURCEPACKAGE...
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
# --source: `apt-get source --download-only` of each SOURCEPACKAGE into
# DESTDIR (the .dsc, the .orig tarball and the Debian tarball; apt checks
# them against the signed Sources index). The sources are the machine's
# `deb` entries rewritten to `deb-src` at run time into STATEDIR/sources.d
# (the machine's files are only read). Use a STATEDIR of its own: the
# source indexes are not the binary ones. When every package has a .dsc in
# DESTDIR with all its files, nothing is fetched and no index is updated
# (no network); a newer Debian revision is fetched only after the old .dsc
# is removed. dpkg-source is not needed.
#
# Exit status: 0 on success; 1 with a message naming the package and the
# apt error when an index or package cannot be fetched (never silently).
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 DEBARCH STATEDIR DESTDIR PACKAGE... | DEBARCH STATEDIR --depends NAME" >&2
  echo "       $0 --source STATEDIR DESTDIR SOURCEPACKAGE..." >&2
  exit 2
fi
arch=$1 state=$(realpath -m "$2") dest=$3
shift 3
source_mode=false
if [ "$arch" = "--source" ]; then
  source_mode=true
  if [ $# -eq 0 ]; then echo "debian-fetch: --source needs a source package name" >&2; exit 2; fi
fi

if $source_mode; then
  mkdir -p "$dest"
  dest=$(realpath "$dest")
  # Whether DESTDIR has a .dsc of the source package $1 whose listed files
  # (its Files: section) are all present.
  have_source() {
    local dsc
    for dsc in $(compgen -G "$dest/${1}_*.dsc" || true); do
      if awk '/^Files:/ {f=1; next} /^[^ ]/ {f=0} f && NF==3 {print $3}' "$dsc" |
           while read -r file; do [ -f "$dest/$file" ] || exit 1; done; then
        return 0
      fi
    done
    return 1
  }
  missing=()
  for p in "$@"; do have_source "${p%%=*}" || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || exit 0   # all there: no index update, no network
fi

mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
touch "$state/status"
if $source_mode; then
  # deb -> deb-src, into a sources directory of our own (one-line and
  # deb822 formats; existing deb-src lines would only repeat the rewritten
  # deb lines, so they are left out).
  parts=$state/sources.d
  rm -rf "$parts"
  mkdir -p "$parts"
  one_line() { sed -n 's/^\([[:space:]]*\)deb\([[:space:]]\)/\1deb-src\2/p' "$1"; }
  if [ -f /etc/apt/sources.list ]; then
    one_line /etc/apt/sources.list > "$parts/00-sources-list.list"
  fi
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case $f in
      *.list) one_line "$f" > "$parts/$(basename "$f")" ;;
      *.sources) sed 's/^[Tt][Yy][Pp][Ee][Ss]:.*/Types: deb-src/' "$f" > "$parts/$(basename "$f")" ;;
    esac
  done
  n=$(cat "$parts"/* 2>/dev/null | grep -cE '^[[:space:]]*deb-src[[:space:]]|^Types: deb-src' || true)
  if [ "$n" -eq 0 ]; then
    echo "debian-fetch: ERROR: no deb entry in /etc/apt/sources.list or /etc/apt/sources.list.d to read source packages from" >&2
    exit 1
  fi
  source_lists=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$parts")
  arch_opts=()
  index_name=_source_Sources
  what="source"
else
  source_lists=(-o "Dir::Etc::SourceList=/etc/apt/sources.list" -o "Dir::Etc::SourceParts=/etc/apt/sources.list.d")
  arch_opts=(-o "APT::Architecture=$arch" -o "APT::Architectures=$arch")
  index_name="binary-${arch}_Packages"
  what=$arch
fi
apt_opts=(
  -o "Dir::State=$state"
  -o "Dir::State::Lists=$state/lists"
  -o "Dir::State::status=$state/status"
  -o "Dir::Cache=$state/cache"
  -o "Dir::Cache::pkgcache=$state/cache/pkgcache.bin"
  -o "Dir::Cache::srcpkgcache=$state/cache/srcpkgcache.bin"
  "${source_lists[@]}"
  "${arch_opts[@]}"
  -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1"
  -o "Acquire::Languages=none"
)

# Refresh the private indexes when missing or older than a day.
stamp=$state/lists/.boxmail-updated
if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
  echo "debian-fetch: updating the $what package indexes in $state (machine's sources)" >&2
  if ! out=$(apt-get "${apt_opts[@]}" update 2>&1); then
    # One broken index (seen: an armhf security index) need not stop us if
    # the main archive came through; apt-get download below fails loudly
    # when a package is really missing.
    echo "$out" | grep -E '^(E|W):' >&2 || true
    if ! ls "$state/lists/" | grep -q -- "$index_name"; then
      echo "debian-fetch: ERROR: no $what package index could be fetched from the machine's apt sources:" >&2
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

if $source_mode; then
  cd "$dest"
  for p in "${missing[@]}"; do
    name=${p%%=*}
    echo "debian-fetch: downloading the source package $p" >&2
    if ! out=$(apt-get "${apt_opts[@]}" source --download-only "$p" 2>&1); then
      echo "debian-fetch: ERROR: cannot download the source package $p with apt-get source:" >&2
      echo "$out" | tail -20 >&2
      exit 1
    fi
    if ! have_source "$name"; then
      echo "debian-fetch: ERROR: no complete ${name}_*.dsc in $dest after apt-get source" >&2
      exit 1
    fi
  done
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
