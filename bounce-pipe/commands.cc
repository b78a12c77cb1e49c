// commands.cc - see commands.h
#include "bounce-pipe/commands.h"

#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <system_error>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <stdexcept>
#include <string_view>

#include "bounce-pipe/decision.h"
#include "bounce-pipe/evidence.h"
#include "bounce-pipe/transport.h"
#include "common/address/verp_setup.h"
#include "common/config/load.h"
#include "common/daemon/log_setup.h"
#include "common/log/json.h"
#include "common/log/log.h"
#include "common/store/setup.h"
#include "common/sys/fd.h"
#include "common/sys/privilege.h"

namespace bounce {
namespace {

// pipe(8) logs what the command prints; a leading enhanced status code
// overrides the exit status, so it must agree with it (4.x.x and 75). The
// same text goes into the defer decision's log line as its detail.
int tempfail(std::string_view queue_id, std::string_view recipient, std::string_view code,
             std::string_view why, std::string_view what, const Transport::Named& named = {}) {
    std::string text = logging::printable(what, 300);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
    if (text.empty()) text = "sendguard-bounce: " + std::string(why);
    std::string line = std::string(code) + " " + text + "\n";
    (void)!::write(1, line.data(), line.size());
    Decision d;
    d.action = "defer";
    d.rcpt = named.rcpt;
    d.status = std::string(code);
    d.why = std::string(why);
    d.detail = text;
    logging::warning(logging::QueueId(queue_id), decision_line(d, recipient, named.signed_ok));
    return EX_TEMPFAIL;
}

extern "C" void on_alarm(int) {
    static const char msg[] = "4.3.0 sendguard-bounce: time limit exceeded\n";
    (void)!::write(1, msg, sizeof msg - 1);
    ::_exit(EX_TEMPFAIL);  // nothing was committed that is not whole: LMDB txns are atomic
}

void arm_watchdog(std::chrono::seconds limit) {
    struct sigaction sa {};
    sa.sa_handler = on_alarm;
    ::sigaction(SIGALRM, &sa, nullptr);
    ::alarm(static_cast<unsigned>(limit.count()));
}

// Run by root (an administrator trying a delivery by hand), the transport
// would leave root-owned quarantine files, event log and store pages that
// the transport user, as pipe(8) runs it, cannot write: every later delivery
// would defer. So root becomes the owner of state_directory first, as that
// user is. A state directory owned by root (or missing) leaves nothing to
// become; the run stays root and says so.
void become_state_owner(const config::Config& cfg, std::string_view queue_id) {
    if (::geteuid() != 0) return;
    const std::string& dir = cfg.str("state_directory");
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || st.st_uid == 0) {
        logging::warning(logging::QueueId(queue_id), logging::Line("bounce")
                                       .kv("user", "root")
                                       .kv("state_directory", dir)
                                       .kv("problem", "not owned by the transport user; files created now "
                                                      "belong to root"));
        return;
    }
    const struct passwd* pw = ::getpwuid(st.st_uid);
    if (!pw)
        throw std::runtime_error("running as root: state_directory " + dir + " is owned by uid " +
                                 std::to_string(st.st_uid) + ", which has no passwd entry");
    sys::drop_privileges(pw->pw_name);
    logging::debug(logging::QueueId(queue_id), logging::Line("bounce").kv("user", pw->pw_name).kv("reason", "owner of state_directory"));
}

// Reads at most max + 1 bytes, never more: *more says a byte past max was
// there, and whatever follows stays unread in fd for the quarantine to copy.
std::string read_head(int fd, size_t max, bool* more) {
    std::string out;
    char buf[65536];
    while (out.size() <= max) {
        const ssize_t n = ::read(fd, buf, std::min(sizeof buf, max + 1 - out.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::system_error(errno, std::generic_category(), "read the message");
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    *more = out.size() > max;
    return out;
}

CommandLine usage_error(CommandLine c, std::string what) {
    c.mode = CommandLine::Mode::Usage;
    c.error = std::move(what);
    if (!c.parse_only) c.error += ": check the command in master.cf";
    return c;
}

}  // namespace

const char* usage() noexcept {
    return "usage: sendguard-bounce [-v] [-c config] [-o name=value] [-q queue_id] [-f sender]\n"
           "                        [-a original_recipient] [--] recipient\n"
           "       sendguard-bounce [-c config] [-o name=value] --parse-only [--json] [file ...]\n"
           "       sendguard-bounce --help\n";
}

CommandLine parse_command_line(int argc, char** argv) {
    CommandLine c{CommandLine::Mode::Transport, false, {}, false, {}, {}};
    c.args.verbose = false;
    for (int i = 1; i < argc && std::strcmp(argv[i], "--") != 0; ++i)
        c.parse_only |= std::strcmp(argv[i], "--parse-only") == 0;
    if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        c.mode = CommandLine::Mode::Help;
        return c;
    }
    enum { kParseOnly = 256, kJson, kHelp };
    static const struct option longopts[] = {
        {"parse-only", no_argument, nullptr, kParseOnly},
        {"json", no_argument, nullptr, kJson},
        {"help", no_argument, nullptr, kHelp},
        {nullptr, 0, nullptr, 0},
    };
    bool envelope_option = false;  // -a, -f, -q: a delivery's, not --parse-only's
    ::opterr = 0;  // the errors below say it once, in the form pipe(8) logs
    ::optind = 1;
    int opt;
    while ((opt = ::getopt_long(argc, argv, ":a:c:f:ho:O:q:v", longopts, nullptr)) != -1) {
        switch (opt) {
        case 'a': c.args.original_recipient = ::optarg; envelope_option = true; break;
        case 'c': c.args.config_path = ::optarg; break;
        case 'f': c.args.sender = ::optarg; envelope_option = true; break;
        case 'o':
        case 'O': c.args.overrides.emplace_back(::optarg); break;  // -O: the older spelling
        case 'q': c.args.queue_id = ::optarg; envelope_option = true; break;
        case 'v': c.args.verbose = true; break;
        case kParseOnly: break;  // seen above
        case kJson: c.json = true; break;
        case 'h':
        case kHelp:
            // An administrator's --parse-only may ask for help anywhere; a
            // delivery only alone, so a typo in master.cf never loses a bounce.
            if (c.parse_only) {
                c.mode = CommandLine::Mode::Help;
                return c;
            }
            return usage_error(std::move(c), "--help and -h go alone");
        case ':':
            return usage_error(std::move(c), std::string("option ") +
                                                 (::optopt ? std::string("-") + static_cast<char>(::optopt)
                                                           : std::string(argv[::optind - 1])) +
                                                 " needs a value");
        default:
            return usage_error(std::move(c), "unknown option " + (::optopt ? std::string("-") + static_cast<char>(::optopt)
                                                                            : std::string(argv[::optind - 1])));
        }
    }
    if (c.parse_only) {
        if (envelope_option) return usage_error(std::move(c), "-a, -f and -q are for a delivery, not --parse-only");
        c.mode = CommandLine::Mode::ParseOnly;
        for (int i = ::optind; i < argc; ++i) c.files.emplace_back(argv[i]);
        return c;
    }
    if (c.json) return usage_error(std::move(c), "--json goes with --parse-only");
    // More than one recipient: pipe(8) would count them all delivered.
    if (::optind + 1 < argc)
        return usage_error(std::move(c), "one recipient per delivery: set "
                                         "<transport>_destination_recipient_limit = 1");
    if (::optind < argc) c.args.recipient = argv[::optind];
    return c;
}

// The log of one delivery. Standard output and error are pipe(8)'s status
// text (a leading status code counts): a record the log target does not
// take (no syslog daemon) is lost rather than written there.
void open_delivery_log(const daemons::LogSettings& s) noexcept {
    logging::set_stderr_fallback(false);
    daemons::open_log(s, false);
}

namespace {

// Records the log did not take (no usable postlog, a relay that failed)
// leave their gist in pipe(8)'s status text, which Postfix logs in its
// own line for the delivery: "(sendguard-bounce: not logged: action=...,
// rcpt=<...>, ... (cannot log to postlog:...))". pipe(8) keeps only about
// the first 100 octets, so the line starts with the delivery's decision
// (the last record, without the queue id Postfix's line already has).
// On a terminal the log writer has said it already.
int say_lost_records(int exit_code) noexcept {
    try {
        if (::isatty(2)) return exit_code;
        const logging::LostRecords lost = logging::lost_records();
        if (lost.records.empty()) return exit_code;
        std::string_view last = lost.records.back();
        if (const size_t colon = last.find(": "); colon != std::string_view::npos &&
                                                  last.substr(0, colon).find(' ') == std::string_view::npos)
            last.remove_prefix(colon + 2);
        if (last.starts_with("bounce: ")) last.remove_prefix(8);
        std::string line = "sendguard-bounce: not logged: " + std::string(last) + " (cannot log to " + lost.why;
        if (lost.records.size() > 1) line += "; " + std::to_string(lost.records.size()) + " records lost";
        line = logging::printable(line, 1000) + ")\n";
        (void)!::write(1, line.data(), line.size());
    } catch (...) {
    }
    return exit_code;
}

}  // namespace

int defer_usage(const CommandLine& cmd) noexcept {
    const std::string qid = clean_queue_id(cmd.args.queue_id);
    open_delivery_log(daemons::LogSettings::defaults("bounce"));
    return say_lost_records(tempfail(qid, cmd.args.recipient, "4.3.5", "usage", "sendguard-bounce: " + cmd.error));
}

namespace {

int deliver_once(const TransportArgs& a) noexcept {
    const std::string qid = clean_queue_id(a.queue_id);
    std::unique_ptr<Transport> t;  // once made, it knows whom a defer is about
    auto named = [&] { return t ? t->named() : Transport::Named{}; };
    // Until the configuration is read, the table's log settings: a
    // configuration error is logged as sendguard/bounce too.
    open_delivery_log(daemons::LogSettings::early("bounce", a.overrides));
    logging::set_verbose(a.verbose);
    try {
        // Until the configuration is read, the table's default limit.
        arm_watchdog(config::Config::defaults().duration("bounce_time_limit"));
        config::Config cfg = config::load(a.config_path, a.overrides);
        open_delivery_log(daemons::LogSettings::from(cfg, "bounce"));
        if (qid != a.queue_id)
            logging::warning(qid, logging::Line("bounce").kv("problem", "invalid queue id")
                                      .kv("queue_id", a.queue_id).kv("used", qid));
        Settings settings = Settings::from(cfg);
        arm_watchdog(settings.time_limit);
        if (a.recipient.empty())
            return tempfail(qid, a.recipient, "4.3.5", "usage", "no recipient argument: check master.cf argv");
        if (settings.accept_unsigned)
            // Said at every start, not once: it is the one setting that lets
            // strangers change the list.
            logging::warning(qid, logging::Line("bounce")
                                      .kv("bounce_accept_unsigned", "yes")
                                      .kv("risk", "anyone who can send mail to the bounce domains can suppress "
                                                  "any address")
                                      .kv("fix", "sign return addresses (bounce_domains, verp_key_file) or "
                                                 "trust only this host's Postfix (bounce_local_mta_names)"));
        become_state_owner(cfg, qid);

        // An oversized message: its head here, the rest left in stdin for
        // the quarantine to stream (never held in memory).
        bool oversized = false;
        std::string message = read_head(0, settings.max_message_size, &oversized);
        t = std::make_unique<Transport>(std::move(settings), store::open_suppression_store(cfg),
                                        address::verp_codecs(cfg), address::BounceDomains::from(cfg));
        Envelope env{a.sender, a.recipient, a.original_recipient, qid};
        Verdict v = t->deliver(env, message, oversized, static_cast<int64_t>(std::time(nullptr)), 0);
        if (v.exit_code != EX_OK) return tempfail(qid, a.recipient, v.status, v.why, v.reply, named());
        return EX_OK;
    } catch (const config::Error& e) {
        return tempfail(qid, a.recipient, "4.3.5", "config", std::string("configuration error: ") + e.what());
    } catch (const address::KeyFileError& e) {
        return tempfail(qid, a.recipient, "4.3.5", "key-file", std::string("VERP key file: ") + e.what());
    } catch (const store::Error& e) {
        return tempfail(qid, a.recipient, "4.3.0", "store", store_error_text(e), named());
    } catch (const std::exception& e) {
        return tempfail(qid, a.recipient, "4.3.0", "internal", e.what(), named());
    } catch (...) {
        return tempfail(qid, a.recipient, "4.3.0", "internal", "unknown error", named());
    }
}

}  // namespace

int run_transport(const TransportArgs& a) noexcept { return say_lost_records(deliver_once(a)); }

namespace {

std::string parse_json_line(const std::string& path, const dsn::Report& r) {
    logging::JsonObject o;
    o.add("file", path).add("is_bounce", r.is_bounce).add("kind", dsn::to_string(r.kind));
    if (!r.feedback_type.empty()) o.add("feedback_type", r.feedback_type);
    o.add_raw("recipients", recipients_json(r));
    return o.str() + "\n";
}

// "file: kind=dsn, is_bounce=yes, rcpt=<a@b>, status=5.1.1, class=hard,
// reason=userunknown, action=failed", one line per recipient; a report
// naming nobody gets one line without the recipient keys.
std::string parse_text_lines(const std::string& path, const dsn::Report& r) {
    auto head = [&] {
        logging::Line l(logging::printable(path, 1024));
        l.kv("kind", dsn::to_string(r.kind)).kv("is_bounce", r.is_bounce ? "yes" : "no");
        if (!r.feedback_type.empty()) l.kv("feedback_type", r.feedback_type);
        return l;
    };
    if (r.recipients.empty()) return head().str() + "\n";
    std::string out;
    for (const auto& x : r.recipients) {
        logging::Line l = head();
        l.kv("rcpt", "<" + x.address + ">")
            .kv("status", x.status.empty() ? "-" : x.status)
            .kv("class", dsn::to_string(x.klass))
            .kv("reason", dsn::to_string(x.reason))
            .kv("action", x.action == dsn::Action::None ? "-" : dsn::to_string(x.action));
        out += l.str() + "\n";
    }
    return out;
}

std::string parse_error_line(const std::string& path, const std::string& error, bool json) {
    if (json) {
        logging::JsonObject o;
        o.add("file", path).add("error", error);
        return o.str() + "\n";
    }
    return logging::Line(logging::printable(path, 1024)).kv("error", error).str() + "\n";
}

}  // namespace

int run_parse_only(const CommandLine& cmd) noexcept {
    dsn::Limits limits{};
    try {
        limits = Settings::from(config::load(cmd.args.config_path, cmd.args.overrides)).limits;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sendguard-bounce: %s\n", e.what());
        return 1;
    }
    int status = 0;
    auto one = [&](const std::string& path) {
        std::string out;
        try {
            dsn::Report r = dsn::parse(sys::read_file(path), limits);
            out = cmd.json ? parse_json_line(path, r) : parse_text_lines(path, r);
        } catch (const std::exception& e) {
            out = parse_error_line(path, e.what(), cmd.json);
            status = 1;
        }
        std::fwrite(out.data(), 1, out.size(), stdout);
    };
    try {
        if (!cmd.files.empty()) {
            for (const auto& f : cmd.files) one(f);
        } else {
            std::string line;
            while (std::getline(std::cin, line)) {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (!line.empty()) one(line);
            }
        }
    } catch (...) {
        return 1;
    }
    std::fflush(stdout);
    return status;
}

}  // namespace bounce
