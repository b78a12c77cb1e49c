#!/bin/sh
# The sandbox of scripts/run.sh: a throw-away Postfix on 127.0.0.1 with
# every sendguard program hooked in, and a second Postfix as "the internet".
#
#   scripts/sandbox.sh start BIN_DIR    (re)start it with the programs in BIN_DIR
#   scripts/sandbox.sh stop             stop what a previous start started
#
# Everything lives under ./var/sandbox; nothing outside it is changed.
#
#   relay   Postfix, config relay/, queue relay-spool/, log log/relay.log
#     127.0.0.1:$submission_port  submission: SASL login (a private sasldb),
#             sendguard-milter (who may send as whom, VERP return path),
#             sendguard-policyd's suppress map and policy service (the rate
#             rules of etc/rate-rules) at RCPT and END-OF-MESSAGE
#     127.0.0.1:$inbound_port  inbound: mail for the bounce domain, delivered
#             through pipe(8) to sendguard-bounce (content_filter=sendguard:)
#     transport map: the bounce domain to the inbound port, the rest to the sink;
#             $provider_domain through the transport $provider, whose status
#             filter map status-$provider credits each outcome to the demo
#             provider $provider; sendguard-policyd's transport map, which
#             routes a provider in backoff to $provider-slow or
#             $provider-crawl (policyd_throttled_transports)
#   sink    Postfix on 127.0.0.2:$sink_port, config sink/, log log/sink.log:
#             accepts every recipient but two, answers 550 for $refused_rcpt
#             and web.de's "$throttle_reply" for $throttled_rcpt,
#             and records each envelope in sink-mail/envelopes.log
#   sendguard-policyd, sendguard-milter: sockets and pid files in run/, store
#             in lib/, log in log/sendguard.log (shared with sendguard-bounce)
#   dnsmasq   on 127.0.0.1:$dns_port (config etc/dnsmasq.conf, log
#             log/dnsmasq.log): the demo domains' MX records for the milter's
#             reply-ability check (dns_servers); every other name is NXDOMAIN
#             and nothing is forwarded, so the sandbox never asks the
#             internet. Without dnsmasq: milter_reply_check = no, and
#             dns_servers names the closed port 127.0.0.1:9 (sendguard-policyd's MX
#             lookups fail at once; no provider is rolled up).
#
# Both Postfix instances run Debian's binaries (postfix -c DIR) with every
# service unchrooted (the paths are absolute; nothing is copied into a jail),
# each in a mount namespace of its own (unshare -m) where /etc/hosts,
# /etc/resolv.conf and /etc/nsswitch.conf are the sandbox's (etc/hosts,
# etc/resolv.conf, etc/nsswitch.conf): host names come from that hosts file
# only, and the relay's smtp asks no DNS (smtp_dns_support_level =
# disabled), so the throttled transports, which Postfix gives the recipient
# domain as next hop, reach the sink by name. Without mount namespaces the
# throttled transports are left out (they would ask the host's DNS).
# A restart keeps the store, the VERP key and the demo password.  Stopping
# goes by pid files only: Postfix's master.pid (postfix -c DIR stop) and the
# daemons' own pid files.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# SENDGUARD_SANDBOX_DIR moves it elsewhere (e2e.sandbox runs one in a temporary directory)
sb=${SENDGUARD_SANDBOX_DIR:-$top/var/sandbox}

submission_port=${SENDGUARD_SANDBOX_SUBMISSION_PORT:-10587}
inbound_port=${SENDGUARD_SANDBOX_INBOUND_PORT:-10025}
sink_ip=127.0.0.2
sink_port=${SENDGUARD_SANDBOX_SINK_PORT:-10026}
dns_port=${SENDGUARD_SANDBOX_DNS_PORT:-10053}
customer=customer.example
login=demo@$customer
bounce_domain=bounces.$customer
accepted_rcpt=alice@example.net
refused_rcpt=gone@example.net
# The demo provider: a web.de-like domain whose MX (the sink) answers its
# rate-limit reply for one recipient and accepts the others.
provider=webde
provider_domain=webde.example
provider_mx=mx01.$provider_domain
throttled_rcpt=someone@$provider_domain
provider_ok_rcpt=friend@$provider_domain
throttle_reply="451 4.7.1 Rate limit reached. Please try again later"

say() { echo "sandbox: $*"; }
die() { echo "sandbox: $*" >&2; exit 1; }

# --- stopping, by pid file -------------------------------------------------

pid_alive() { [ -f "$1" ] && kill -0 "$(tr -d ' \n' <"$1")" 2>/dev/null; }

stop_daemon() {  # name pid-file
    if ! pid_alive "$2"; then rm -f "$2"; return 0; fi
    pid=$(tr -d ' \n' <"$2")
    kill "$pid"
    i=0  # libmilter takes ~5s to finish after SIGTERM
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
        say "$1 (pid $pid) did not stop within 10s; killing it"
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$2"
    stopped=yes
    say "stopped $1 (pid $pid)"
}

stop_postfix() {  # name config-dir queue-dir
    if ! pid_alive "$3/pid/master.pid"; then return 0; fi
    pid=$(tr -d ' \n' <"$3/pid/master.pid")
    postfix -c "$2" stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$pid" 2>/dev/null; then die "Postfix $1 (master pid $pid) did not stop"; fi
    stopped=yes
    say "stopped Postfix $1 (master pid $pid)"
}

stop_all() {
    stopped=no
    stop_postfix relay "$sb/relay" "$sb/relay-spool"
    stop_postfix sink "$sb/sink" "$sb/sink-spool"
    stop_daemon sendguard-milter "$sb/run/milter.pid"
    stop_daemon sendguard-policyd "$sb/run/policyd.pid"
    stop_daemon dnsmasq "$sb/run/dnsmasq.pid"
}

# --- configuration ---------------------------------------------------------

# Postfix programs nap until main.cf and master.cf are two seconds old.
backdate() { touch -d "@$(($(date +%s) - 60))" "$@"; }

port_busy() {  # ip port: does something listen there already?
    ss -Hltn "src $1:$2" 2>/dev/null | grep -q .
}

# The services every instance needs, unchrooted; postlog writes maillog_file.
base_master_cf() {
    cat <<'MASTER'
pickup    unix  n  -  n  60    1  pickup
cleanup   unix  n  -  n  -     0  cleanup
qmgr      unix  n  -  n  300   1  qmgr
rewrite   unix  -  -  n  -     -  trivial-rewrite
bounce    unix  -  -  n  -     0  bounce
defer     unix  -  -  n  -     0  bounce
trace     unix  -  -  n  -     0  bounce
verify    unix  -  -  n  -     1  verify
flush     unix  n  -  n  1000? 0  flush
proxymap  unix  -  -  n  -     -  proxymap
proxywrite unix -  -  n  -     1  proxymap
smtp      unix  -  -  n  -     -  smtp
relay     unix  -  -  n  -     -  smtp
showq     unix  n  -  n  -     -  showq
error     unix  -  -  n  -     -  error
retry     unix  -  -  n  -     -  error
discard   unix  -  -  n  -     -  discard
anvil     unix  -  -  n  -     1  anvil
scache    unix  -  -  n  -     1  scache
postlog   unix-dgram n - n -   1  postlogd
MASTER
}

# main.cf lines both instances share: private directories, loopback only,
# no local delivery, short retry times.  Arguments: name myhostname ip.
base_main_cf() {
    cat <<MAIN
# written by scripts/sandbox.sh: the sandbox's $1 instance
compatibility_level = 3.6
queue_directory = $sb/$1-spool
data_directory = $sb/$1-data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = $3
inet_protocols = ipv4
myhostname = $2
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP
biff = no
append_dot_mydomain = no
delay_warning_time = 0h
maillog_file = $sb/log/$1.log
maillog_file_prefixes = $sb/log
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 60s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
smtp_connect_timeout = 5s
MAIN
}

instance_dirs() {  # name
    mkdir -p "$sb/$1" "$sb/$1-spool"
    install -d -m 0700 -o postfix "$sb/$1-data"
}

write_sendguard_conf() {
    cat >"$sb/etc/sendguard.conf" <<CONF
# written by scripts/sandbox.sh; everything else is the built-in default
# (see: $bin/sendguard -c $sb/etc/sendguard.conf config -n).
config_directory = $sb/etc
state_directory = $sb/lib
run_directory = $sb/run
# VERP return paths on bounces.<sender domain>: $bounce_domain for $customer
bounce_domains = bounces.*
# The demo login owns $customer (milter_login_owns_domain); the table
# adds its subdomains
milter_sender_tables = $sb/etc/senders
$(dns_conf)
# One file for all three programs: sendguard-bounce runs as $user under
# pipe(8) and cannot reach Postfix's postlog socket.
log_target = file:$sb/log/sendguard.log
policyd_user = $user
policyd_pid_file = $sb/run/policyd.pid
# The policy service (check_policy_service in relay/main.cf): a quota for the
# demo login and a limit for the demo provider (rate-rules); the provider
# row of $provider_domain's MX host (providers)
policyd_policy_listen = unix:$sb/run/policy.sock
policyd_rate_rules = $sb/etc/rate-rules
policyd_provider_table = $sb/etc/providers
$(throttle_conf)
milter_user = $user
milter_pid_file = $sb/run/milter.pid
CONF
}

# The milter's name server: the sandbox's dnsmasq, or no check at all (the
# demo domains are in no public DNS, and the sandbox never asks it).
dns_conf() {
    if [ "$dns" = yes ]; then
        echo "# sendguard-milter (can senders receive replies?) and sendguard-policyd (the"
        echo "# MX roll-up to providers) ask the sandbox's own dnsmasq (its records:"
        echo "# $sb/etc/dnsmasq.conf)"
        echo "dns_servers = 127.0.0.1:$dns_port"
    else
        echo "# no dnsmasq: the demo domains are in no DNS, and the sandbox never asks"
        echo "# the internet, so the milter does not check that senders receive replies"
        echo "# and sendguard-policyd's MX lookups go to a closed local port (they fail,"
        echo "# and no recipient domain is rolled up to a provider)"
        echo "milter_reply_check = no"
        echo "dns_servers = 127.0.0.1:9"
    fi
}

# Backoff: the throttled transports of relay/master.cf, one per level, and
# a recovery the demo can show: the default quiet period is 10m.
throttle_conf() {
    if [ "$ns" = yes ]; then
        echo "# A provider in backoff leaves through the throttled transports of relay/master.cf"
        echo "policyd_throttled_transports = $provider=$provider-slow/$provider-crawl"
    else
        echo "# no mount namespace: no throttled transports (their next hop, the recipient"
        echo "# domain, would be looked up in the host's DNS)"
    fi
    echo "# Shortened for the demo (the default is 10m): a provider's rate grows back"
    echo "# by policyd_backoff_recovery_step (60/h) for each minute without a rate-limit reply"
    echo "policyd_backoff_quiet_period = 1m"
}

# The rate rules and the provider row: a customer quota for the demo login,
# and a limit for the demo provider that backoff lowers.
write_policy_tables() {
    cat >"$sb/etc/rate-rules" <<RULES
# written by scripts/sandbox.sh: sendguard-policyd's rate rules (policyd_rate_rules)
# The demo login ($login): 100 messages an hour, 500 recipients a day.
customer        key=sasl_username                    100/h burst 20
customer-rcpts  key=sasl_username count=recipients   500/day
# The demo provider: 120 messages an hour, at most 10 at once. Backoff
# lowers this rate after a rate-limit reply and brings it back.
$provider           provider=$provider key=provider             120/h burst 10
RULES
    cat >"$sb/etc/providers" <<PROVIDERS
# written by scripts/sandbox.sh: sendguard-policyd's provider rows (policyd_provider_table)
# $provider_domain's MX host ($sb/etc/dnsmasq.conf) rolls up to $provider.
$provider  mx*.$provider_domain
PROVIDERS
    chmod 0644 "$sb/etc/rate-rules" "$sb/etc/providers"
}

# The name service of both Postfix instances (their mount namespaces): the
# sandbox's hosts file, nothing else; resolv.conf names loopback only.
write_name_service() {
    cat >"$sb/etc/hosts" <<HOSTS
# written by scripts/sandbox.sh: the hosts file of the sandbox's Postfix instances
127.0.0.1  localhost relay.sandbox.test inbound.sandbox.test
$sink_ip  sink.sandbox.test $provider_domain $provider_mx
HOSTS
    cat >"$sb/etc/resolv.conf" <<RESOLV
# written by scripts/sandbox.sh: nothing in the sandbox's Postfix asks DNS
# (smtp_dns_support_level = disabled, hosts: files); were it to, it asks loopback
nameserver 127.0.0.1
options timeout:1 attempts:1
RESOLV
    if grep -q '^hosts:' /etc/nsswitch.conf 2>/dev/null; then
        sed 's/^hosts:.*/hosts:          files/' /etc/nsswitch.conf >"$sb/etc/nsswitch.conf"
    else
        { cat /etc/nsswitch.conf 2>/dev/null; echo "hosts:          files"; } >"$sb/etc/nsswitch.conf"
    fi
    chmod 0644 "$sb/etc/hosts" "$sb/etc/resolv.conf" "$sb/etc/nsswitch.conf"
}

# Runs a command in a mount namespace that sees the sandbox's name service
# files over /etc's (without mount namespaces: as it is).
with_name_service() {
    if [ "$ns" = no ]; then "$@"; return; fi
    # shellcheck disable=SC2016  # the inner shell expands its own arguments
    unshare -m --propagation private /bin/sh -c '
        mount --bind "$1" /etc/hosts || exit 1
        if [ -e /etc/resolv.conf ]; then mount --bind "$2" /etc/resolv.conf || exit 1; fi
        if [ -e /etc/nsswitch.conf ]; then mount --bind "$3" /etc/nsswitch.conf || exit 1; fi
        shift 3
        exec "$@"' sh "$sb/etc/hosts" "$sb/etc/resolv.conf" "$sb/etc/nsswitch.conf" "$@"
}

write_dns() {
    cat >"$sb/etc/dnsmasq.conf" <<DNS
# written by scripts/sandbox.sh: the demo domains receive mail (MX), any
# other name is NXDOMAIN, answered here; nothing is forwarded
mx-host=$customer,mx.$customer,10
mx-host=$bounce_domain,mx.$customer,10
host-record=mx.$customer,127.0.0.1
mx-host=$provider_domain,$provider_mx,10
host-record=$provider_mx,$sink_ip
local-ttl=60
local=/#/
DNS
}

write_keys_and_login() {
    keys="$sb/etc/verp.keys"
    if [ ! -f "$keys" ]; then
        (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$keys"; echo >>"$keys")
    fi
    chgrp "$group" "$keys" && chmod 0640 "$keys"
    if [ ! -f "$sb/etc/demo.password" ]; then
        (umask 077; od -An -N6 -tx1 /dev/urandom | tr -d ' \n' >"$sb/etc/demo.password")
    fi
    password=$(cat "$sb/etc/demo.password")
    printf '# login  sender domains it may use (sendguard-milter(8))\n%s  *.%s\n' "$login" "$customer" \
        >"$sb/etc/senders"
    chmod 0644 "$sb/etc/senders"
    mkdir -p "$sb/sasldb"
    # smtpd looks the login up as user@realm with the realm from the login
    printf '%s' "$password" | saslpasswd2 -f "$sb/sasldb/sasldb2" -c -p -u "$customer" demo
    chown postfix "$sb/sasldb/sasldb2" && chmod 0600 "$sb/sasldb/sasldb2"
}

write_relay() {
    d="$sb/relay"
    instance_dirs relay
    mkdir -p "$d/sasl"
    # Debian's Postfix reads <config_directory>/sasl/smtpd.conf
    cat >"$d/sasl/smtpd.conf" <<SASL
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $sb/sasldb/sasldb2
mech_list: PLAIN LOGIN
SASL
    socketmap="socketmap:unix:$sb/run/socketmap.sock"
    policy="check_policy_service { unix:$sb/run/policy.sock, default_action=DUNNO }"
    milter="unix:$sb/run/milter.sock"
    { base_main_cf relay relay.sandbox.test 127.0.0.1; cat <<MAIN
default_transport = error:5.3.5 no route in the sendguard sandbox
# sendguard-policyd's transport map answers for a provider in backoff.
# Postfix asks a socketmap for the full recipient address only, so its
# answer comes before the row for $provider_domain in the sandbox's table
transport_maps = texthash:$d/transport, $socketmap:transport
relay_domains = $bounce_domain
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access $socketmap:suppress
# The policy service only where customers submit (the submission port below,
# as conf-examples/master.cf has it): anonymous mail to the bounce domain must
# not consume a customer's quota
sendguard_customer_recipient_restrictions = check_recipient_access $socketmap:suppress, $policy
sendguard_customer_end_of_data_restrictions = $policy
smtpd_policy_service_timeout = 100s
smtpd_policy_service_max_idle = 300s
smtpd_policy_service_max_ttl = 1000s
smtpd_policy_service_try_limit = 2
# every delivery outcome to sendguard-policyd's learner (always NOTFOUND)
smtp_delivery_status_filter = $socketmap:status
# host names come from the sandbox's hosts file (etc/hosts), never from DNS
smtp_dns_support_level = disabled
$provider-slow_destination_rate_delay = 2s
$provider-crawl_destination_rate_delay = 20s
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $d/sasl
smtpd_sasl_local_domain =
smtpd_sasl_security_options = noanonymous
smtpd_milters = $milter
non_smtpd_milters = $milter
milter_default_action = tempfail
milter_protocol = 6
sendguard_destination_recipient_limit = 1
MAIN
    } >"$d/main.cf"
    { echo "# written by scripts/sandbox.sh: the sandbox's relay instance"; cat <<MASTER
127.0.0.1:$submission_port inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=\$sendguard_customer_recipient_restrictions
  -o smtpd_end_of_data_restrictions=\$sendguard_customer_end_of_data_restrictions
127.0.0.1:$inbound_port inet n - n - - smtpd
  -o syslog_name=postfix/inbound
  -o myhostname=inbound.sandbox.test
  -o smtpd_milters=
  -o smtpd_relay_restrictions=reject_unauth_destination
  -o smtpd_recipient_restrictions=
  -o content_filter=sendguard:
sendguard unix - n n - 10 pipe
  flags=DRq user=$user null_sender=
  argv=$bin/sendguard-bounce -c $sb/etc/sendguard.conf -q \${queue_id} -f \${sender} -a \${original_recipient} -- \${recipient}
$provider unix - - n - - smtp
  -o syslog_name=postfix/$provider
  -o smtp_delivery_status_filter=$socketmap:status-$provider
$provider-slow unix - - n - - smtp
  -o syslog_name=postfix/$provider-slow
  -o smtp_delivery_status_filter=$socketmap:status-$provider
  -o smtp_tcp_port=$sink_port
$provider-crawl unix - - n - - smtp
  -o syslog_name=postfix/$provider-crawl
  -o smtp_delivery_status_filter=$socketmap:status-$provider
  -o smtp_tcp_port=$sink_port
MASTER
      base_master_cf; } >"$d/master.cf"
    cat >"$d/transport" <<TRANSPORT
# The bounce domain's MX is the inbound port; everything else is "the internet".
$bounce_domain  smtp:[127.0.0.1]:$inbound_port
# The demo provider's domain, through a transport whose status filter map
# (status-$provider) credits each outcome to $provider, as its MX host's
# name would (the sink has an IP address only)
$provider_domain  $provider:[$sink_ip]:$sink_port
*  smtp:[$sink_ip]:$sink_port
TRANSPORT
    backdate "$d/main.cf" "$d/master.cf" "$d/transport"
}

write_sink() {
    d="$sb/sink"
    instance_dirs sink
    # outside sink/: postfix check wants the config directory's files root's
    mail="$sb/sink-mail"
    install -d -o nobody -m 0755 "$mail"
    : >>"$mail/envelopes.log" && chown nobody "$mail/envelopes.log"
    cat >"$d/access" <<ACCESS
$accepted_rcpt  OK
$refused_rcpt  550 5.1.1 mailbox unavailable (sendguard sandbox sink)
$throttled_rcpt  $throttle_reply
ACCESS
    # pipe(8) runs it as nobody: $1 sender, $2 recipient, the message on stdin
    cat >"$d/record.sh" <<RECORD
#!/bin/sh
f=\$(mktemp "$mail/msg.XXXXXX") || exit 75
cat >"\$f" || exit 75
printf '%s from=<%s> to=<%s> file=%s\\n' "\$(date '+%F %T')" "\$1" "\$2" "\$f" \\
    >>"$mail/envelopes.log" || exit 75
RECORD
    chmod 0755 "$d/record.sh"
    # inet_interfaces must be an interface address (lo has 127.0.0.1 only);
    # the master.cf line binds $sink_ip, which Linux routes to lo as well.
    { base_main_cf sink sink.sandbox.test 127.0.0.1; cat <<MAIN
smtpd_recipient_restrictions = check_recipient_access texthash:$d/access, permit
default_transport = record:
record_destination_recipient_limit = 1
MAIN
    } >"$d/main.cf"
    { echo "# written by scripts/sandbox.sh: the sandbox's sink (\"the internet\")"; cat <<MASTER
$sink_ip:$sink_port inet n - n - - smtpd
record unix - n n - - pipe
  flags=q user=nobody null_sender=
  argv=/bin/sh $d/record.sh \${sender} \${recipient}
MASTER
      base_master_cf; } >"$d/master.cf"
    backdate "$d/main.cf" "$d/master.cf" "$d/access"
}

# --- starting --------------------------------------------------------------

wait_for() {  # what test... : up to 10s
    what=$1; shift
    i=0
    while ! "$@" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    "$@" || die "$what did not come up; see $sb/log/"
}

start_daemon() {  # name pid-file socket
    setsid "$bin/$1" -c "$sb/etc/sendguard.conf" >>"$sb/log/$1.out" 2>&1 </dev/null &
    wait_for "$1" test -S "$3"
    wait_for "$1's pid file" test -s "$2"
    say "started $1 (pid $(tr -d ' \n' <"$2")) on unix:$3"
}

start_dns() {
    setsid dnsmasq --keep-in-foreground --log-facility=- --log-queries --no-resolv --no-hosts --no-poll \
        --listen-address=127.0.0.1 --bind-interfaces --port="$dns_port" --cache-size=0 \
        --user=nobody --group="$(id -gn nobody)" \
        --pid-file="$sb/run/dnsmasq.pid" --conf-file="$sb/etc/dnsmasq.conf" \
        >>"$sb/log/dnsmasq.log" 2>&1 </dev/null &
    wait_for "dnsmasq on 127.0.0.1:$dns_port" port_busy 127.0.0.1 "$dns_port"
    wait_for "dnsmasq's pid file" test -s "$sb/run/dnsmasq.pid"
    say "started dnsmasq (pid $(tr -d ' \n' <"$sb/run/dnsmasq.pid")) on 127.0.0.1:$dns_port"
}

start_postfix() {  # name config-dir ip port
    postfix -c "$2" check >/dev/null 2>"$sb/log/$1.check" ||
        die "postfix -c $2 check failed: $(cat "$sb/log/$1.check")"
    with_name_service postfix -c "$2" start >/dev/null 2>"$sb/log/$1.start" ||
        die "postfix -c $2 start failed: $(cat "$sb/log/$1.start")"
    wait_for "Postfix $1 on $3:$4" port_busy "$3" "$4"
    say "started Postfix $1 (config $2) on $3:$4"
}

start() {
    bin=$1
    [ "$(id -u)" = 0 ] || die "the sandbox runs Postfix and needs root"
    for p in sendguard sendguard-bounce sendguard-policyd sendguard-milter; do
        [ -x "$bin/$p" ] || die "no $bin/$p: build it first"
    done
    for c in postfix saslpasswd2 ss setsid; do
        command -v "$c" >/dev/null || die "no $c: run scripts/deps.sh"
    done
    dns=no
    if command -v dnsmasq >/dev/null; then dns=yes; else say "no dnsmasq: milter_reply_check = no"; fi
    ns=no
    if unshare -m --propagation private true 2>/dev/null; then ns=yes; else
        say "no mount namespace (unshare -m failed): no throttled transports"
    fi
    # sendguard-bounce runs as this user under pipe(8), the daemons switch to it
    user=sendguard
    id -u "$user" >/dev/null 2>&1 || user=nobody
    group=$(id -gn "$user")

    stop_all
    dns_ep="127.0.0.1 $submission_port"  # checked twice when there is no dnsmasq
    if [ "$dns" = yes ]; then dns_ep="127.0.0.1 $dns_port"; fi
    for ep in "127.0.0.1 $submission_port" "127.0.0.1 $inbound_port" "$sink_ip $sink_port" "$dns_ep"; do
        # shellcheck disable=SC2086
        if port_busy $ep; then die "something else listens on ${ep% *}:${ep#* } (ss -ltnp)"; fi
    done

    mkdir -p "$sb/etc" "$sb/log" "$sb/run"
    install -d -o "$user" -g "$group" -m 0750 "$sb/lib"
    chown "$user:$group" "$sb/run"
    # all three programs append to it; sendguard-bounce runs as $user
    touch "$sb/log/sendguard.log" && chown "$user:$group" "$sb/log/sendguard.log"
    write_sendguard_conf
    write_policy_tables
    write_name_service
    if [ "$dns" = yes ]; then write_dns; fi
    write_keys_and_login
    write_relay
    write_sink
    # The store's first writer creates it; make that the daemon user (as
    # scripts/install.sh does), or the bounce transport could not write it.
    if [ ! -f "$sb/lib/suppress.lmdb/data.mdb" ]; then
        (umask 007; runuser -u "$user" -- "$bin/sendguard" -c "$sb/etc/sendguard.conf" \
            suppress import --format plain </dev/null >/dev/null)
    fi

    if [ "$dns" = yes ]; then start_dns; fi
    start_daemon sendguard-policyd "$sb/run/policyd.pid" "$sb/run/socketmap.sock"
    wait_for "sendguard-policyd's policy service" test -S "$sb/run/policy.sock"
    start_daemon sendguard-milter "$sb/run/milter.pid" "$sb/run/milter.sock"
    start_postfix sink "$sb/sink" "$sink_ip" "$sink_port"
    start_postfix relay "$sb/relay" 127.0.0.1 "$submission_port"
    wait_for "Postfix relay on 127.0.0.1:$inbound_port" port_busy 127.0.0.1 "$inbound_port"
    print_guide
}

# Case 4 needs the sandbox's DNS: gone.$customer is in no record there.
dns_guide() {
    [ "$dns" = yes ] || return 0
    cat <<CASE

4. Refused by sendguard-milter: the From: domain cannot receive replies
   (the login may use *.$customer, but gone.$customer does not exist)
   $swaks -f news@$customer -t $accepted_rcpt --header 'From: <noreply@gone.$customer>'
   It ends with 550 5.1.8 From: domain gone.$customer does not exist (NXDOMAIN).
CASE
}

# Case 5: a provider's rate-limit reply puts it into backoff.
backoff_guide() {
    cat <<CASE

5. Backoff: $provider_domain's MX (the sink) answers $throttled_rcpt as web.de
   does when it is sent too much, "$throttle_reply"
   $swaks -f news@$customer -t $throttled_rcpt
   The relay accepts it; the sink defers it, smtp's status filter tells
   sendguard-policyd, and the provider $provider goes into backoff. Within seconds
   $cli status
   shows $provider at LEVEL 1, its ALLOWED rate half the CONFIGURED 120/h of the rule
   $provider, and that 451 under "last 4xx reply per provider".
CASE
    if [ "$ns" = yes ] && [ "$dns" = yes ]; then
        cat <<CASE
   While it is in backoff, mail for $provider_domain that enters the active queue
   (the retries of that message, every 10-60 s, and new mail) leaves through the
   throttled transport $provider-slow (a further 451 a minute later: $provider-crawl):
   $swaks -f news@$customer -t $provider_ok_rcpt
   grep -E 'postfix/$provider-(slow|crawl)/smtp' $sb/log/relay.log
   (the sink accepts $provider_ok_rcpt: status=sent, relay=${provider_domain}[$sink_ip]).
CASE
    else
        echo "   (Without dnsmasq, which rolls $provider_domain up to $provider, or without mount
   namespaces, its mail is not routed to a throttled transport.)"
    fi
    cat <<CASE
   The retries keep it in backoff. Remove the message, and the rate grows back by
   60/h for each minute without a 451 (policyd_backoff_quiet_period is 1m in this
   sandbox, 10m by default) until it is back at level 0:
   postsuper -c $sb/relay -d ALL deferred
   and then, to end the backoff at once: $cli backoff clear $provider
   (a clear while the message is still queued lasts only until its next retry
   is answered 451 again)
CASE
}

print_guide() {
    swaks="swaks -s 127.0.0.1 -p $submission_port -au $login -ap $password"
    cli="$bin/sendguard -c $sb/etc/sendguard.conf"
    cat <<GUIDE

The sandbox runs (state under $sb; a second run restarts it, keeping the store):
  submission  127.0.0.1:$submission_port  SASL login $login, password $password
  inbound     127.0.0.1:$inbound_port  mail for $bounce_domain -> sendguard-bounce
  sink        $sink_ip:$sink_port  "the internet": accepts $accepted_rcpt, 550 for $refused_rcpt,
              451 "Rate limit reached" for $throttled_rcpt

1. Accepted: the sink gets it with a signed VERP return path on $bounce_domain
   $swaks -f news@$customer -t $accepted_rcpt

2. Refused by sendguard-milter: the login may not send as another customer's address
   $swaks -f boss@other.example -t $accepted_rcpt

3. 550 at the sink: the relay's DSN goes to the VERP address, comes back through
   the inbound port to sendguard-bounce, and the address is suppressed
   $swaks -f news@$customer -t $refused_rcpt
   Then send it again: sendguard-policyd refuses it at RCPT (550 5.1.1 ... suppression list).
   To send case 3 once more: $cli suppress remove $refused_rcpt
$(dns_guide)
$(backoff_guide)

Where to look:
  Postfix relay log     $sb/log/relay.log   (the sink's: $sb/log/sink.log)
  sendguard log         $sb/log/sendguard.log   (milter, policyd, bounce decisions)
  DNS of the demo       $sb/etc/dnsmasq.conf, queries in $sb/log/dnsmasq.log
  envelopes at the sink $sb/sink-mail/envelopes.log   (from=<bounce+...@$bounce_domain>)
  suppressions          $cli suppress list
  rate limits, backoff  $cli status   (rules: $sb/etc/rate-rules)
Stop: scripts/run.sh stop
GUIDE
}

case "${1:-}" in
start) [ $# -eq 2 ] || die "usage: $0 start BIN_DIR"; start "$2" ;;
stop)
    [ "$(id -u)" = 0 ] || die "stopping the sandbox needs root"
    stop_all
    if [ "$stopped" = no ]; then say "nothing running"; fi
    ;;
*) die "usage: $0 start BIN_DIR | stop" ;;
esac
