// limit_notice.cc - see limit_notice.h
#include "policyd/limit_notice.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/log/log.h"

extern char** environ;

namespace policyd {
namespace {

std::string clean(std::string_view v) {
    std::string s(v.substr(0, kMaxNoticeValue));
    for (char& c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = '?';
    }
    return s;
}

std::string utc(int64_t us) {
    const std::time_t t = static_cast<std::time_t>(us / 1'000'000);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

}  // namespace

std::string notice_message(const LimitNotice& n, std::string_view to) {
    const std::string key = n.key.empty() ? "all senders" : clean(n.key);
    std::string m;
    m += "To: <" + clean(to) + ">\n";
    m += "Subject: sendguard: rule " + clean(n.rule) + " reached for " + key + "\n";
    m += "Auto-Submitted: auto-generated\n";
    m += "Content-Type: text/plain; charset=utf-8\n";
    m += "\n";
    m += "sendguard-policyd refused mail: rule " + clean(n.rule) + " (" + clean(n.limits) +
         ") was reached for " + key + " at " + utc(n.at_us) + ".\n";
    m += "Further refusals in this window are counted, not reported.\n\n";
    m += "The request that reached it:\n";
    m += "  sender:         " + clean(n.sender) + "\n";
    m += "  recipient:      " + clean(n.recipient) + "\n";
    m += "  client address: " + clean(n.client_address) + "\n";
    m += "  login:          " + (n.sasl_username.empty() ? std::string("(none)") : clean(n.sasl_username)) + "\n";
    if (n.provider_rule)
        m += "\nThe rule limits what is sent to a provider: mail to it waits until the\n"
             "limit allows more.\n";
    else
        m += "\nA login that sends far more than it used to may be compromised.\n";
    return m;
}

NoticeSender::~NoticeSender() { reap(); }

bool NoticeSender::send(const std::string& to, const std::string& text) {
    reap();
    if (children_.size() >= kMaxNoticeChildren) {
        logging::warning(logging::Line("policyd")
                             .kv("notice", "dropped")
                             .kv("to", to)
                             .kv("reason", "too many notice mails being submitted"));
        return false;
    }
    // A child that exits before reading must not take the daemon with it.
    struct sigaction old {};
    if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        logging::warning(logging::Line("policyd").kv("notice", "failed").kv("error", std::strerror(errno)));
        return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawnattr_init(&attr);
    ::posix_spawn_file_actions_adddup2(&fa, p[0], 0);
    ::posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    sigset_t def, none;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigemptyset(&none);
    ::posix_spawnattr_setsigdefault(&attr, &def);
    ::posix_spawnattr_setsigmask(&attr, &none);  // the daemon blocks HUP/TERM/INT
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::string cmd = command_, i = "-i", f = "-f", null_sender, dashes = "--", rcpt = to;
    std::vector<char*> argv = {cmd.data(), i.data(), f.data(), null_sender.data(),
                               dashes.data(), rcpt.data(), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, cmd.c_str(), &fa, &attr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&fa);
    ::posix_spawnattr_destroy(&attr);
    ::close(p[0]);
    if (rc != 0) {
        ::close(p[1]);
        logging::warning(logging::Line("policyd")
                             .kv("notice", "failed")
                             .kv("command", command_)
                             .kv("error", std::strerror(rc))
                             .kv("hint", "set policyd_notify_command to sendmail(1)"));
        return false;
    }
    children_.push_back(pid);
    // A notice is a few hundred bytes, far below the pipe's buffer: the
    // write does not wait for the child. Non-blocking all the same.
    ::fcntl(p[1], F_SETFL, ::fcntl(p[1], F_GETFL) | O_NONBLOCK);
    const ssize_t n = ::write(p[1], text.data(), text.size());
    ::close(p[1]);
    if (n != static_cast<ssize_t>(text.size())) {
        logging::warning(logging::Line("policyd").kv("notice", "truncated").kv("to", to));
        return false;
    }
    logging::info(logging::Line("policyd").kv("notice", "sent").kv("to", to));
    return true;
}

void NoticeSender::reap() noexcept {
    for (auto it = children_.begin(); it != children_.end();) {
        int st = 0;
        const pid_t r = ::waitpid(*it, &st, WNOHANG);
        if (r == 0) {
            ++it;
            continue;
        }
        if (r == *it && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            logging::warning(logging::Line("policyd")
                                 .kv("notice", "failed")
                                 .kv("command", command_)
                                 .kv("status", WIFEXITED(st) ? std::to_string(WEXITSTATUS(st))
                                                             : "signal " + std::to_string(WTERMSIG(st))));
        it = children_.erase(it);
    }
}

}  // namespace policyd
