#!/bin/sh
# Build the MicroPython unix port (Debian's 1.25.0 source package) once and
# cache it outside the checkout.  Prints the binary's absolute path last.
#
#   sh scripts/build-micropython.sh            # standard: 64-bit, double float
#   sh scripts/build-micropython.sh esp32model # the ESP32's numerics and object sizes
#   sh scripts/build-micropython.sh esp32model-frozen  # the same, the app frozen in
#
# esp32model is the unix port built as an ESP32 runs Python: 32-bit
# (MICROPY_FORCE_32BIT: 4-byte pointers, 31-bit small ints), single-precision
# float (MICROPY_FLOAT_IMPL_FLOAT, which also makes time.time() an int, as on
# the chip) and TLS through mbedTLS, built 32-bit from Debian's own mbedtls
# source (the version the standard build links).  Left out, as no unix build can
# have them or the chip lacks them: ffi (not on the chip), btree (the chip has
# it; Debian's source drops berkeley-db), and every chip peripheral.
#
# esp32model-frozen is esp32model with this checkout's app, drivers and vendored
# modules frozen in through firmware/manifest.py (as an integrator's ESP32 image
# has them): the build the heap bench measures a frozen node on.  One binary per
# set of those sources (the directory name ends in their sha256); the work directory
# is kept, so a build for changed sources only recompiles the frozen modules.
#
# Debian bookworm has no micropython package and trixie's binary needs a newer
# glibc, so we fetch trixie's *source* through a private apt state directory
# (the system's apt configuration is never touched) from the same mirror the
# machine's own sources already name, and build it against bookworm's mbedTLS.
set -eu

VARIANT=${1:-standard}
MP_VERSION=1.25.0
DEB_VERSION=1.25.0+ds-1
# Bumped when how we build changes (not the source): cached builds of an older recipe are
# not reused. r2: Ctrl-C is a pending exception, as on the chip (see below).
RECIPE=r2
CACHE=${SMARTNODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smartnode}
case "$VARIANT" in
    standard) OUT=$CACHE/micropython-$MP_VERSION-$RECIPE; OVERRIDE=${MICROPYTHON:-} ;;
    esp32model) OUT=$CACHE/micropython-$MP_VERSION-esp32model-$RECIPE; OVERRIDE=${MICROPYTHON_ESP32:-} ;;
    esp32model-frozen) OUT=$CACHE/micropython-$MP_VERSION-esp32model-frozen-$RECIPE; OVERRIDE=${MICROPYTHON_ESP32_FROZEN:-} ;;
    *) echo "build-micropython: unknown variant '$VARIANT' (standard, esp32model or esp32model-frozen)" >&2
       exit 2 ;;
esac
BIN=$OUT/micropython
FROZEN=""
STAMP=""
if [ "$VARIANT" = esp32model-frozen ]; then
    VARIANT=esp32model
    FROZEN=1
    ROOT=$(cd "$(dirname "$0")/.." && pwd)
    [ -d "$ROOT/build/vendor/umqtt" ] || {
        echo "build-micropython: $ROOT/build/vendor is missing: run \`make setup\` first" >&2; exit 1; }
    STAMP=$(cd "$ROOT" && find firmware/manifest.py firmware/app lib build/vendor -name '*.py' | LC_ALL=C sort |
            xargs sha256sum | sha256sum | cut -c1-16)
    # One binary per set of sources: checkouts at different commits each keep theirs.
    OUT=$OUT-$STAMP
    BIN=$OUT/micropython
fi

if [ -n "$OVERRIDE" ]; then
    [ -x "$OVERRIDE" ] || { echo "build-micropython: $OVERRIDE ($VARIANT override) is not executable" >&2; exit 1; }
    readlink -f "$OVERRIDE"
    exit 0
fi
if [ -x "$BIN" ] && [ -x "$OUT/mpy-cross" ]; then
    echo "$BIN"
    exit 0
fi

log() { echo "build-micropython ($VARIANT${FROZEN:+, frozen}): $*" >&2; }

pkgs="build-essential libffi-dev pkg-config libmbedtls-dev quilt dpkg-dev"
[ "$VARIANT" = standard ] || pkgs="$pkgs gcc-multilib"
need_pkgs=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need_pkgs="$need_pkgs $p"
done
if [ -n "$need_pkgs" ]; then
    log "installing build packages:$need_pkgs"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 $need_pkgs >&2
fi

# One work directory per variant: two builds never share (or delete) each other's.
if [ "$VARIANT" = standard ]; then WORK=$CACHE/build-micropython-$RECIPE; else WORK=$CACHE/build-micropython-$VARIANT${FROZEN:+-frozen}-$RECIPE; fi
jobs=$(nproc 2>/dev/null || echo 2)
if [ "$VARIANT" = standard ]; then
    TLS_FLAGS=""
    MAKE_VARIANT=""
else
    TLS_FLAGS="CFLAGS_EXTRA=-I$WORK/src/mbedtls/include LDFLAGS_EXTRA=-L$WORK/src/mbedtls/library"
    MAKE_VARIANT="VARIANT=$VARIANT"
fi
MANIFEST=../../debian/config/manifest.py
if [ -n "$FROZEN" ]; then
    # Debian's manifest (what every build freezes: asyncio, ...), then the app.
    MANIFEST=$WORK/manifest.py
fi

unix_port() {  # make ports/unix in $WORK/src/mp and install it (and mpy-cross) as $OUT
    cd "$WORK/src/mp"
    if [ -n "$FROZEN" ]; then
        printf 'include("%s")\ninclude("%s", port=False, simulation=True)\n' \
            "$WORK/src/mp/debian/config/manifest.py" "$ROOT/firmware/manifest.py" > "$MANIFEST"
    fi
    log "building ports/unix"
    # shellcheck disable=SC2086  # TLS_FLAGS and MAKE_VARIANT are word lists
    make -s -C ports/unix -j"$jobs" $MAKE_VARIANT $TLS_FLAGS FROZEN_MANIFEST="$MANIFEST" \
        MICROPY_SSL_AXTLS=0 MICROPY_SSL_MBEDTLS=1 MICROPY_PY_BTREE=0 >&2
    mkdir -p "$OUT.tmp"
    cp "ports/unix/build-$VARIANT/micropython" "$OUT.tmp/micropython"
    cp mpy-cross/build/mpy-cross "$OUT.tmp/mpy-cross"
    rm -rf "$OUT"
    mv "$OUT.tmp" "$OUT"
    if [ -n "$FROZEN" ]; then  # the eight newest source sets are kept, older ones go
        ls -dt "$CACHE/micropython-$MP_VERSION-esp32model-frozen-$RECIPE-"* | tail -n +9 | xargs rm -rf
    fi
}

if [ -n "$FROZEN" ]; then
    # Checkouts share the work directory: one build in it at a time.
    mkdir -p "$CACHE"
    exec 9>"$WORK.lock"
    flock 9
fi
if [ -n "$FROZEN" ] && [ -x "$WORK/src/mp/mpy-cross/build/mpy-cross" ] \
        && [ -f "$WORK/src/mbedtls/library/libmbedtls.a" ]; then
    unix_port  # the frozen sources changed: a quick rebuild in the kept work directory
    log "done"
    echo "$BIN"
    exit 0
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

rm -rf "$WORK"
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/src"
{ echo "deb-src $mirror trixie main"; echo "deb-src $mirror bookworm main"; } > "$WORK/sources.list"
APT="apt-get -q -o Dir::State::Lists=$WORK/lists -o Dir::Etc::SourceList=$WORK/sources.list
     -o Dir::Etc::SourceParts=/nonexistent -o Dir::Cache=$WORK/cache"

log "fetching micropython $DEB_VERSION source from $mirror (trixie)"
$APT update >&2
(cd "$WORK/src" && $APT source --download-only "micropython=$DEB_VERSION" >&2)
(cd "$WORK/src" && dpkg-source --no-check -x micropython_"$DEB_VERSION".dsc mp >&2)

if [ "$VARIANT" != standard ]; then
    # mbedTLS 32-bit: the same Debian source version as the system's 64-bit libmbedtls-dev.
    tls_version=$(dpkg-query -W -f='${Version}' libmbedtls-dev)
    log "building mbedtls $tls_version 32-bit"
    (cd "$WORK/src" && $APT source --download-only "mbedtls=$tls_version" >&2)
    (cd "$WORK/src" && dpkg-source --no-check -x mbedtls_"$tls_version".dsc mbedtls >&2)
    make -s -C "$WORK/src/mbedtls/library" -j"$jobs" CC=gcc CFLAGS="-m32 -O2" static >&2
    vdir=$WORK/src/mp/ports/unix/variants/$VARIANT
    mkdir -p "$vdir"
    cat > "$vdir/mpconfigvariant.h" <<'EOF'
// The ESP32's numerics (ports/esp32/mpconfigport.h): single-precision float,
// which also makes time.time() return an int (ports/unix/modtime.c), as the chip's does.
#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)
#define MICROPY_FLOAT_IMPL (MICROPY_FLOAT_IMPL_FLOAT)
#include "../mpconfigvariant_common.h"
EOF
    cat > "$vdir/mpconfigvariant.mk" <<'EOF'
# 32-bit objects and 31-bit small ints, as on the ESP32; no ffi (the chip has none).
MICROPY_FORCE_32BIT = 1
MICROPY_PY_FFI = 0
EOF
fi

cd "$WORK/src/mp"  # dpkg-source has applied debian/patches (quilt series)
# Ctrl-C as a chip takes it: the unix port raises KeyboardInterrupt straight from its SIGINT
# handler (MICROPY_ASYNC_KBD_INTR), a longjmp out of whatever C code runs, LittleFS, the
# allocator, a call half set up. The virtual board's VM crashed or hung hours later on the
# state that left. The ESP32 port schedules it (a pending exception the VM raises at its
# next safe point); so do we.
sed -i 's/^#define MICROPY_ASYNC_KBD_INTR .*(1)$/#define MICROPY_ASYNC_KBD_INTR (0)/' \
    ports/unix/variants/mpconfigvariant_common.h
grep -q '^#define MICROPY_ASYNC_KBD_INTR (0)$' ports/unix/variants/mpconfigvariant_common.h || {
    log "ports/unix/variants/mpconfigvariant_common.h no longer sets MICROPY_ASYNC_KBD_INTR: check the patch"
    exit 1; }
log "building mpy-cross"
make -s -C mpy-cross -j"$jobs" >&2
unix_port
cd /
[ -n "$FROZEN" ] || rm -rf "$WORK"  # the frozen build's is kept for its quick rebuilds
log "done"
echo "$BIN"
