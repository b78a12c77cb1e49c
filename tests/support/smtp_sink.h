// smtp_sink.h - Postfix's smtp-sink(1) as a switchable delivery destination
//
// SmtpSink runs /usr/sbin/smtp-sink on ip:port (default 127.0.0.2 and a free
// port; Linux routes all of 127.0.0.0/8 to lo) as the next hop of a test
// Postfix.  Its mode decides what Postfix's smtp(8) client experiences:
//
//   SinkMode::Accept    250 to everything                 -> status=sent
//   SinkMode::TempFail  soft_reply to the fail commands   -> status=deferred
//                       (smtp-sink -r, -b "450 4.2.0 ...")
//   SinkMode::HardFail  hard_reply to the fail commands   -> status=bounced
//                       (smtp-sink -f, -B "550 5.1.1 ...")
//   SinkMode::Disconnect421  421 and hang up (smtp-sink -Q) -> deferred
//
// The fail commands default to RCPT; set SinkOptions::fail_commands to e.g.
// "MAIL" or "DATA,." to fail elsewhere.  set_mode() restarts the sink on the
// same address and port, so a test can defer a message, switch to Accept,
// flush the queue and see it delivered.
//
// With dump on (default), every transaction is written by smtp-sink -d into
// its own file in dump_dir(); messages() parses them: smtp-sink prepends
// X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args (the MAIL FROM
// arguments, "<sender> SIZE=..."), one X-Rcpt-Args per RCPT and a
// three-line Received: header, followed by the message as received.
// messages() and wait_for_messages() see only complete dumps: smtp-sink
// writes a dump while its transaction goes on, and a file it still has open
// is left out.
//
// smtp-sink refuses to run as root without -u; the harness passes
// "-u nobody" and makes the dump directory writable by nobody.  Each sink
// has its own /tmp/sg-sink-XXXXXX (dump/ and smtp-sink.log).
//
// run_smtp_source() drives bulk load with smtp-source(1): N messages over S
// parallel sessions into a Postfix smtpd, returning when all are sent.
//
// Errors: a sink that does not come up throws std::runtime_error with its
// stderr; parse problems of a dump file give a SinkMessage with what could
// be read.
// Thread safety: one SmtpSink per test thread.
#pragma once

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace harness {

class NetNs;

enum class SinkMode { Accept, TempFail, HardFail, Disconnect421 };
const char* to_string(SinkMode m) noexcept;
std::ostream& operator<<(std::ostream& os, SinkMode m);  // for BOOST_TEST

struct SinkOptions {
    std::string ip = "127.0.0.2";
    uint16_t port = 0;                  // 0: pick a free one
    SinkMode mode = SinkMode::Accept;
    std::string fail_commands = "RCPT";
    std::string soft_reply = "450 4.2.0 sink: mailbox busy, try later";
    std::string hard_reply = "550 5.1.1 sink: no such user here";
    bool dump = true;
    std::string hostname = "sink.sendguard.test";
    const NetNs* ns = nullptr;          // run inside this namespace
    std::vector<std::string> extra_args{};  // more smtp-sink options
};

struct SinkMessage {
    std::string file{};
    std::string client_addr{}, helo{}, mail_args{};
    std::vector<std::string> rcpt_args{};
    std::string content;  // header + body as received (after smtp-sink's Received:)

    std::string mail_from() const;           // address inside <> of mail_args
    std::vector<std::string> rcpt_to() const;
    // First header field with this name (case-insensitive), unfolded; "" if none.
    std::string header(std::string_view name) const;
};

class SmtpSink {
public:
    // Starts the sink; its dump and log live in a TempDir of its own.
    explicit SmtpSink(SinkOptions opts = {});
    ~SmtpSink();
    SmtpSink(const SmtpSink&) = delete;
    SmtpSink& operator=(const SmtpSink&) = delete;

    void set_mode(SinkMode mode);
    SinkMode mode() const noexcept { return opts_.mode; }
    void stop();
    bool running();

    const std::string& ip() const noexcept { return opts_.ip; }
    uint16_t port() const noexcept { return opts_.port; }
    // "[127.0.0.2]:2525" - a Postfix next hop that needs no DNS.
    std::string nexthop() const;
    // "smtp:[127.0.0.2]:2525" - a transport_maps value.
    std::string transport() const { return "smtp:" + nexthop(); }

    const std::string& dump_dir() const noexcept { return dump_dir_; }
    std::vector<SinkMessage> messages() const;  // complete dumps, sorted by file mtime
    bool wait_for_messages(size_t n, Millis timeout) const;
    void clear_messages() const;
    std::string log() const;  // smtp-sink's stderr

private:
    void start();

    SinkOptions opts_;
    TempDir dir_;
    std::string dump_dir_, log_path_;
    std::unique_ptr<Process> proc_;
    std::set<std::string> dumps_in_progress() const;
};

SinkMessage parse_sink_dump(const std::string& text);

struct SourceOptions {
    std::string ip = "127.0.0.1";
    uint16_t port = 25;
    int messages = 1;          // -m
    int sessions = 1;          // -s
    int recipients = 1;        // -r
    int size = 0;              // -l payload bytes; 0: smtp-source default
    std::string from = "load@sender.sendguard.test";  // -f
    std::string to = "rcpt@example.net";               // -t
    std::string helo = "load.sendguard.test";          // -M
    const NetNs* ns = nullptr;
    std::vector<std::string> extra_args{};
    Millis timeout = Millis(120000);
};
RunResult run_smtp_source(const SourceOptions& o);

}  // namespace harness
