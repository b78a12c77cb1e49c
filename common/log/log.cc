// log.cc - see log.h
#include "common/log/log.h"

#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>
#include <syslog.h>
#include <unistd.h>

namespace logging {
namespace {

Sink g_sink = Sink::Stderr;
bool g_verbose = false;
std::mutex g_mu;
const std::string kDefaultIdent = "sendguard";
const std::string* g_ident = &kDefaultIdent;            // see open()
std::vector<std::unique_ptr<const std::string>> g_idents;
std::string g_captured;

void emit(int prio, std::string_view prefix, std::string_view qid,
          std::string_view text) noexcept {
    try {
        std::string line;
        line.reserve(qid.size() + text.size() + 32);
        // The queue id may come from a command line or a protocol peer: a
        // newline in it would forge a log line.
        line.append(qid.empty() ? std::string("NOQUEUE") : printable(qid, 64));
        line.append(": ");
        line.append(prefix);
        line.append(text);
        switch (g_sink) {
        case Sink::Syslog:
            ::syslog(prio, "%s", line.c_str());
            break;
        case Sink::Stderr: {
            std::lock_guard lk(g_mu);
            std::string out = *g_ident + ": " + line + "\n";
            (void)!::write(2, out.data(), out.size());
            break;
        }
        case Sink::None: {
            std::lock_guard lk(g_mu);
            if (g_captured.size() > (1u << 20)) g_captured.clear();
            g_captured += line;
            g_captured += '\n';
            break;
        }
        }
    } catch (...) {
        // Logging never throws; an allocation failure loses the line.
    }
}

}  // namespace

// The facilities of syslog(3) a configuration may name, as Postfix's
// syslog_facility; kern is left out (user processes cannot log there).
struct Facility {
    std::string_view name;
    int code;
};
constexpr Facility kFacilities[] = {
    {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
    {"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},           {"lpr", LOG_LPR},
    {"mail", LOG_MAIL},     {"news", LOG_NEWS},         {"syslog", LOG_SYSLOG},
    {"user", LOG_USER},     {"uucp", LOG_UUCP},         {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},     {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},     {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7},
};

std::optional<int> facility_from_name(std::string_view name) noexcept {
    for (const auto& f : kFacilities)
        if (f.name == name) return f.code;
    return std::nullopt;
}

std::string facility_names() {
    std::string s;
    for (const auto& f : kFacilities) {
        if (!s.empty()) s += ", ";
        s.append(f.name);
    }
    return s;
}

void open(const char* ident, Sink sink, int facility) noexcept {
    std::lock_guard lk(g_mu);
    // openlog(3) keeps the pointer: hand it a copy we own, not the caller's
    // (often a configuration string that dies before the last log line).
    // Earlier idents stay alive (a few, one per reload at most), so a record
    // being formatted on another thread never reads a freed string.
    try {
        if (g_idents.size() >= 8) g_idents.erase(g_idents.begin());
        g_idents.push_back(std::make_unique<const std::string>(ident));
        g_ident = g_idents.back().get();
    } catch (...) {
    }
    if (g_sink == Sink::Syslog) ::closelog();
    g_sink = sink;
    if (sink == Sink::Syslog)
        ::openlog(g_ident->c_str(), LOG_PID | LOG_NDELAY, facility < 0 ? LOG_MAIL : facility);
}

std::string ident() noexcept {
    std::lock_guard lk(g_mu);
    try { return *g_ident; } catch (...) { return {}; }
}

void set_verbose(bool on) noexcept { g_verbose = on; }
bool verbose() noexcept { return g_verbose; }

void info(std::string_view q, std::string_view t) noexcept { emit(LOG_INFO, "", q, t); }
void warning(std::string_view q, std::string_view t) noexcept {
    emit(LOG_WARNING, "warning: ", q, t);
}
void debug(std::string_view q, std::string_view t) noexcept {
    if (g_verbose) emit(LOG_DEBUG, "", q, t);
}
void fatal(std::string_view t) noexcept {
    try {
        std::string line = "fatal: " + std::string(t);
        if (g_sink == Sink::Syslog) ::syslog(LOG_CRIT, "%s", line.c_str());
        std::string out;
        {
            std::lock_guard lk(g_mu);
            out = *g_ident + ": " + line + "\n";
        }
        (void)!::write(2, out.data(), out.size());
    } catch (...) {
    }
}

std::string printable(std::string_view s, size_t max) {
    std::string out;
    out.reserve(std::min(s.size(), max));
    for (unsigned char c : s) {
        if (out.size() >= max) { out += "..."; break; }
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    return out;
}

Line::Line(std::string_view component) : s_(component) { s_ += ": "; }

Line& Line::kv(std::string_view key, std::string_view value) {
    if (!first_) s_ += ", ";
    first_ = false;
    s_.append(key);
    s_ += '=';
    s_ += printable(value, 400);
    return *this;
}

Line& Line::kv(std::string_view key, long long value) {
    return kv(key, std::to_string(value));
}

std::string captured() noexcept {
    std::lock_guard lk(g_mu);
    try { return g_captured; } catch (...) { return {}; }
}
void clear_captured() noexcept {
    std::lock_guard lk(g_mu);
    g_captured.clear();
}

}  // namespace logging
