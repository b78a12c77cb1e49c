// postfix_harness.cc - PostfixInstance lifecycle, commands, queue and log.
// Configuration rendering is in postfix_config.cc.  See postfix_harness.h.
#include "tests/support/postfix_harness.h"

#include "tests/support/net_wait.h"
#include "tests/support/netns.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <grp.h>
#include <pwd.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace harness {
namespace {

const char* const kPostfix = "/usr/sbin/postfix";

pid_t read_master_pid(const std::string& queue_dir) {
    std::string t;
    try {
        t = file_text(queue_dir + "/pid/master.pid", 64);
    } catch (...) {
        return -1;
    }
    long v = std::strtol(t.c_str(), nullptr, 10);  // "%*d\n", space padded
    return v > 1 ? static_cast<pid_t>(v) : -1;
}

// Exit-time / last-resort teardown: no postfix commands, just signals.
void emergency_stop(const std::string& root, const std::string& queue_dir) noexcept {
    pid_t pid = read_master_pid(queue_dir);
    if (pid > 0 && process_alive(pid)) {
        ::kill(-pid, SIGKILL);  // the master is a session and group leader
        ::kill(pid, SIGKILL);
        wait_gone(pid, Millis(2000));
    }
    kill_processes_using(root);
    reap_orphans();
}

}  // namespace

std::optional<std::string> PostfixInstance::unavailable() {
    if (::access(kPostfix, X_OK) != 0)
        return std::string(kPostfix) + " not found: install Debian's postfix package";
    for (const char* p : {"/usr/sbin/postqueue", "/usr/sbin/sendmail", "/usr/sbin/postconf",
                          "/usr/sbin/smtp-sink", "/usr/sbin/smtp-source"})
        if (::access(p, X_OK) != 0) return std::string(p) + " not found (postfix package)";
    if (::geteuid() != 0) return "Postfix e2e tests must run as root (postfix start, set-gid dirs)";
    if (!::getpwnam("postfix")) return "no 'postfix' user (mail_owner)";
    if (!::getgrnam("postdrop")) return "no 'postdrop' group (setgid_group)";
    if (!::getpwnam("nobody")) return "no 'nobody' user (pipe transports, smtp-sink)";
    return std::nullopt;
}

PostfixInstance::PostfixInstance(PostfixOptions opts)
    : opts_(std::move(opts)), dir_("sg-postfix-") {
    config_dir_ = dir_.mkdir("config");
    queue_dir_ = dir_.mkdir("queue");  // root-owned; post-install makes the rest
    data_dir_ = dir_.mkdir("data", 0700);
    chown_to(data_dir_, "postfix");
    log_path_ = dir_.sub("maillog");
    if (opts_.smtpd_port == 0) opts_.smtpd_port = free_tcp_port(smtpd_ip_, opts_.ns);

    put("compatibility_level", "3.6");
    put("queue_directory", queue_dir_);
    put("data_directory", data_dir_);
    put("mail_owner", "postfix");
    put("setgid_group", "postdrop");
    put("inet_interfaces", smtpd_ip_);
    put("inet_protocols", "ipv4");
    put("myhostname", opts_.myhostname);
    put("myorigin", "$myhostname");
    put("mydestination", "");
    put("local_recipient_maps", "");
    put("alias_maps", "");
    put("alias_database", "");
    put("mynetworks", "127.0.0.0/8");
    put("smtpd_banner", "$myhostname ESMTP");
    put("biff", "no");
    put("append_dot_mydomain", "no");
    put("delay_warning_time", "0h");
    put("maillog_file", log_path_);
    put("maillog_file_prefixes", dir_.path());
    put("queue_run_delay", "1s");
    put("minimal_backoff_time", "1s");
    put("maximal_backoff_time", "2s");
    put("maximal_queue_lifetime", std::to_string(opts_.maximal_queue_lifetime_s) + "s");
    put("bounce_queue_lifetime", std::to_string(opts_.bounce_queue_lifetime_s) + "s");
    put("smtp_connect_timeout", "2s");
    if (!opts_.relayhost.empty())
        put("relayhost", opts_.relayhost);
    else if (!opts_.ns)  // hermetic: no route means no DNS lookup either
        put("default_transport", "error:5.3.5 no route in this sendguard test instance");
}

PostfixInstance::~PostfixInstance() {
    if (started_ && current_test_failed())
        std::fprintf(stderr, "harness: test failed; tail of %s:\n%s\n", log_path_.c_str(),
                     log_tail(40).c_str());
    stop();
}

std::vector<std::string> PostfixInstance::wrap(std::vector<std::string> argv) const {
    return opts_.ns ? opts_.ns->wrap(std::move(argv)) : argv;
}

// argv run by `unshare -m` after /etc/postfix was bound to a copy whose
// main.cf names our config directory (Postfix's mail_conf check for set-gid
// programs reads the built-in directory's main.cf).
std::vector<std::string> PostfixInstance::in_trusting_namespace(std::vector<std::string> argv) const {
    const std::string etc = dir_.sub("etc-postfix");
    std::filesystem::create_directory(etc);
    std::filesystem::copy("/etc/postfix", etc,
                          std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
    write_file(etc + "/main.cf", "alternate_config_directories = " + config_dir_ + "\n", 0644);
    std::string cmd = "mount --bind '" + etc + "' /etc/postfix && exec";
    for (const auto& a : argv) cmd += " '" + a + "'";
    return {"unshare", "-m", "--propagation", "private", "/bin/sh", "-c", cmd};
}

void PostfixInstance::fail(const std::string& what) const {
    throw std::runtime_error(what + "\n--- tail of " + log_path_ + " ---\n" + log_tail(30));
}

void PostfixInstance::start() {
    if (started_) return;
    become_subreaper();  // the detached master becomes our child; we can reap it
    write_config();
    std::string root = dir_.path(), queue = queue_dir_;
    guard_ = register_cleanup("postfix " + root, [root, queue] { emergency_stop(root, queue); });

    std::vector<std::string> argv = {kPostfix, "-c", config_dir_, "start"};
    if (opts_.trust_config_directory) argv = in_trusting_namespace(std::move(argv));
    RunResult r = command(argv);
    if (!r.ok()) {
        emergency_stop(root, queue);
        guard_.release();
        fail("postfix start: " + r.describe());
    }
    wait_until([&] { return process_alive(master_pid_ = read_master_pid(queue_dir_)); },
               Millis(10000));
    started_ = true;  // from here on stop() cleans up
    if (master_pid_ <= 0) fail("postfix start: no live master in " + queue_dir_ + "/pid");
    if (!wait_for_tcp(smtpd_ip_, opts_.smtpd_port, Millis(10000), opts_.ns))
        fail("smtpd does not accept on " + smtpd_ip_ + ":" + std::to_string(opts_.smtpd_port));
}

void PostfixInstance::stop() noexcept {
    try {
        if (started_) {
            started_ = false;
            if (!process_alive(master_pid_)) {
                std::fprintf(stderr, "harness: postfix master %d of %s had already exited\n",
                             static_cast<int>(master_pid_), dir_.path().c_str());
            } else if (RunResult r = command({kPostfix, "-c", config_dir_, "stop"}); !r.ok()) {
                std::fprintf(stderr, "harness: %s\n", r.describe().c_str());
            }
            if (!wait_gone(master_pid_, Millis(5000))) {
                std::fprintf(stderr, "harness: master %d survived postfix stop; killing\n",
                             static_cast<int>(master_pid_));
                ::kill(-master_pid_, SIGKILL);
                ::kill(master_pid_, SIGKILL);
                wait_gone(master_pid_, Millis(2000));
            }
            master_pid_ = -1;
        }
        // Daemons exit on their own once the master is gone; give them a moment.
        wait_until([&] { return processes_using(dir_.path()).empty(); }, Millis(3000));
        auto killed = kill_processes_using(dir_.path());
        for (const auto& k : killed)
            std::fprintf(stderr, "harness: killed stray process %s of %s\n", k.c_str(),
                         dir_.path().c_str());
        reap_orphans();
        guard_.release();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "harness: postfix stop: %s\n", e.what());
    } catch (...) {
    }
}

void PostfixInstance::reload() {
    if (!started_) return;
    size_t mark = log_mark();
    RunResult r = command({kPostfix, "-c", config_dir_, "reload"});
    if (!r.ok()) fail("postfix reload: " + r.describe());
    if (!wait_for_log("reload -- version", Millis(10000), mark))
        fail("postfix reload: no 'reload' line from the master");
}

SmtpTranscript PostfixInstance::send(const SmtpEnvelope& env) const {
    return send_mail(smtpd_ip_, opts_.smtpd_port, env, opts_.ns);
}

SmtpClient PostfixInstance::connect() const {
    return SmtpClient::connect(smtpd_ip_, opts_.smtpd_port, opts_.ns);
}

RunResult PostfixInstance::sendmail(const std::string& from, const std::vector<std::string>& rcpts,
                                    const std::string& message) const {
    std::vector<std::string> argv{"/usr/sbin/sendmail", "-C", config_dir_, "-i", "-f", from, "--"};
    argv.insert(argv.end(), rcpts.begin(), rcpts.end());
    return run(SpawnSpec{.argv = wrap(std::move(argv)), .stdin_data = message}, Millis(30000));
}

RunResult PostfixInstance::command(std::vector<std::string> argv) const {
    return run(wrap(std::move(argv)), Millis(60000));
}

RunResult PostfixInstance::postconf(std::vector<std::string> args) const {
    std::vector<std::string> argv{"/usr/sbin/postconf", "-c", config_dir_};
    argv.insert(argv.end(), args.begin(), args.end());
    return command(std::move(argv));
}

void PostfixInstance::flush() const {
    RunResult r = command({"/usr/sbin/postqueue", "-c", config_dir_, "-f"});
    if (!r.ok()) fail("postqueue -f: " + r.describe());
}

std::vector<QueueEntry> PostfixInstance::queue() const {
    RunResult r = command({"/usr/sbin/postqueue", "-c", config_dir_, "-j"});
    if (!r.ok()) fail("postqueue -j: " + r.describe());
    return parse_postqueue_json(r.out);
}

bool PostfixInstance::wait_queue_empty(Millis timeout) const {
    return wait_until([&] { return queue().empty(); }, timeout);
}

std::string PostfixInstance::log() const { return file_text(log_path_); }

size_t PostfixInstance::log_mark() const {
    struct stat st {};
    return ::stat(log_path_.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

std::vector<std::string> PostfixInstance::log_lines(size_t from) const {
    std::string t = log();
    std::vector<std::string> out;
    size_t pos = std::min(from, t.size());
    for (;;) {
        size_t eol = t.find('\n', pos);
        if (eol == std::string::npos) break;  // a partial last line waits for more
        out.push_back(t.substr(pos, eol - pos));
        pos = eol + 1;
    }
    return out;
}

std::string PostfixInstance::log_tail(size_t lines) const {
    std::vector<std::string> all;
    try {
        all = log_lines();
    } catch (...) {
        return "(log unreadable)";
    }
    std::string out;
    for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
        out += all[i] + "\n";
    return out;
}

std::optional<std::string> PostfixInstance::wait_for_log(
    const std::function<bool(std::string_view)>& pred, Millis timeout, size_t from) const {
    std::optional<std::string> hit;
    wait_until(
        [&] {
            for (auto& l : log_lines(from))
                if (pred(l)) {
                    hit = std::move(l);
                    return true;
                }
            return false;
        },
        timeout);
    return hit;
}

std::optional<std::string> PostfixInstance::wait_for_log(std::string_view substring,
                                                         Millis timeout, size_t from) const {
    return wait_for_log(
        [&](std::string_view l) { return l.find(substring) != std::string_view::npos; }, timeout,
        from);
}

std::optional<Delivery> PostfixInstance::wait_for_delivery(std::string_view queue_id,
                                                           Millis timeout, std::string_view to,
                                                           size_t from) const {
    if (queue_id.empty()) return std::nullopt;
    auto line = wait_for_log(
        [&](std::string_view l) {
            auto d = parse_delivery(l);
            return d && d->queue_id == queue_id && (to.empty() || d->to == to);
        },
        timeout, from);
    return line ? parse_delivery(*line) : std::nullopt;
}

std::vector<Delivery> PostfixInstance::deliveries(size_t from) const {
    std::vector<Delivery> out;
    for (const auto& l : log_lines(from))
        if (auto d = parse_delivery(l)) out.push_back(std::move(*d));
    return out;
}

std::optional<std::string> PostfixInstance::wait_for_notification(std::string_view queue_id,
                                                                  Millis timeout,
                                                                  std::string_view kind) const {
    if (queue_id.empty()) return std::nullopt;
    std::string needle =
        std::string(queue_id) + ": sender " + std::string(kind) + " notification: ";
    auto line = wait_for_log(needle, timeout);
    if (!line) return std::nullopt;
    std::string id = line->substr(line->find(needle) + needle.size());
    return id.substr(0, id.find_first_of(" \t,"));
}

}  // namespace harness
