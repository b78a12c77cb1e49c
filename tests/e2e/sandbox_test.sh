#!/bin/sh
# sandbox_test.sh - e2e.sandbox: the README's sandbox (scripts/sandbox.sh)
# started for real in a temporary directory on ports of its own, then case 5
# of its guide: mail to someone@webde.example, which the sink answers with
# web.de's "451 4.7.1 Rate limit reached", puts the provider webde into
# backoff in `sendguard status` (level 1, the reply shown), and the next
# message to webde.example leaves through a throttled transport
# (postfix/webde-slow or webde-crawl) and is delivered. Then it stops the
# sandbox and checks that nothing it started is left.
#
# Needs root, swaks and unshare -m; without them it exits 77 (skipped),
# except with CI=true, where that is a failure. SENDGUARD_BIN_DIR names the
# build directory (ctest sets it); its bin/ holds the programs.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SENDGUARD_BIN_DIR:?SENDGUARD_BIN_DIR names the build directory}/bin

passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }
missing() {
    if [ "${CI:-}" = true ]; then echo "FAILED: $* (CI=true: a missing prerequisite fails)"; exit 1; fi
    echo "skipped: $*"
    exit 77
}

[ "$(id -u)" = 0 ] || missing "the sandbox runs Postfix and needs root"
command -v swaks >/dev/null || missing "no swaks (scripts/deps.sh installs it)"
unshare -m --propagation private true 2>/dev/null || missing "no mount namespace (unshare -m)"
for p in sendguard sendguard-bounce sendguard-policyd sendguard-milter; do
    [ -x "$bin/$p" ] || { echo "FAILED: no $bin/$p: build it first"; exit 1; }
done

dir=$(mktemp -d /tmp/sg-sandbox-test.XXXXXX)
chmod 0755 "$dir"  # the Postfix and sendguard users reach the sockets below it
sb="$dir/sandbox"
export SENDGUARD_SANDBOX_DIR="$sb"
# Ports of its own, so that it runs beside a developer's sandbox.
base=$((20000 + ($$ % 2000) * 4))
export SENDGUARD_SANDBOX_SUBMISSION_PORT=$base
export SENDGUARD_SANDBOX_INBOUND_PORT=$((base + 1))
export SENDGUARD_SANDBOX_SINK_PORT=$((base + 2))
export SENDGUARD_SANDBOX_DNS_PORT=$((base + 3))
cleanup() {
    "$top/scripts/sandbox.sh" stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

show_logs() {
    for f in "$sb/log/relay.log" "$sb/log/sendguard.log" "$sb/log/sink.log"; do
        echo "--- $f (last 20 lines)"
        tail -n 20 "$f" 2>/dev/null || true
    done
}

start_out="$dir/start.out"
if ! "$top/scripts/sandbox.sh" start "$bin" >"$start_out" 2>&1; then
    cat "$start_out"
    echo "FAILED: scripts/sandbox.sh start"
    exit 1
fi
ok "sandbox started"

cli() { "$bin/sendguard" -c "$sb/etc/sendguard.conf" "$@"; }
send() {  # recipient: over the submission port as the demo login
    swaks -s 127.0.0.1 -p "$SENDGUARD_SANDBOX_SUBMISSION_PORT" -au demo@customer.example \
        -ap "$(cat "$sb/etc/demo.password")" -f news@customer.example -t "$1" \
        --timeout 20 >"$dir/swaks.out" 2>&1 && grep -q '^<- *250 .*queued as' "$dir/swaks.out"
}
# The webde row of `sendguard status`: PROVIDER CONFIGURED ALLOWED LEVEL ...
webde_level() { cli status 2>/dev/null | awk '$1 == "webde" { print $4; exit }'; }
wait_until() {  # seconds test...
    n=$1; shift
    i=0
    while [ $i -lt $((n * 2)) ]; do
        if "$@"; then return 0; fi
        sleep 0.5
        i=$((i + 1))
    done
    return 1
}
in_backoff() { level=$(webde_level); [ -n "$level" ] && [ "$level" -ge 1 ]; }
delivered_throttled() {
    grep -Eq "postfix/webde-(slow|crawl)/smtp\[[0-9]+\]: [0-9A-F]+: to=<friend@webde.example>, .*status=sent" \
        "$sb/log/relay.log"
}

if [ -n "$(webde_level)" ]; then fail "webde is in sendguard status before any mail"; fi

if send someone@webde.example; then ok "the relay accepted mail for someone@webde.example"; else
    cat "$dir/swaks.out"; fail "the relay did not accept mail for someone@webde.example"
fi
start=$(date +%s)
if wait_until 60 in_backoff; then
    ok "webde in backoff (level $(webde_level)) $(($(date +%s) - start))s after the mail"
else
    cli status || true
    show_logs
    fail "webde not in backoff in sendguard status within 60s"
fi
if cli status | grep -q "^  webde (.*): 451 4.7.1 .*Rate limit reached. Please try again later"; then
    ok "sendguard status shows the 451 reply"
else
    cli status || true
    fail "sendguard status does not show the 451 Rate limit reached reply"
fi

if send friend@webde.example; then ok "the relay accepted mail for friend@webde.example"; else
    cat "$dir/swaks.out"; fail "the relay did not accept mail for friend@webde.example"
fi
if wait_until 30 delivered_throttled; then
    ok "friend@webde.example delivered through the throttled transport"
else
    grep webde "$sb/log/relay.log" || true
    fail "friend@webde.example not delivered through webde-slow or webde-crawl within 30s"
fi

# Everything the sandbox started is stopped by its pid files.
pids=""
for f in "$sb/run/policyd.pid" "$sb/run/milter.pid" "$sb/run/dnsmasq.pid" \
    "$sb/relay-spool/pid/master.pid" "$sb/sink-spool/pid/master.pid"; do
    [ -f "$f" ] && pids="$pids $(tr -d ' \n' <"$f")"
done
"$top/scripts/sandbox.sh" stop >/dev/null
left=""
for p in $pids; do if kill -0 "$p" 2>/dev/null; then left="$left $p"; fi; done
if [ -z "$pids" ]; then fail "no pid files to check the stop with"
elif [ -n "$left" ]; then fail "still running after stop:$left"
else ok "stop ended every process the sandbox started"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
