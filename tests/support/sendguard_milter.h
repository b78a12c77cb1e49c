// sendguard_milter.h - the real sendguard-milter on a private configuration
//
// Protocol and Sendmail tests drive the binary this build made, as an MTA
// would, on a configuration of their own in /tmp/sg-milterd-XXXXXX:
//   sendguard.conf  config_directory, state_directory and run_directory
//                   there; milter_user = root (tests run as root and need
//                   no sendguard user), milter_socket_group empty;
//                   bounce_domains = bounces.*; milter_reply_check = no, milter_preflight = no
//                   unless opts.dns (no test asks the internet; one that
//                   asks for DNS names its server with dns_servers in
//                   extra); then the test's extra lines
//   senders         milter_sender_tables: kSenderTable below
//   networks        milter_network_tables: kNetworkTable below
//   verp.keys       verp_key_file: kVerpKey
//   lib/            the store (the send log of VERP tokens)
//   run/milter.sock milter_listen, unless opts.inet (127.0.0.1, a free port)
// It runs in the foreground (-f: its log lines on standard error, err()).
//
// The rules those files make, named so that tests read:
//   login alice@customer-a.example  customer-a.example (its own domain,
//                                   milter_login_owns_domain)
//   login bob@customer-b.example    customer-b.example
//   login carol (no domain)         customer-c.example, *.customer-c.example
//   network 192.0.2.0/24            customer-n.example
//   any other client without a login is refused
//
//   harness::SendguardMilter m;                 // or ({.inet = true, .extra = "milter_dry_run = yes\n"})
//   m.start();                                  // waits until it listens
//   harness::MilterClient c = m.client();       // MilterClient::open(m.spec())
//   m.running()  m.rss_kib()  m.err()  m.logged("action=verp", 5s)
//   c.transaction(harness::allowed_transaction())   // ends with an 'e' to VERP
//
// Errors: start() throws std::runtime_error with the program's output when
// it does not listen within 10s; rss_kib() returns 0 once it is gone.
// Thread safety: one instance per test, used from one thread (client() may
// be called from several).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "tests/support/milter_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace harness {

inline constexpr const char* kVerpKey = "0123456789abcdef0123456789abcdef";
inline constexpr const char* kSenderTable =
    "# login  senders it may use\n"
    "carol    customer-c.example, *.customer-c.example\n";
inline constexpr const char* kNetworkTable =
    "# network  senders its clients may use without a login\n"
    "192.0.2.0/24  customer-n.example\n";

struct SendguardMilterOptions {
    bool inet = false;     // inet:127.0.0.1:<free port> instead of a UNIX socket
    std::string extra{};   // more configuration lines; later lines win
    bool verbose = false;  // -v: a debug line per connection
    bool dns = false;      // milter_reply_check as configured (default yes)
};

class SendguardMilter {
public:
    explicit SendguardMilter(SendguardMilterOptions opts = {});
    SendguardMilter(const SendguardMilter&) = delete;
    SendguardMilter& operator=(const SendguardMilter&) = delete;

    void start();
    bool running();
    pid_t pid() const { return proc_ ? proc_->pid() : -1; }
    Process& process() { return *proc_; }

    // libmilter's form of the socket: "unix:/tmp/.../milter.sock" or
    // "inet:PORT@127.0.0.1" (MilterClient::open, Sendmail's S=).
    const std::string& spec() const noexcept { return spec_; }
    MilterClient client(MilterClientOptions opts = {}) const;

    const TempDir& dir() const noexcept { return dir_; }
    std::string config_path() const { return dir_.sub("sendguard.conf"); }
    std::string config_text() const { return config_; }

    // VmRSS of the process from /proc, in KiB; 0 when it is gone.
    long rss_kib() const;
    // Number of threads (/proc Threads:); 0 when it is gone.
    long threads() const;
    std::string err() const { return proc_ ? proc_->err() : std::string(); }
    // Waits until err() holds what.
    bool logged(const std::string& what, std::chrono::milliseconds within) const;

private:
    SendguardMilterOptions opts_;
    TempDir dir_;
    std::string config_, spec_, sock_;
    std::string ip_ = "127.0.0.1";
    uint16_t port_ = 0;
    std::optional<Process> proc_;
};

// A message the rules allow, as Postfix would send it: login
// alice@customer-a.example, MAIL FROM news@customer-a.example with RET=HDRS
// and ENVID=<queue_id>, one recipient dest@remote.example ({rcpt_mailer}
// smtp), From: News <news@customer-a.example>, {i} = queue_id at EOH and EOM.
MilterTransaction allowed_transaction(const std::string& queue_id = "QALLOW1");

}  // namespace harness
