#!/bin/sh
# deps.sh - install the Debian packages haze needs to build, test and run.
# As root it runs apt-get for whatever is missing; otherwise it prints the
# exact command and fails. Set HAZE_DEPS_EXTRA for optional groups
# ("bench" adds nginx-light, wrk, goaccess and the tools it measures with).
set -eu

PKGS="build-essential pkg-config libevent-dev libhiredis-dev liblmdb-dev libmaxminddb-dev
libinih-dev libjansson-dev libcriterion-dev redis-server libmaxmind-db-writer-perl
clang libclang-rt-14-dev lmdb-utils chromium curl python3 libssl-dev openssl libpcre2-dev uap-core
node-llhttp liburing-dev"
# Node.js may come from elsewhere than Debian (it does on CI machines): only
# ask for Debian's when there is none.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
case " ${HAZE_DEPS_EXTRA:-} " in
*" bench "*) PKGS="$PKGS nginx-light wrk goaccess linux-perf time iproute2 procps" ;;
esac

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run: sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
