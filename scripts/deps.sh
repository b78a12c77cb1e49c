#!/bin/sh
# Installs the Debian 12 packages sendguard needs to build, test and run.
# Idempotent: packages already present are not touched; apt-get runs only
# when something is missing.
set -eu

PKGS="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
 libmilter-dev libopendkim-dev libspf2-dev libopendmarc-dev liblmdb-dev lmdb-utils
 libboost-test-dev libboost-program-options-dev libgmime-3.0-dev libglib2.0-dev
 libssl-dev libidn2-dev libffi-dev libpcre2-dev zlib1g-dev
 postfix postfix-lmdb sasl2-bin libsasl2-modules dnsmasq-base iproute2 mandoc
 procps psmisc python3 ca-certificates systemd adduser"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "sendguard: missing Debian packages:$missing" >&2
    echo "sendguard: run this script as root, or: apt-get install$missing" >&2
    exit 1
fi
echo "sendguard: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; the tests run their own instances.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
