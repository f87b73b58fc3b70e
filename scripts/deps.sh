#!/bin/sh
# Installs the Debian 12 packages tocsin needs to build, test and run
# (`scripts/deps.sh fuzz` adds clang and its sanitizer/libFuzzer runtime,
# `scripts/deps.sh deb` the Debian packaging tools for `make deb`,
# `scripts/deps.sh bench` monit, which `make bench-agent` compares the agent with).
# As root it installs what is missing; otherwise it prints the exact
# apt-get line and fails, so nothing is half-done behind the user's back.
set -eu

PACKAGES="build-essential cmake pkg-config
libzmq3-dev libczmq-dev libprotobuf-c-dev protobuf-c-compiler liblmdb-dev
libcurl4-openssl-dev libyaml-dev libcmocka-dev libmicrohttpd-dev libzstd-dev
libjansson-dev libsodium-dev
python3 python3-zmq python3-yaml monitoring-plugins-basic lmdb-utils
chromium fonts-dejavu-core prometheus-alertmanager prometheus curl
scdoc groff-base man-db systemd"
case "${1:-}" in
fuzz) PACKAGES="$PACKAGES clang libclang-rt-14-dev" ;;
deb) PACKAGES="$PACKAGES dpkg-dev debhelper fakeroot lintian" ;;
bench) PACKAGES="$PACKAGES monit" ;;
esac

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    "install ok installed") ;;
    *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "tocsin: missing Debian packages. Install them with:" >&2
    echo "  sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "tocsin: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
