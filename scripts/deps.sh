#!/bin/sh
# Installs the Debian 12 packages sendguard needs to build, test and run,
# and unpacks Debian's Sendmail for the milter e2e tests (see the end).
# Idempotent: packages already present are not touched; apt-get runs only
# when something is missing.
set -eu

PKGS="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
 libmilter-dev libopendkim-dev libspf2-dev libopendmarc-dev liblmdb-dev lmdb-utils
 libboost-test-dev libboost-program-options-dev libgmime-3.0-dev libglib2.0-dev
 libssl-dev libidn2-dev libpsl-dev libffi-dev libpcre2-dev zlib1g-dev
 postfix postfix-lmdb sasl2-bin libsasl2-modules dnsmasq-base iproute2 mandoc
 publicsuffix opendkim opendkim-tools postfwd
 procps psmisc python3 swaks ca-certificates openssl systemd adduser"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
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
fi

# Sendmail 8.17 for the milter e2e tests (tests/support/sendmail_harness.h).
# Debian's sendmail-bin conflicts with postfix (both provide
# mail-transport-agent), so it is never installed: its packages are
# downloaded with apt-get download into a cache outside the repository,
# $SENDGUARD_TEST_CACHE/sendmail (default /var/cache/sendguard-tests), and
# unpacked once with dpkg -x into tree/.  The tests look for the tree where
# the build's SENDGUARD_SENDMAIL_TREE says (default the tree under the
# default cache); with another cache, configure that or export
# SENDGUARD_SENDMAIL_TREE for ctest.  The sendmail binary is set-gid, and a set-gid
# program ignores LD_LIBRARY_PATH (which points it at the unpacked libwrap0
# and liblockfile1), so tree/usr/libexec/sendmail/sendmail.test is a copy
# without the set-gid bit.  tree/.complete says the tree is whole: an
# interrupted run leaves no half tree behind, and tests never download.
# Its shared libraries that are not in the packages above are installed.
SM_DEBS="sendmail-bin sendmail-base sendmail-cf liblockfile1 libwrap0 m4"
SM_LIBS="libdb5.3 libldap-2.5-0 libnsl2 libsasl2-2 libssl3"
sm_cache=${SENDGUARD_TEST_CACHE:-/var/cache/sendguard-tests}/sendmail
sm_tree=$sm_cache/tree

[ -f "$sm_tree/.complete" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "sendguard: no Sendmail test tree at $sm_tree: run this script as root" >&2
    echo "sendguard: to fetch it (the Sendmail e2e tests skip without it)" >&2
    exit 0
fi
sm_missing=""
for p in $SM_LIBS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        sm_missing="$sm_missing $p"
    fi
done
if [ -n "$sm_missing" ]; then
    echo "sendguard: installing (libraries of the Sendmail test tree):$sm_missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $sm_missing
fi

echo "sendguard: fetching Sendmail for the e2e tests into $sm_cache"
rm -rf "$sm_cache/debs.new" "$sm_tree.new"
mkdir -p "$sm_cache/debs.new" "$sm_tree.new"
# apt drops privileges to _apt for downloads: give it the directory.
if id _apt >/dev/null 2>&1; then chown _apt "$sm_cache/debs.new"; fi
# shellcheck disable=SC2086
if ! (cd "$sm_cache/debs.new" && apt-get download -q $SM_DEBS); then
    apt-get update -q  # a fresh machine has no package lists yet
    # shellcheck disable=SC2086
    (cd "$sm_cache/debs.new" && apt-get download -q $SM_DEBS)
fi
for deb in "$sm_cache"/debs.new/*.deb; do
    dpkg -x "$deb" "$sm_tree.new"
done
sm_bin=$sm_tree.new/usr/libexec/sendmail
cp "$sm_bin/sendmail" "$sm_bin/sendmail.test"
chmod g-s "$sm_bin/sendmail.test"
sm_libs=$sm_tree.new/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
if LD_LIBRARY_PATH=$sm_libs ldd "$sm_bin/sendmail.test" | grep "not found" >&2; then
    echo "sendguard: the unpacked sendmail lacks the libraries above" >&2
    exit 1
fi
(cd "$sm_cache/debs.new" && ls ./*.deb) > "$sm_tree.new/.complete"
rm -rf "$sm_cache/debs" "$sm_tree"
mv "$sm_cache/debs.new" "$sm_cache/debs"
mv "$sm_tree.new" "$sm_tree"
echo "sendguard: Sendmail test tree: $sm_tree"
