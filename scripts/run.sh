#!/bin/sh
# Sets up, builds and runs sendguard's main job in a sandbox: a throw-away
# Postfix on 127.0.0.1 high ports with every sendguard program hooked in and
# a second Postfix as "the internet" (scripts/sandbox.sh), state under
# ./var/sandbox.  Prints the ports, the demo login and a swaks command for
# each case, and where to see the outcome.
#
#   scripts/run.sh                  install missing packages, build, start the sandbox
#   scripts/run.sh stop             stop everything the sandbox started
#   scripts/run.sh --postfix-lines  print the lines for an existing Postfix; starts nothing
#
# SENDGUARD_BIN_DIR=DIR uses the programs already built in DIR: no packages,
# no build.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

postfix_lines() {
    bin="$top/build/main/bin"
    conf="$top/var/etc/sendguard.conf"
    run="$top/var/run"
    cat <<LINES
For an existing Postfix, with the programs of build/main (scripts/run.sh
builds them; so does: cmake -S . -B build/main -G Ninja && cmake --build build/main).

$conf:
    config_directory = $top/var/etc
    state_directory = $top/var/lib
    run_directory = $run
    bounce_domains = bounces.example.org
    # the policy service: rate rules and provider rows (conf-examples/rate-rules, providers)
    policyd_policy_listen = unix:$run/policy.sock
    policyd_rate_rules = $top/var/etc/rate-rules
    policyd_provider_table = $top/var/etc/providers
    # a provider in backoff leaves through the throttled transports of master.cf
    policyd_throttled_transports = google=google-slow/google-crawl
$top/var/etc/verp.keys, and the directories of the daemon user (sendguard):
    (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \\n' > $top/var/etc/verp.keys)
    chgrp sendguard $top/var/etc/verp.keys && chmod 0640 $top/var/etc/verp.keys
    install -d -o sendguard -g sendguard $top/var/lib $run
    cp $top/conf-examples/rate-rules $top/conf-examples/providers $top/var/etc/   # then edit them
Start the daemons as root (they switch to policyd_user and milter_user, sendguard):
    $bin/sendguard-policyd -c $conf &
    $bin/sendguard-milter -c $conf &

main.cf:
    # refuse mail to suppressed recipients at RCPT, for every client; then the
    # rate limits (before the permits, or it never sees the senders it limits)
    smtpd_recipient_restrictions =
        check_recipient_access socketmap:unix:$run/socketmap.sock:suppress,
        check_policy_service { unix:$run/policy.sock, default_action=DUNNO },
        permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
    # a message counts when it is accepted (policyd_count_at = end-of-message)
    smtpd_end_of_data_restrictions =
        check_policy_service { unix:$run/policy.sock, default_action=DUNNO }
    smtpd_policy_service_timeout = 100s
    smtpd_policy_service_max_idle = 300s
    smtpd_policy_service_max_ttl = 1000s
    smtpd_policy_service_try_limit = 2
    # every delivery outcome to the backoff learner (the answer changes nothing)
    smtp_delivery_status_filter = socketmap:unix:$run/socketmap.sock:status
    # who may send as whom, and the signed VERP return path
    smtpd_milters = unix:$run/milter.sock
    non_smtpd_milters = unix:$run/milter.sock
    milter_default_action = tempfail
    # bounces to the VERP domains go to the pipe transport, one recipient each
    relay_domains = \$mydestination, bounces.example.org
    # a provider in backoff to its throttled transport (Postfix asks the socketmap
    # for the full recipient address, before any domain row of the other table)
    transport_maps = texthash:/etc/postfix/sendguard_transport,
        socketmap:unix:$run/socketmap.sock:transport
    sendguard_destination_recipient_limit = 1
    google-slow_destination_rate_delay = 2s
    google-crawl_destination_rate_delay = 20s
/etc/postfix/sendguard_transport:
    bounces.example.org   sendguard:
master.cf (smtpd, smtp and rewrite unchrooted, or the sockets are not found: see README.md):
    sendguard unix - n n - 10 pipe
      flags=DRq user=sendguard null_sender=
      argv=$bin/sendguard-bounce -c $conf -q \${queue_id} -f \${sender} -a \${original_recipient} -- \${recipient}
    # the throttled transports of policyd_throttled_transports; their status
    # filter map names the provider, so successes count for it too
    google-slow unix - - n - - smtp
      -o syslog_name=postfix/google-slow
      -o smtp_delivery_status_filter=socketmap:unix:$run/socketmap.sock:status-google
    google-crawl unix - - n - - smtp
      -o syslog_name=postfix/google-crawl
      -o smtp_delivery_status_filter=socketmap:unix:$run/socketmap.sock:status-google
Then: postfix reload
LINES
}

case "${1:-}" in
--postfix-lines) postfix_lines; exit 0 ;;
stop) exec "$top/scripts/sandbox.sh" stop ;;
"") ;;
*) echo "usage: scripts/run.sh [stop | --postfix-lines]" >&2; exit 64 ;;
esac

if [ "$(id -u)" != 0 ]; then
    echo "sendguard: the sandbox runs two private Postfix instances and needs root;" >&2
    echo "sendguard: scripts/run.sh --postfix-lines prints the lines for an existing Postfix." >&2
    exit 1
fi
if [ -n "${SENDGUARD_BIN_DIR:-}" ]; then
    bin=$SENDGUARD_BIN_DIR
else
    "$top/scripts/deps.sh"
    cmake -S . -B build/main -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build/main -j "$(nproc 2>/dev/null || echo 2)" \
        --target sendguard sendguard-bounce sendguard-policyd sendguard-milter
    bin="$top/build/main/bin"
fi
exec "$top/scripts/sandbox.sh" start "$bin"
