// log.h - one line per decision, Postfix style
//
// logging::open(ident, sink, facility) selects syslog or stderr; ident is
// the program name in each record ("sendguard/policyd", as Postfix writes
// "postfix/smtpd"), facility a LOG_* code (LOG_MAIL when not given).
// facility_from_name("local0") maps a syslog_facility value to its code
// (nullopt for a name syslog(3) does not know); facility_names() lists the
// accepted names for error messages.
// info()/warning()/debug() write "QUEUEID: component: key=value, ..." lines;
// the caller formats the text, usually with logging::Line:
//
//     logging::info(qid, logging::Line("bounce").kv("rcpt", "<" + a + ">")
//                                               .kv("status", "5.1.1"));
//
// Untrusted text goes through printable(): non-printable bytes become '?',
// and the length is capped (Postfix printable(3)). All functions are noexcept
// and thread safe (syslog(3) is; the stderr sink writes one line per call),
// except that open() and set_verbose() are meant for start-up and reload,
// on the thread that logs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace logging {

enum class Sink { Syslog, Stderr, None };

// Reopening (a reload) with another ident, sink or facility takes effect
// with the next record. facility < 0 means LOG_MAIL.
void open(const char* ident, Sink sink, int facility = -1) noexcept;
std::optional<int> facility_from_name(std::string_view name) noexcept;
std::string facility_names();
// The ident given to the last open().
std::string ident() noexcept;

void set_verbose(bool on) noexcept;
bool verbose() noexcept;

// queue_id may be empty, which logs as NOQUEUE.
void info(std::string_view queue_id, std::string_view text) noexcept;
void warning(std::string_view queue_id, std::string_view text) noexcept;
void debug(std::string_view queue_id, std::string_view text) noexcept;
// Only main() logs fatal errors, then returns its exit status.
void fatal(std::string_view text) noexcept;

// Replaces control and non-ASCII bytes with '?' and caps the length.
std::string printable(std::string_view s, size_t max = 200);

// Builds "component: k1=v1, k2=v2"; values are passed through printable().
class Line {
public:
    explicit Line(std::string_view component);
    Line& kv(std::string_view key, std::string_view value);
    Line& kv(std::string_view key, long long value);
    const std::string& str() const noexcept { return s_; }
    operator std::string_view() const noexcept { return s_; }

private:
    std::string s_;
    bool first_ = true;
};

// The last lines written, for tests (kept only when the sink is None).
std::string captured() noexcept;
void clear_captured() noexcept;

}  // namespace logging
