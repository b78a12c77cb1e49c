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
#             sendguard-policyd's suppress map at RCPT
#     127.0.0.1:$inbound_port  inbound: mail for the bounce domain, delivered
#             through pipe(8) to sendguard-bounce (content_filter=sendguard:)
#     transport map: the bounce domain to the inbound port, the rest to the sink
#   sink    Postfix on 127.0.0.2:$sink_port, config sink/, log log/sink.log:
#             accepts every recipient but one, answers 550 for $refused_rcpt,
#             and records each envelope in sink-mail/envelopes.log
#   sendguard-policyd, sendguard-milter: sockets and pid files in run/, store
#             in lib/, log in log/sendguard.log (shared with sendguard-bounce)
#   dnsmasq   on 127.0.0.1:$dns_port (config etc/dnsmasq.conf, log
#             log/dnsmasq.log): the demo domains' MX records for the milter's
#             reply-ability check (dns_servers); every other name is NXDOMAIN
#             and nothing is forwarded, so the sandbox never asks the
#             internet. Without dnsmasq: milter_reply_check = no.
#
# Both Postfix instances run Debian's binaries (postfix -c DIR) with every
# service unchrooted (the paths are absolute; nothing is copied into a jail).
# A restart keeps the store, the VERP key and the demo password.  Stopping
# goes by pid files only: Postfix's master.pid (postfix -c DIR stop) and the
# daemons' own pid files.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
sb="$top/var/sandbox"

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
milter_user = $user
milter_pid_file = $sb/run/milter.pid
CONF
}

# The milter's name server: the sandbox's dnsmasq, or no check at all (the
# demo domains are in no public DNS, and the sandbox never asks it).
dns_conf() {
    if [ "$dns" = yes ]; then
        echo "# sendguard-milter checks senders can receive replies against the sandbox's"
        echo "# own dnsmasq (its records: $sb/etc/dnsmasq.conf)"
        echo "dns_servers = 127.0.0.1:$dns_port"
    else
        echo "# no dnsmasq: the demo domains are in no DNS, and the sandbox never asks"
        echo "# the internet, so the milter does not check that senders receive replies"
        echo "milter_reply_check = no"
    fi
}

write_dns() {
    cat >"$sb/etc/dnsmasq.conf" <<DNS
# written by scripts/sandbox.sh: the demo domains receive mail (MX), any
# other name is NXDOMAIN, answered here; nothing is forwarded
mx-host=$customer,mx.$customer,10
mx-host=$bounce_domain,mx.$customer,10
host-record=mx.$customer,127.0.0.1
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
    suppress="socketmap:unix:$sb/run/socketmap.sock:suppress"
    milter="unix:$sb/run/milter.sock"
    { base_main_cf relay relay.sandbox.test 127.0.0.1; cat <<MAIN
default_transport = error:5.3.5 no route in the sendguard sandbox
transport_maps = texthash:$d/transport
relay_domains = $bounce_domain
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access $suppress
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
MASTER
      base_master_cf; } >"$d/master.cf"
    cat >"$d/transport" <<TRANSPORT
# The bounce domain's MX is the inbound port; everything else is "the internet".
$bounce_domain  smtp:[127.0.0.1]:$inbound_port
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
    postfix -c "$2" start >/dev/null 2>"$sb/log/$1.start" ||
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

print_guide() {
    swaks="swaks -s 127.0.0.1 -p $submission_port -au $login -ap $password"
    cli="$bin/sendguard -c $sb/etc/sendguard.conf"
    cat <<GUIDE

The sandbox runs (state under $sb; a second run restarts it, keeping the store):
  submission  127.0.0.1:$submission_port  SASL login $login, password $password
  inbound     127.0.0.1:$inbound_port  mail for $bounce_domain -> sendguard-bounce
  sink        $sink_ip:$sink_port  "the internet": accepts $accepted_rcpt, 550 for $refused_rcpt

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
Where to look:
  Postfix relay log     $sb/log/relay.log   (the sink's: $sb/log/sink.log)
  sendguard log         $sb/log/sendguard.log   (milter, policyd, bounce decisions)
  DNS of the demo       $sb/etc/dnsmasq.conf, queries in $sb/log/dnsmasq.log
  envelopes at the sink $sb/sink-mail/envelopes.log   (from=<bounce+...@$bounce_domain>)
  suppressions          $cli suppress list
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
