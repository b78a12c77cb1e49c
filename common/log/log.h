// log.h - one line per decision, Postfix style
//
// logging::open(ident, to_stderr) selects syslog (facility mail) or stderr.
// info()/warning()/debug() write "QUEUEID: component: key=value, ..." lines;
// the caller formats the text, usually with logging::Line:
//
//     logging::info(qid, logging::Line("bounce").kv("rcpt", "<" + a + ">")
//                                               .kv("status", "5.1.1"));
//
// Untrusted text goes through printable(): non-printable bytes become '?',
// and the length is capped (Postfix printable(3)). All functions are noexcept
// and thread safe (syslog(3) is; the stderr sink writes one line per call).
#pragma once

#include <string>
#include <string_view>

namespace logging {

enum class Sink { Syslog, Stderr, None };

void open(const char* ident, Sink sink) noexcept;
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
