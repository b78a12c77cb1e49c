// postfix_harness.h - a throw-away Postfix instance for e2e tests
//
// PostfixInstance builds a private Postfix under /tmp/sg-postfix-XXXXXX:
//   config/  main.cf, master.cf, transport (texthash), sasl/, capture scripts
//   queue/   queue_directory (root-owned; `postfix start` runs post-install
//            create-missing, which makes the postfix/postdrop-owned subdirs)
//   data/    data_directory (owned by postfix: master.lock lives there)
//   maillog  maillog_file, written by postlogd - no syslog needed
// and runs Debian's /usr/sbin/postfix against it with `postfix -c config`.
// Files the harness writes are backdated: Postfix re-reads a file whose
// mtime is under ~2s old in 300ms naps, which made `postfix start` 3s slow.
// Every master.cf service runs unchrooted (chroot column "n"), so absolute
// paths (sockets, sasldb, pipe commands) work as written; only with
// opts.smtpd_chroot does smtpd run chrooted in queue/, as Debian's
// master.cf has it (on loopback with the harness defaults it needs no
// files from /etc inside the chroot).
//
// Defaults (main.cf): compatibility_level 3.6; smtpd on 127.0.0.1:<free
// port> only; inet_protocols ipv4; myhostname mx.sendguard.test;
// mydestination, alias and local recipient maps empty (nothing is delivered
// locally); mynetworks 127.0.0.0/8; queue_run_delay 1s, minimal/maximal
// backoff 1s/2s, smtp_connect_timeout 2s, both queue lifetimes 1h (set 0 to
// bounce at the first deferral).  Mail goes to opts.relayhost (e.g. a
// SmtpSink's nexthop()); with no relayhost and no namespace the
// default_transport is error: - the instance never touches real DNS, and
// smtpd refuses unrouted recipients with 550 (route them with
// add_transport(domain, "discard:" / a sink / a pipe)).  Inside
// a NetNs (opts.ns) default delivery uses DNS, served by a DnsServer there.
//
// Configure before or after start(): set()/append() main.cf parameters,
// add_master_line(), add_milter(), add_policy_service(), add_transport(),
// add_pipe_transport(), add_capture_transport(), enable_sasl() +
// add_sasl_user().  After start() each change rewrites the files and runs
// `postfix reload` (waits for the master's "reload" log line).
//
//   harness::skip_if(harness::PostfixInstance::unavailable());
//   harness::SmtpSink sink;                       // 127.0.0.2:<port>, accept
//   harness::PostfixInstance pf({.relayhost = sink.nexthop()});
//   pf.start();
//   auto t = pf.send({.mail_from = "a@sender.test", .rcpt_to = {"b@x.test"},
//                     .data = "Subject: hi\n\nbody\n"});
//   auto d = pf.wait_for_delivery(t.queue_id(), 10s);
//   BOOST_TEST(d->status == "sent", d->line);
//
// With opts.trust_config_directory the master runs in a mount namespace of
// its own (see PostfixOptions); commands the test runs (postqueue, postfix
// reload) run as root outside it, where no such check applies.
//
// Teardown (destructor, or stop()): `postfix -c config stop`; if the master
// is still there after 5s, SIGKILL to its process group; then any process
// still working under the instance's tree is SIGKILLed and reported, and the
// tree is removed (kept with SG_E2E_KEEP=1).  When the current Boost test
// case has failed, the destructor first prints the tail of the mail log.
//
// Errors: setup and command failures (postfix start, saslpasswd2, reload)
// throw std::runtime_error with the command's output and the log tail;
// waits return values (std::optional / bool) - a time-out is the caller's
// assertion to make.
// Thread safety: one instance per test, used from one thread.
#pragma once

#include "tests/support/cleanup.h"
#include "tests/support/postfix_report.h"
#include "tests/support/process.h"
#include "tests/support/smtp_client.h"
#include "tests/support/temp_dir.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace harness {

class NetNs;

struct PostfixOptions {
    std::string myhostname = "mx.sendguard.test";
    std::string relayhost{};       // "[127.0.0.2]:2525"; "" : see header comment
    const NetNs* ns = nullptr;   // run the whole instance inside this namespace
    uint16_t smtpd_port = 0;     // 0: a free port on 127.0.0.1
    int maximal_queue_lifetime_s = 3600;
    int bounce_queue_lifetime_s = 3600;
    bool smtpd_chroot = false;   // smtpd's chroot column "y" (queue_directory)
    // Run the instance in a mount namespace whose /etc/postfix is a copy
    // with a main.cf listing config/ in alternate_config_directories: a
    // set-gid Postfix program (postlog, postdrop) started by the instance's
    // processes accepts only such a MAIL_CONFIG, and the machine's own
    // /etc/postfix stays untouched.
    bool trust_config_directory = false;
};

// A pipe(8) service: "<name> unix - n n - <maxproc> pipe flags=.. user=.. argv=..".
struct PipeTransport {
    std::string name{};                 // master.cf service name
    std::string user = "nobody";      // user= (user or user:group)
    std::vector<std::string> argv{};    // argv=; args with whitespace get { }
    std::string flags{};                // flags=, e.g. "DRhu"
    std::vector<std::string> attributes{};  // more, e.g. "null_sender=", "size=1000000"
    int recipient_limit = 1;          // <name>_destination_recipient_limit
    std::string maxproc = "-";
};

// One message caught by add_capture_transport().
struct CapturedMessage {
    std::string file{};
    std::string sender{};                   // "" for the null sender
    std::vector<std::string> recipients{};
    std::string content{};                  // header + body as delivered
};

class PostfixInstance {
public:
    // Why Postfix cannot be used here (missing binaries, users, not root).
    static std::optional<std::string> unavailable();

    explicit PostfixInstance(PostfixOptions opts = {});
    ~PostfixInstance();
    PostfixInstance(const PostfixInstance&) = delete;
    PostfixInstance& operator=(const PostfixInstance&) = delete;

    // ---- configuration (postfix_config.cc) ----
    void set(const std::string& name, const std::string& value);
    std::string get(const std::string& name) const;  // as set by the harness/test
    // Appends to a list parameter ("a, b"), creating it if unset.
    void append(const std::string& name, const std::string& item);
    void add_master_line(const std::string& entry);
    // endpoint as Postfix writes it: "unix:/tmp/x/milter.sock", "inet:127.0.0.1:8891".
    // smtpd/cleanup run as user postfix: a UNIX socket must be connectable
    // by that user (mode 0666 or owned by postfix) in searchable directories.
    // In a NetNs, inet endpoints are the namespace's loopback.
    void add_milter(const std::string& endpoint, bool smtpd = true, bool non_smtpd = true);
    // Appends "check_policy_service <endpoint>" to the restriction list
    // (use "smtpd_end_of_data_restrictions" for the END-OF-MESSAGE state).
    void add_policy_service(const std::string& endpoint,
                            const std::string& restriction_list = "smtpd_recipient_restrictions");
    // transport_maps entry, e.g. ("bounces.sendguard.test", sink.transport()).
    void add_transport(const std::string& key, const std::string& value);
    // Throws std::invalid_argument when argv[0] is an absolute path that
    // user (unless root) cannot reach: a directory without o+x on the way.
    void add_pipe_transport(const PipeTransport& t);
    // A pipe transport (user nobody) storing each message with its envelope
    // in a directory; read them back with captured(name).
    void add_capture_transport(const std::string& name);
    std::vector<CapturedMessage> captured(const std::string& name) const;
    // smtpd AUTH via Cyrus SASL sasldb (PLAIN, LOGIN), users in realm:
    // clients log in as "user"; smtpd_sasl_local_domain makes the logged
    // sasl_username "user@realm".  The sasldb lives outside config/.
    void enable_sasl(const std::string& realm = "sendguard.test");
    void add_sasl_user(const std::string& user, const std::string& password);
    // A user of another realm: the client logs in as "user@realm" (Cyrus
    // appends no realm to a name that has one), and that is the
    // sasl_username / {auth_authen} - one login per hosting customer.
    void add_sasl_user(const std::string& user, const std::string& password, const std::string& realm);

    // ---- lifecycle ----
    void start();
    void stop() noexcept;  // idempotent
    void reload();
    bool running() const noexcept { return started_; }
    pid_t master_pid() const noexcept { return master_pid_; }

    const std::string& root() const noexcept { return dir_.path(); }
    const std::string& config_dir() const noexcept { return config_dir_; }
    const std::string& queue_dir() const noexcept { return queue_dir_; }
    const std::string& log_path() const noexcept { return log_path_; }
    const std::string& smtpd_ip() const noexcept { return smtpd_ip_; }
    uint16_t smtpd_port() const noexcept { return opts_.smtpd_port; }
    const NetNs* ns() const noexcept { return opts_.ns; }

    // ---- mail in, queue, commands ----
    SmtpTranscript send(const SmtpEnvelope& env) const;   // via our smtpd
    SmtpClient connect() const;                            // raw session
    RunResult sendmail(const std::string& from, const std::vector<std::string>& rcpts,
                       const std::string& message) const;  // sendmail -C
    RunResult command(std::vector<std::string> argv) const;  // argv run in our ns
    RunResult postconf(std::vector<std::string> args) const;  // postconf -c config ...
    void flush() const;                                        // postqueue -f
    std::vector<QueueEntry> queue() const;                     // postqueue -j
    bool wait_queue_empty(Millis timeout) const;

    // ---- the mail log ----
    std::string log() const;
    size_t log_mark() const;  // current size: pass as "from" to see only newer lines
    std::vector<std::string> log_lines(size_t from = 0) const;
    std::string log_tail(size_t lines = 40) const;
    std::optional<std::string> wait_for_log(const std::function<bool(std::string_view)>& pred,
                                            Millis timeout, size_t from = 0) const;
    std::optional<std::string> wait_for_log(std::string_view substring, Millis timeout,
                                            size_t from = 0) const;
    // First delivery status line for queue_id (and recipient, when given).
    std::optional<Delivery> wait_for_delivery(std::string_view queue_id, Millis timeout,
                                              std::string_view to = {}, size_t from = 0) const;
    std::vector<Delivery> deliveries(size_t from = 0) const;
    // Queue id of the DSN Postfix made for queue_id: "QID: sender non-delivery
    // notification: NEWID" (kind "non-delivery", "delay", "delivery").
    std::optional<std::string> wait_for_notification(std::string_view queue_id, Millis timeout,
                                                     std::string_view kind = "non-delivery") const;

private:
    void put(const std::string& name, const std::string& value);  // set() without reload
    void put_append(const std::string& name, const std::string& item);
    void write_config() const;
    std::string render_main_cf() const;
    std::string render_master_cf() const;
    void apply_if_running();
    std::vector<std::string> wrap(std::vector<std::string> argv) const;
    std::vector<std::string> in_trusting_namespace(std::vector<std::string> argv) const;
    [[noreturn]] void fail(const std::string& what) const;

    PostfixOptions opts_;
    TempDir dir_;
    std::string config_dir_, queue_dir_, data_dir_, log_path_;
    std::string smtpd_ip_ = "127.0.0.1";
    std::vector<std::pair<std::string, std::string>> params_;
    std::vector<std::string> master_extra_;
    std::vector<std::pair<std::string, std::string>> transports_;
    std::vector<std::string> captures_;
    std::string sasl_realm_;
    bool started_ = false;
    pid_t master_pid_ = -1;
    CleanupGuard guard_;
};

}  // namespace harness
