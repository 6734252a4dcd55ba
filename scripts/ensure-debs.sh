#!/bin/sh
# Install the Debian packages named on the command line unless they are already there.
# Brokers (mosquitto, rabbitmq-server) are started by the tools on loopback with their own
# config, ports and data directory, never as system services: a package installed here is
# kept from starting its service (policy-rc.d) and its units are left disabled.
set -eu
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
had_epmd=no
dpkg-query -W -f='${Status}' erlang-base 2>/dev/null | grep -q "ok installed" && had_epmd=yes
policy=/usr/sbin/policy-rc.d
own_policy=no
if [ ! -e "$policy" ]; then
    # invoke-rc.d and deb-systemd-invoke ask this script; 101 = "action forbidden".
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    own_policy=yes
    trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
if [ -d /run/systemd/system ]; then
    units=""
    for p in $missing; do
        case "$p" in mosquitto|rabbitmq-server) units="$units $p.service" ;; esac
    done
    case "$missing" in *rabbitmq-server*) [ "$had_epmd" = yes ] || units="$units epmd.socket epmd.service" ;; esac
    # shellcheck disable=SC2086
    [ -z "$units" ] || $SUDO systemctl disable --now $units >/dev/null 2>&1 || true
fi
[ "$own_policy" = no ] || { $SUDO rm -f "$policy"; trap - EXIT; }
