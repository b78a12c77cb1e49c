// sendmail_harness.h - a throw-away Sendmail 8.17 instance for milter e2e tests
//
// Debian's sendmail-bin conflicts with postfix, so it is never installed:
// scripts/deps.sh unpacks its packages into a tree (the build's
// SENDGUARD_SENDMAIL_TREE, default /var/cache/sendguard-tests/sendmail/tree;
// the environment variable of that name overrides it) and SendmailInstance
// runs the binary from there.  Each instance lives in /tmp/sg-sendmail-XXXXXX:
//   test.mc, test.cf   the configuration, generated with the tree's m4 and cf.m4
//   etc/               MAIL_SETTINGS_DIR (empty aliases), hosts
//   queue/             QueueDirectory (qf/df files; see queued_sender())
//   sasl/              Sendmail.conf, the SASL plugins and sasldb2 (enable_sasl)
//   dev/               upper layer of /dev inside the mount namespace: log -> syslog.sock
//   maillog            Sendmail's syslog lines, received on syslog.sock
//   traffic            the SMTP traffic log (sendmail -X), both directions
// and is started as
//   unshare -m -u sh -c '<mounts>; hostname HOST; exec sendmail.test -bD -C test.cf -X traffic'
// in the foreground: -bD keeps the daemon our child, a UTS namespace gives it
// an FQDN hostname (with an unqualified one Sendmail sleeps 60s at start),
// and a mount namespace lets it see, without touching the host's files,
//   - /etc/hosts naming 127.0.0.1 localhost and HOST (no DNS at start-up),
//   - /dev/log as a link to syslog.sock (an overlay on /dev), so its log
//     reaches maillog without a syslog daemon,
//   - with SASL, the private sasl/ over Cyrus's plugin directory (Cyrus reads
//     Sendmail.conf from there) and over /etc/sasl2 and /etc/sasl when present.
// The libraries the tree brings (libwrap0, liblockfile1) come through
// LD_LIBRARY_PATH, which is why the tree's binary is a copy without set-gid.
//
// Defaults (.mc): OSTYPE(linux); the daemon "MTA" on 127.0.0.1:<free port>
// only (FEATURE(no_default_msa): no 587); hostname mta.sendguard.test;
// nocanonify and accept_unresolvable_domains (no DNS for addresses); no
// ident lookups; LogLevel and Milter.LogLevel 14; relaying for 127.0.0.1,
// Sendmail's own default; no AUTH unless enable_sasl().  Delivery: with
// opts.smart_host (e.g. a SmtpSink's nexthop()), esmtp to that host and
// port in background mode, so the sink sees the envelope after the milters'
// changes; without one, delivery mode queueonly (no queue runner is
// started): accepted mail stays in queue/ and queued_sender() reads the
// envelope sender from its qf file.  (Mode deferred would do too, but makes
// cf.m4 warn that it disables the anti-spam rulesets.)
//
// Configure before start(): add_milter(), enable_sasl(), add_mc_line();
// add_sasl_user() works at any time (Cyrus opens the sasldb per login).
//
//   harness::require_sendmail();                  // skip (77) / fail under CI
//   harness::TestMilter m({"-m", "{auth_authen}"});
//   harness::SmtpSink sink;
//   harness::SendmailInstance sm({.smart_host = sink.nexthop()});
//   sm.add_milter("sg", m.spec());
//   sm.enable_sasl();  sm.add_sasl_user("alice", "secret");
//   sm.start();
//   auto t = sm.send({.auth_plain = {{"alice", "secret"}}, .mail_from = "a@x.test",
//                     .rcpt_to = {"b@y.test"}, .data = "Subject: hi\n\nbody\n"});
//   BOOST_TEST(t.accepted(), t.str());   sendmail_queue_id(t)
//
// Teardown (destructor, or stop()): SIGTERM to the daemon's process group,
// SIGKILL after 2s; then any process still working under the instance's
// tree (delivery children live in queue/) is SIGKILLed and reported, and
// the tree is removed (kept with SG_E2E_KEEP=1).  When the current Boost
// test case has failed, the destructor first prints the tails of maillog
// and traffic.
//
// Errors: setup failures (m4 output on stderr, saslpasswd2, a daemon that
// does not listen within 10s) throw std::runtime_error with the command's output and the
// log tail; configuration after start() throws std::logic_error; waits
// return values (std::optional / bool).
// Thread safety: one instance per test, used from one thread (a private
// thread receives the syslog datagrams).
#pragma once

#include "tests/support/cleanup.h"
#include "tests/support/process.h"
#include "tests/support/smtp_client.h"
#include "tests/support/temp_dir.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

struct SendmailOptions {
    std::string hostname = "mta.sendguard.test";  // must hold a dot (see above)
    std::string smart_host{};  // "[127.0.0.2]:2525"; "" : mail stays queued
    uint16_t port = 0;         // 0: a free port on 127.0.0.1
};

class SendmailInstance {
public:
    // Where the unpacked Debian Sendmail tree is expected.
    static std::string tree();
    // What is missing to run Sendmail here (the tree, root, unshare,
    // saslpasswd2), or nullopt.
    static std::optional<std::string> missing();

    explicit SendmailInstance(SendmailOptions opts = {});
    ~SendmailInstance();
    SendmailInstance(const SendmailInstance&) = delete;
    SendmailInstance& operator=(const SendmailInstance&) = delete;

    // ---- configuration, before start() ----
    // INPUT_MAIL_FILTER(name, S=socket, F=flags, T=timeouts).  socket as
    // libmilter names it: "unix:/tmp/x/milter.sock", "inet:8891@127.0.0.1".
    // flags "T": tempfail when the milter is unavailable; "R": reject; "":
    // carry on without it.  Sendmail runs as root here: any socket works.
    void add_milter(const std::string& name, const std::string& socket,
                    const std::string& flags = "T",
                    const std::string& timeouts = "C:5s;S:10s;R:10s;E:30s");
    // SMTP AUTH PLAIN and LOGIN (TRUST_AUTH_MECH) against a private sasldb;
    // users are created in the realm of the hostname, and log in as "user".
    void enable_sasl();
    void add_sasl_user(const std::string& login, const std::string& password);
    // One more .mc line, e.g. "define(`confMILTER_MACROS_EOM', `{msg_id}, i')dnl".
    void add_mc_line(const std::string& line);

    // ---- lifecycle ----
    void start();
    void stop() noexcept;  // idempotent
    bool running() const noexcept { return started_; }
    pid_t pid() const noexcept;

    const std::string& root() const noexcept { return dir_.path(); }
    const std::string& cf_path() const noexcept { return cf_path_; }
    const std::string& queue_dir() const noexcept { return queue_dir_; }
    const std::string& log_path() const noexcept { return log_path_; }
    const std::string& hostname() const noexcept { return opts_.hostname; }
    const std::string& ip() const noexcept { return ip_; }
    uint16_t port() const noexcept { return opts_.port; }

    // ---- mail in, queue ----
    SmtpTranscript send(const SmtpEnvelope& env) const;
    SmtpClient connect() const;
    // Queue ids of the qf files in queue/.
    std::vector<std::string> queue() const;
    // The envelope sender of a queued message (qf "S" line, without <>;
    // "" for the null sender), nullopt when there is no such qf file.
    std::optional<std::string> queued_sender(const std::string& queue_id) const;

    // ---- logs ----
    std::string log() const;
    size_t log_mark() const;  // pass as "from" to see only newer lines
    std::vector<std::string> log_lines(size_t from = 0) const;
    std::optional<std::string> wait_for_log(std::string_view substring, Millis timeout,
                                            size_t from = 0) const;
    std::string log_tail(size_t lines = 40) const;
    std::string traffic_tail(size_t lines = 40) const;

private:
    class Syslog;

    std::string render_mc() const;
    void write_sasl_conf() const;
    std::vector<std::string> launch_argv() const;
    void check_not_started(const char* what) const;
    [[noreturn]] void fail(const std::string& what) const;

    SendmailOptions opts_;
    TempDir dir_;
    std::string ip_ = "127.0.0.1";
    std::string cf_path_, queue_dir_, log_path_, traffic_path_, sasl_dir_, sasldb_;
    std::vector<std::string> mc_lines_, milters_;
    bool sasl_ = false;
    bool started_ = false;
    std::unique_ptr<Syslog> syslog_;
    std::unique_ptr<Process> proc_;
    CleanupGuard guard_;
};

// The queue id in Sendmail's reply to the message ("250 2.0.0 6B1NQLvD005038
// Message accepted for delivery"), "" when the message was not accepted.
std::string sendmail_queue_id(const SmtpTranscript& t);

// Skips the test (exit 77) when SendmailInstance::missing() says why it
// cannot run; under CI=true that fails instead (require.h).
void require_sendmail();

}  // namespace harness
