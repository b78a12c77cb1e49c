// log.h - one line per decision, Postfix style
//
// logging::open(ident, target, facility) chooses where records go; ident is
// the program name in each record ("sendguard/policyd", as Postfix writes
// "postfix/smtpd"), facility a LOG_* code (LOG_MAIL when not given).
//
//   Target                 record                                     sent to
//   syslog  (path /dev/log) <22>Dec  1 21:00:34 ident[pid]: text      datagram (RFC 3164)
//   postlog (path a socket) Dec 01 21:00:34 host ident[pid]: text     datagram
//   file    (path a file)   Dec 01 21:00:34 host ident[pid]: text\n   append
//   stderr                  ident: text\n                             fd 2
//   none                    text\n                                    captured() (tests)
//
// The postlog record is what Postfix's own programs send to postlogd(8)
// ($queue_directory/public/postlog, when maillog_file is set), and the file
// record is a maillog_file line, so sendguard's lines sit beside Postfix's.
// The syslog writer is our own rather than syslog(3): its socket can be
// pointed elsewhere (tests, a chroot) and a missing syslog daemon is seen.
// When a record cannot be sent (no syslog daemon, postlogd down) it goes to
// standard error instead of vanishing; check() tells at start-up.
//
// A postlog target that refuses this user (public/ is open to postfix and
// postdrop only: sendguard-bounce under pipe(8)) hands its lines to
// Postfix's postlog(1) command instead (postlog_pipe.h): one child started
// at the first record, `postlog -p info -t IDENT`, fed one line per record,
// which needs postlog set-group-id postdrop as Postfix installs it. The
// lines keep their "warning: " prefix and get postlog's stamp and pid. When
// postlog cannot run or fails, the program says so once on standard error
// ("warning: cannot log to postlog:PATH: ...", unless start-up did already),
// where the records then go; without the stderr fallback (sendguard-bounce)
// only when standard error is a terminal, and lost_records() tells which
// records did not get there.
//
// Two kinds of line:
//   info(text)               a plain line: "text" (start-up, reload, lookups,
//                            audit - anything not about one queued message)
//   info(q, text)            a message line: "Q1: text" (q a std::string or
//                            QueueId(string_view)); an empty q is
//                            "NOQUEUE: text", as Postfix writes a message
//                            that has no queue id (yet)
// warning() prefixes "warning: " to the text, debug() logs only when
// set_verbose(true). The caller formats the text, usually with logging::Line:
//
//     logging::info(qid, logging::Line("bounce").kv("rcpt", "<" + a + ">")
//                                               .kv("status", "5.1.1"));
//
// Untrusted text goes through printable(): non-printable bytes become '?',
// and the length is capped (Postfix printable(3)). All functions are noexcept
// and thread safe (each record is one write or send), except that open() and
// set_verbose() are meant for start-up and reload, on the thread that logs.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

namespace logging {

enum class Sink { Syslog, Postlog, File, Stderr, None };

struct Target {
    Sink sink = Sink::Syslog;
    std::string path{};  // syslog: the socket ("" is /dev/log); postlog: socket; file: file
    bool operator==(const Target&) const = default;
};

inline constexpr std::string_view kSyslogSocket = "/dev/log";

// Parses a log_target value: "syslog", "syslog:/path", "postlog:/path",
// "file:/path" or "stderr". nullopt for anything else (paths must be
// absolute).
std::optional<Target> parse_target(std::string_view value);
// "syslog", "postlog:/var/spool/postfix/public/postlog", ...
std::string target_name(const Target& t);

// A socket target is connected here, so a daemon that opens its log as
// root keeps writing to public/postlog (postfix:postdrop 0710) after it
// drops privileges; when the reader goes away the next record connects
// again by path. Reopening (a reload) with another ident, target or
// facility takes effect with the next record; the same socket target stays
// connected, and the same file target is reopened (log rotation) or, when
// that fails, kept open. A file that cannot be opened, or a socket that
// cannot be reached, makes the records go to standard error (check() says
// why). facility < 0 means LOG_MAIL. postlog_command: the postlog(1) that
// takes a postlog target's records when the socket refuses this user
// (EACCES), "" for none.
void open(const char* ident, Target target, int facility = -1,
          std::string_view postlog_command = {}) noexcept;
inline void open(const char* ident, Sink sink, int facility = -1) noexcept {
    open(ident, Target{sink, {}}, facility);
}
// Whether a record the target does not take goes to standard error (the
// default). sendguard-bounce turns it off: under pipe(8) its standard
// output and error are the delivery status text.
void set_stderr_fallback(bool on) noexcept;
bool stderr_fallback() noexcept;
// With the fallback off: the records that did not reach the log, and why
// (empty when every record got there). A postlog(1) relay is finished
// first (its input closed, a bounded wait): a relay that failed, e.g. a
// set-gid postlog refusing MAIL_CONFIG, lost every record handed to it.
// The first kMaxLostRecords records are kept. sendguard-bounce puts the
// gist in pipe(8)'s status text, which Postfix logs.
inline constexpr size_t kMaxLostRecords = 16;
struct LostRecords {
    std::string why;                   // "postlog:...: ...", as check() says it
    std::vector<std::string> records;  // as they would have been logged
};
LostRecords lost_records() noexcept;
// Why records of the current target cannot be delivered ("/dev/log: No
// such file or directory"), or "" when a probe record would go through.
std::string check() noexcept;
// The target of the last open().
Target current_target() noexcept;
// Gives a file target that open() created (rather than found) to uid:gid
// (fchown), so that a daemon started as root leaves a log file its run user
// and that user's other programs can append to. 0, or the errno of fchown;
// nothing to do (not a file, not created here) is 0.
int give_created_file(uid_t uid, gid_t gid) noexcept;
// The postlog(1) command the records go through (see above), or "" when
// they go to the target itself.
std::string postlog_relay() noexcept;
// For a postlog target this process reaches directly (a daemon started as
// root): why a program that the socket refuses (sendguard-bounce, run by
// pipe(8) as an unprivileged user) could not log through postlog_command
// either, or "" when it could (or the target is not postlog). The daemons
// say it at start-up, in the log that Postfix's own lines are in, because
// the program that loses its lines has nowhere to say it.
std::string postlog_problem_for_others(const Target& target, const std::string& postlog_command);

std::optional<int> facility_from_name(std::string_view name) noexcept;
std::string facility_names();
// The ident given to the last open().
std::string ident() noexcept;

void set_verbose(bool on) noexcept;
bool verbose() noexcept;

// The queue id of a message line. A literal is never one: a line without a
// queue id is info(text), not info("", text).
class QueueId {
public:
    QueueId(const std::string& id) noexcept : id_(id) {}  // NOLINT: a queue id string is one
    explicit QueueId(std::string_view id) noexcept : id_(id) {}
    template <size_t N>
    QueueId(const char (&)[N]) = delete;
    std::string_view str() const noexcept { return id_; }

private:
    std::string_view id_;
};

void info(std::string_view text) noexcept;
void warning(std::string_view text) noexcept;
void debug(std::string_view text) noexcept;
void info(QueueId queue_id, std::string_view text) noexcept;
void warning(QueueId queue_id, std::string_view text) noexcept;
void debug(QueueId queue_id, std::string_view text) noexcept;
// Only main() logs fatal errors, then returns its exit status: "fatal: text"
// to the log, and to standard error too when the log goes elsewhere.
void fatal(std::string_view text) noexcept;

// Replaces control and non-ASCII bytes with '?' and caps the length.
std::string printable(std::string_view s, size_t max = 200);

// Builds "component: k1=v1, k2=v2"; values are passed through printable(),
// and one holding the separator ", " (or starting with '"') is written
// quoted, "like \"this\", with escapes", so no value can add a field.
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
