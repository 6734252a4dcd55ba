#!/bin/sh
# Build the MicroPython unix port (Debian's 1.25.0 source package) once and
# cache it outside the checkout.  Prints the binary's absolute path last.
#
# Debian bookworm has no micropython package and trixie's binary needs a newer
# glibc, so we fetch trixie's *source* through a private apt state directory
# (the system's apt configuration is never touched) from the same mirror the
# machine's own sources already name, and build it against bookworm's mbedTLS.
set -eu

MP_VERSION=1.25.0
DEB_VERSION=1.25.0+ds-1
CACHE=${SMARTNODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smartnode}
OUT=$CACHE/micropython-$MP_VERSION
BIN=$OUT/micropython

if [ -n "${MICROPYTHON:-}" ]; then
    [ -x "$MICROPYTHON" ] || { echo "build-micropython: MICROPYTHON=$MICROPYTHON is not executable" >&2; exit 1; }
    readlink -f "$MICROPYTHON"
    exit 0
fi
if [ -x "$BIN" ] && [ -x "$OUT/mpy-cross" ]; then
    echo "$BIN"
    exit 0
fi

log() { echo "build-micropython: $*" >&2; }

need_pkgs=""
for p in build-essential libffi-dev pkg-config libmbedtls-dev quilt dpkg-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need_pkgs="$need_pkgs $p"
done
if [ -n "$need_pkgs" ]; then
    log "installing build packages:$need_pkgs"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_pkgs >&2
fi

# The mirror the machine already uses for Debian's main archive.
mirror=$(
    { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print uri; exit } }'
      grep -hE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        grep -v security | sed -E 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/'
    } | head -n 1)
[ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt sources"; exit 1; }

WORK=$CACHE/build-micropython
rm -rf "$WORK"
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/src"
echo "deb-src $mirror trixie main" > "$WORK/sources.list"
APT="apt-get -q -o Dir::State::Lists=$WORK/lists -o Dir::Etc::SourceList=$WORK/sources.list
     -o Dir::Etc::SourceParts=/nonexistent -o Dir::Cache=$WORK/cache"

log "fetching micropython $DEB_VERSION source from $mirror (trixie)"
$APT update >&2
(cd "$WORK/src" && $APT source --download-only "micropython=$DEB_VERSION" >&2)
(cd "$WORK/src" && dpkg-source --no-check -x micropython_"$DEB_VERSION".dsc mp >&2)

cd "$WORK/src/mp"  # dpkg-source has applied debian/patches (quilt series)

jobs=$(nproc 2>/dev/null || echo 2)
log "building mpy-cross"
make -s -C mpy-cross -j"$jobs" >&2
log "building ports/unix"
make -s -C ports/unix -j"$jobs" \
    FROZEN_MANIFEST=../../debian/config/manifest.py \
    MICROPY_SSL_AXTLS=0 MICROPY_SSL_MBEDTLS=1 MICROPY_PY_BTREE=0 >&2

mkdir -p "$OUT.tmp"
cp ports/unix/build-standard/micropython "$OUT.tmp/micropython"
cp mpy-cross/build/mpy-cross "$OUT.tmp/mpy-cross"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
cd /
rm -rf "$WORK"
log "done"
echo "$BIN"
