#!/bin/sh
# Sets up, builds and starts sendguard with its embedded defaults, keeping
# all state under ./var (LMDB stores, VERP keys, event log, quarantine) and
# sockets under ./var/run. Prints what it started and the Postfix lines to use.
#
#   scripts/run.sh          install missing packages, build, start
#   scripts/run.sh stop     stop what a previous run started
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
var="$top/var"
pidfile="$var/run/sendguard-policyd.pid"

if [ "${1:-}" = stop ]; then
    if [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; then
        echo "sendguard: stopped sendguard-policyd (pid $(cat "$pidfile"))"
    else
        echo "sendguard: nothing running"
    fi
    rm -f "$pidfile"
    exit 0
fi

"$top/scripts/deps.sh"
cmake -S . -B build/main -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/main -j "$(nproc 2>/dev/null || echo 2)" \
    --target sendguard sendguard-bounce sendguard-policyd
bin="$top/build/main/bin"

mkdir -p "$var/etc" "$var/lib" "$var/run"
conf="$var/etc/sendguard.conf"
# The socket's group is Postfix's (policyd_socket_group = postfix, mode 0660);
# only root may give a socket to a group it is not in.
group="postfix"
if [ "$(id -u)" != 0 ] || ! getent group postfix >/dev/null; then group=""; fi
if [ ! -f "$conf" ]; then
    cat >"$conf" <<CONF
# Local settings written by scripts/run.sh; everything else is the built-in default
# (see: $bin/sendguard config).
config_directory = $var/etc
state_directory = $var/lib
run_directory = $var/run
bounce_domains = bounces.example.org
policyd_socket_group = $group
log_to_stderr = yes
CONF
fi
keys="$var/etc/verp.keys"
if [ ! -f "$keys" ]; then
    (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$keys"; echo >>"$keys")
fi
export SENDGUARD_CONFIG="$conf"

if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "sendguard: sendguard-policyd already running (pid $(cat "$pidfile"))"
else
    # It runs as whoever starts it: ./var belongs to that user. (An installed
    # daemon starts as root and switches to policyd_user = sendguard.)
    "$bin/sendguard-policyd" -c "$conf" -o "policyd_user=$(id -un)" \
        >"$var/run/sendguard-policyd.log" 2>&1 &
    echo $! >"$pidfile"
    i=0
    while [ ! -S "$var/run/socketmap.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    if [ ! -S "$var/run/socketmap.sock" ]; then
        echo "sendguard: sendguard-policyd did not start; see $var/run/sendguard-policyd.log" >&2
        cat "$var/run/sendguard-policyd.log" >&2
        exit 1
    fi
    echo "sendguard: started sendguard-policyd (pid $(cat "$pidfile")) on unix:$var/run/socketmap.sock"
fi

"$bin/sendguard" suppress stats
cat <<INFO

Configuration: $conf (SENDGUARD_CONFIG), state in $var/lib, sockets in $var/run.
Log: $var/run/sendguard-policyd.log; reload: kill -HUP \$(cat $pidfile).

main.cf:
    # refuse mail to suppressed recipients at RCPT, for every client
    smtpd_recipient_restrictions =
        check_recipient_access socketmap:unix:$var/run/socketmap.sock:suppress,
        permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
    # bounces to the VERP domain go to the pipe transport, one recipient each
    relay_domains = \$mydestination, bounces.example.org
    transport_maps = texthash:/etc/postfix/sendguard_transport
    sendguard_destination_recipient_limit = 1
/etc/postfix/sendguard_transport:
    bounces.example.org   sendguard:
master.cf:
    sendguard unix - n n - 10 pipe
      flags=DRq user=sendguard null_sender=
      argv=$bin/sendguard-bounce -c $conf -q \${queue_id} -f \${sender} -a \${original_recipient} -- \${recipient}

Try:  export SENDGUARD_CONFIG=$conf
      $bin/sendguard suppress add someone@example.net
      $bin/sendguard suppress check someone@example.net; echo \$?    # 0: suppressed
Stop: scripts/run.sh stop
INFO
