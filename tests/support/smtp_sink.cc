// smtp_sink.cc - see smtp_sink.h
#include "tests/support/smtp_sink.h"

#include "tests/support/net_wait.h"
#include "tests/support/netns.h"
#include "tests/support/temp_dir.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <strings.h>
#include <sys/stat.h>
#include <thread>

namespace harness {
namespace {

namespace fs = std::filesystem;

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

std::string angle_addr(std::string_view s) {
    size_t lt = s.find('<');
    size_t gt = lt == std::string_view::npos ? lt : s.find('>', lt);
    if (gt == std::string_view::npos) {
        size_t sp = s.find(' ');
        return std::string(s.substr(0, sp));
    }
    return std::string(s.substr(lt + 1, gt - lt - 1));
}

}  // namespace

const char* to_string(SinkMode m) noexcept {
    switch (m) {
    case SinkMode::Accept: return "accept";
    case SinkMode::TempFail: return "tempfail";
    case SinkMode::HardFail: return "hardfail";
    case SinkMode::Disconnect421: return "disconnect421";
    }
    return "?";
}

std::ostream& operator<<(std::ostream& os, SinkMode m) { return os << to_string(m); }

std::string SinkMessage::mail_from() const { return angle_addr(mail_args); }

std::vector<std::string> SinkMessage::rcpt_to() const {
    std::vector<std::string> out;
    for (const auto& r : rcpt_args) out.push_back(angle_addr(r));
    return out;
}

std::string SinkMessage::header(std::string_view name) const {
    std::istringstream in(content);
    std::string line, value;
    bool in_field = false;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) break;  // end of header
        if (line[0] == ' ' || line[0] == '\t') {
            if (in_field) value += " " + line.substr(line.find_first_not_of(" \t"));
            continue;
        }
        if (in_field) return value;
        if (starts_with_ci(line, name) && line.size() > name.size() && line[name.size()] == ':') {
            in_field = true;
            size_t v = line.find_first_not_of(" \t", name.size() + 1);
            value = v == std::string::npos ? "" : line.substr(v);
        }
    }
    return in_field ? value : std::string();
}

SinkMessage parse_sink_dump(const std::string& text) {
    SinkMessage m;
    size_t pos = 0;
    auto next_line = [&](std::string& line) {
        if (pos >= text.size()) return false;
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        line = text.substr(pos, eol - pos);
        pos = eol + 1;
        return true;
    };
    std::string line;
    size_t mark = 0;
    while (mark = pos, next_line(line)) {
        auto value = [&](size_t n) { return line.size() > n ? line.substr(n) : std::string(); };
        if (starts_with_ci(line, "X-Client-Addr: ")) m.client_addr = value(15);
        else if (starts_with_ci(line, "X-Client-Proto: ")) continue;
        else if (starts_with_ci(line, "X-Helo-Args: ")) m.helo = value(13);
        else if (starts_with_ci(line, "X-Mail-Args: ")) m.mail_args = value(13);
        else if (starts_with_ci(line, "X-Rcpt-Args: ")) m.rcpt_args.push_back(value(13));
        else if (starts_with_ci(line, "Received: ")) {
            // smtp-sink's own three-line Received: ends its pseudo header.
            while ((mark = pos, next_line(line)) && !line.empty() &&
                   (line[0] == ' ' || line[0] == '\t')) {
            }
            pos = mark;
            break;
        } else {
            pos = mark;  // not smtp-sink format: treat the rest as content
            break;
        }
    }
    m.content = text.substr(std::min(pos, text.size()));
    if (m.content.size() >= 1 && m.content.back() == '\n') m.content.pop_back();  // sink's empty line
    return m;
}

SmtpSink::SmtpSink(SinkOptions opts) : opts_(std::move(opts)), dir_("sg-sink-") {
    dump_dir_ = dir_.sub("dump");
    log_path_ = dir_.sub("smtp-sink.log");
    make_dirs(dump_dir_, 0755);
    chown_to(dump_dir_, "nobody");
    if (opts_.port == 0) opts_.port = free_tcp_port(opts_.ip, opts_.ns);
    start();
}

SmtpSink::~SmtpSink() { stop(); }

std::string SmtpSink::nexthop() const {
    return "[" + opts_.ip + "]:" + std::to_string(opts_.port);
}

void SmtpSink::start() {
    std::vector<std::string> argv{"smtp-sink", "-u", "nobody", "-h", opts_.hostname};
    if (opts_.dump) argv.insert(argv.end(), {"-d", dump_dir_ + "/m."});
    switch (opts_.mode) {
    case SinkMode::Accept: break;
    case SinkMode::TempFail:
        argv.insert(argv.end(), {"-r", opts_.fail_commands, "-b", opts_.soft_reply});
        break;
    case SinkMode::HardFail:
        argv.insert(argv.end(), {"-f", opts_.fail_commands, "-B", opts_.hard_reply});
        break;
    case SinkMode::Disconnect421: argv.insert(argv.end(), {"-Q", opts_.fail_commands}); break;
    }
    argv.insert(argv.end(), opts_.extra_args.begin(), opts_.extra_args.end());
    argv.push_back(opts_.ip + ":" + std::to_string(opts_.port));
    argv.push_back("64");
    if (opts_.ns) argv = opts_.ns->wrap(std::move(argv));

    // The old listener may linger for a moment after a restart: retry.
    for (int attempt = 0; attempt < 20; ++attempt) {
        append_file(log_path_, "--- start (" + std::string(to_string(opts_.mode)) + ")\n");
        proc_ = std::make_unique<Process>(
            SpawnSpec{.argv = argv, .stdout_path = log_path_, .stderr_path = log_path_});
        bool up = wait_until(
            [&] {
                return !proc_->running() ||
                       bool(connect_tcp(opts_.ip, opts_.port, Millis(200), opts_.ns));
            },
            Millis(5000));
        if (up && proc_->running()) return;
        proc_.reset();
        std::this_thread::sleep_for(Millis(100));
    }
    throw std::runtime_error("smtp-sink did not start on " + nexthop() + ": " + log());
}

void SmtpSink::stop() {
    if (proc_) proc_->stop(Millis(2000));
    proc_.reset();
}

bool SmtpSink::running() { return proc_ && proc_->running(); }

void SmtpSink::set_mode(SinkMode mode) {
    stop();
    opts_.mode = mode;
    start();
}

// The files smtp-sink (one process, transactions on its event loop) has
// open: the dumps of transactions still in progress.
std::set<std::string> SmtpSink::dumps_in_progress() const {
    std::set<std::string> open;
    if (!proc_ || !proc_->running()) return open;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(proc_->pid()) + "/fd", ec)) {
        std::error_code lec;
        const fs::path target = fs::read_symlink(e.path(), lec);
        if (!lec) open.insert(target.string());
    }
    return open;
}

std::vector<SinkMessage> SmtpSink::messages() const {
    struct Item {
        fs::file_time_type t;
        std::string path;
    };
    std::vector<Item> files;
    std::error_code ec;
    const std::set<std::string> in_progress = dumps_in_progress();
    for (const auto& e : fs::directory_iterator(dump_dir_, ec))
        if (e.is_regular_file() && !in_progress.contains(e.path().string()))
            files.push_back({e.last_write_time(), e.path().string()});
    std::sort(files.begin(), files.end(), [](const Item& a, const Item& b) {
        return a.t != b.t ? a.t < b.t : a.path < b.path;
    });
    std::vector<SinkMessage> out;
    for (const auto& f : files) {
        SinkMessage m = parse_sink_dump(file_text(f.path));
        m.file = f.path;
        out.push_back(std::move(m));
    }
    return out;
}

bool SmtpSink::wait_for_messages(size_t n, Millis timeout) const {
    return wait_until([&] { return messages().size() >= n; }, timeout);
}

void SmtpSink::clear_messages() const {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dump_dir_, ec)) fs::remove(e.path(), ec);
}

std::string SmtpSink::log() const { return file_text(log_path_); }

RunResult run_smtp_source(const SourceOptions& o) {
    std::vector<std::string> argv{"smtp-source", "-m", std::to_string(o.messages),
                                  "-s", std::to_string(o.sessions),
                                  "-r", std::to_string(o.recipients),
                                  "-f", o.from, "-t", o.to, "-M", o.helo};
    if (o.size > 0) argv.insert(argv.end(), {"-l", std::to_string(o.size)});
    argv.insert(argv.end(), o.extra_args.begin(), o.extra_args.end());
    argv.push_back(o.ip + ":" + std::to_string(o.port));
    if (o.ns) argv = o.ns->wrap(std::move(argv));
    return run(std::move(argv), o.timeout);
}

}  // namespace harness
