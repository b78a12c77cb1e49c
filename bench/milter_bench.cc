// bench_milter - Postfix relay throughput with and without sendguard-milter
//
// usage: bench_milter BIN_DIR [messages] [rounds] [recipients]
// One private Postfix (config, queue and log under /tmp/sg-bench-milter-*,
// started with `postfix -c`) relays everything to Postfix's own smtp-sink
// on 127.0.0.2. It has two smtpd listeners on 127.0.0.1 that differ in one
// thing only: the second has smtpd_milters = sendguard-milter (sender
// checks and signed VERP rewriting, as installed: user sendguard, socket
// group postfix, send log with the default store_sync and
// milter_store_sync). Postfix's smtp-source feeds each listener in turn
// (messages, default 2000, over 10 sessions, 512 bytes of body, recipients
// per message, default 2), rounds times (default 5): A B A B ..., so load
// from other processes on the machine falls on both. With two or more
// recipients the milter writes a send-log entry per message (an LMDB
// commit), as it does for every VERP message once the send log names each
// message; with one the VERP address carries the recipient and nothing is
// written. SG_BENCH_MILTER_SETTINGS adds lines to the milter's
// sendguard.conf, to see what a setting costs ("milter_store_sync =
// commit", "milter_verp = no": checks only); SG_BENCH_KEEP=1 keeps the
// files (logs, configs) of the run.
//
// smtp-source has no SMTP AUTH, so the client is unauthenticated and its
// sender is allowed by milter_network_tables (127.0.0.0/8 may send as
// customer-a.example): the network rules, not the login rules, are what
// is checked (bench_senders measures the login tables at 10^5 logins).
//
// A run's time is from smtp-source's start until the sink has counted
// (smtp-sink -c) every message of the run: a message counts once Postfix
// has relayed it, not when smtpd accepted it.
//
// The two runs of a round follow each other and share most of the load
// from other processes: the median of the rounds' ratios (milter rate over
// no-milter rate) is held against the target (>= 0.90). All runs together
// and the fastest run of each kind are printed beside it, and the milter's
// own CPU time per message, which the load changes little.
//
// Output, one line per run and a summary:
//   milter: run 1 no milter: 2000 msgs in 5.41 s, 369.7 msgs/s
//   milter: run 2 sendguard-milter: 2000 msgs in 5.77 s, 346.6 msgs/s
//   ...
//   milter: ratio 0.94, the median of 5 rounds (target >= 0.90: met); per round 0.94 0.90 0.97 0.93
//   0.95 milter: all runs: no milter 360.2 msgs/s, sendguard-milter 331.0 msgs/s, ratio 0.92
//   milter: fastest run: no milter 372.0 msgs/s, sendguard-milter 350.1 msgs/s, ratio 0.94
//   milter: sendguard-milter CPU 0.210 ms per message (user + system, 10000 messages)
//   milter: sendguard-milter RSS 9.8 MB after the runs (peak 10.1 MB); 10000 of 10000 messages
//   decided at
//           end of message, 10000 rewritten to VERP
// (counted in the milter's log: its stage=eom and action=verp lines).
// Exit status 0 when every run delivered all its messages and the milter
// decided on each message of its runs, 1 otherwise
// (the target is reported, not enforced: the figure depends on the load).
// Needs root (postfix start) and Debian's postfix package; without them it
// says so and exits 77. A warm-up of 50 messages to each listener comes
// first and is not counted.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kPostfix = "/usr/sbin/postfix";
constexpr const char* kSink = "/usr/sbin/smtp-sink";
constexpr const char* kSource = "/usr/sbin/smtp-source";
constexpr int kSessions = 10;
constexpr int kBodyBytes = 512;
constexpr const char* kSender = "news@customer-a.example";
constexpr const char* kRecipient = "rcpt@remote.example";

// Unprivileged user and group the pieces run as, as installed.
struct Users {
    uid_t sendguard_uid;
    gid_t sendguard_gid;
    uid_t postfix_uid;
};

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what);
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0644) {
    std::ofstream(path, std::ios::trunc) << text;
    if (::chmod(path.c_str(), mode) != 0) fail("chmod " + path + ": " + std::strerror(errno));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void make_dir(const std::string& path, mode_t mode, uid_t uid = 0, gid_t gid = 0) {
    if (::mkdir(path.c_str(), mode) != 0 || ::chmod(path.c_str(), mode) != 0 ||
        ::chown(path.c_str(), uid, gid) != 0)
        fail("mkdir " + path + ": " + std::strerror(errno));
}

// Postfix programs re-read a config file younger than ~2 s in naps; an
// older mtime saves seconds at start.
void backdate(const std::string& path) {
    struct utimbuf t {};
    t.actime = t.modtime = ::time(nullptr) - 60;
    ::utime(path.c_str(), &t);
}

uint16_t free_port(const char* ip) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, ip, &a.sin_addr);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        fail(std::string("no free port on ") + ip);
    ::close(fd);
    return ntohs(a.sin_port);
}

// fork + exec with stdout and stderr appended to out (or /dev/null).
pid_t spawn(const std::vector<std::string>& argv, const std::string& out) {
    pid_t pid = ::fork();
    if (pid < 0) fail("fork: " + std::string(std::strerror(errno)));
    if (pid == 0) {
        ::setpgid(0, 0);
        int in = ::open("/dev/null", O_RDONLY);
        int fd =
            ::open(out.empty() ? "/dev/null" : out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(in, 0);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::vector<char*> a;
        for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        ::execv(a[0], a.data());
        ::_exit(127);
    }
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run(const std::vector<std::string>& argv, const std::string& out) {
    return wait_exit(spawn(argv, out));
}

void stop(pid_t pid) {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (auto end = Clock::now() + 10s; Clock::now() < end; std::this_thread::sleep_for(50ms))
        if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

Users users() {
    // getpwnam's result lives until the next call: copy it at once.
    Users u{};
    const passwd* p = ::getpwnam("sendguard");
    bool found = p != nullptr;
    if (p) u.sendguard_uid = p->pw_uid, u.sendguard_gid = p->pw_gid;
    p = ::getpwnam("postfix");
    found = found && p != nullptr;
    if (p) u.postfix_uid = p->pw_uid;
    if (!found || !::getpwnam("nobody") || !::getgrnam("postdrop"))
        fail(
            "needs users sendguard, postfix, nobody and group postdrop (postfix package, "
            "scripts/install.sh)");
    return u;
}

// smtp-sink -c writes "sess=N quit=N mesg=N" lines ended by \r; the last
// one holds the number of messages received so far. Only the file's tail
// is read: it is polled often, on a machine the runs share.
long sink_count(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    const std::streamoff size = in.tellg();
    if (size <= 0) return 0;
    std::string tail(static_cast<size_t>(std::min<std::streamoff>(size, 128)), '\0');
    in.seekg(size - static_cast<std::streamoff>(tail.size()));
    in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
    const size_t p = tail.rfind("mesg=");
    return p == std::string::npos ? 0 : std::atol(tail.c_str() + p + 5);
}

bool wait_for_count(const std::string& path, long n, std::chrono::seconds timeout) {
    for (auto end = Clock::now() + timeout; Clock::now() < end; std::this_thread::sleep_for(5ms))
        if (sink_count(path) >= n) return true;
    return false;
}

bool wait_for_file(const std::string& path, std::chrono::seconds timeout) {
    for (auto end = Clock::now() + timeout; Clock::now() < end; std::this_thread::sleep_for(20ms))
        if (::access(path.c_str(), F_OK) == 0) return true;
    return false;
}

// "VmRSS" or "VmHWM" of a process, in kB.
long proc_kb(pid_t pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field) + 1);
    return 0;
}

// utime + stime of a process (all its threads), from /proc/PID/stat.
double cpu_seconds(pid_t pid) {
    const std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
    size_t p = s.rfind(')');  // the command name may hold spaces
    if (p == std::string::npos) return 0;
    std::istringstream in(s.substr(p + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i < 14; ++i) in >> field;  // fields 3 (state) to 13; utime is 14
    in >> utime >> stime;
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

size_t count_of(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
}

// Lines of a configuration file, each ended by a newline.
std::string lines(std::initializer_list<std::string> l) {
    std::string s;
    for (const auto& line : l) s += line + "\n";
    return s;
}

// The milter as installed (conf-examples/sendguard.conf): root starts it,
// it drops to sendguard; its socket is group postfix, mode 0660. In the
// foreground (-f) it logs to stderr, kept in milter.err.
std::string write_milter_config(const std::string& dir, const Users& u, const std::string& extra) {
    make_dir(dir + "/run", 0755, u.sendguard_uid, u.sendguard_gid);
    make_dir(dir + "/lib", 0750, u.sendguard_uid, u.sendguard_gid);
    write_file(dir + "/verp.keys", "0123456789abcdef0123456789abcdef\n", 0640);
    if (::chown((dir + "/verp.keys").c_str(), 0, u.sendguard_gid) != 0) fail("chown verp.keys");
    write_file(dir + "/networks",
               lines({"# smtp-source connects from loopback", "127.0.0.0/8 customer-a.example"}));
    const std::string conf = dir + "/sendguard.conf";
    write_file(conf, lines({"config_directory = " + dir, "state_directory = " + dir + "/lib",
                            "run_directory = " + dir + "/run", "bounce_domains = bounces.*",
                            "# no DNS: the benchmark measures the milter, not a resolver",
                            "milter_reply_check = no",
                            "milter_network_tables = " + dir + "/networks"}) +
                         extra);
    return conf;
}

// Services besides smtpd, unchrooted (chroot column "n"), so the absolute
// paths of the instance work as written.
constexpr const char* kServices = R"(pickup    unix  n  -  n  60    1  pickup
cleanup   unix  n  -  n  -     0  cleanup
qmgr      unix  n  -  n  300   1  qmgr
rewrite   unix  -  -  n  -     -  trivial-rewrite
bounce    unix  -  -  n  -     0  bounce
defer     unix  -  -  n  -     0  bounce
trace     unix  -  -  n  -     0  bounce
verify    unix  -  -  n  -     1  verify
flush     unix  n  -  n  1000? 0  flush
proxymap  unix  -  -  n  -     -  proxymap
smtp      unix  -  -  n  -     -  smtp
relay     unix  -  -  n  -     -  smtp
showq     unix  n  -  n  -     -  showq
error     unix  -  -  n  -     -  error
retry     unix  -  -  n  -     -  error
discard   unix  -  -  n  -     -  discard
anvil     unix  -  -  n  -     1  anvil
scache    unix  -  -  n  -     1  scache
postlog   unix-dgram n - n -   1  postlogd
)";

// Two smtpd listeners, the second with the milter; everything relays to
// the sink, nothing is delivered locally.
void write_postfix_config(const std::string& dir, const Users& u, uint16_t plain, uint16_t milter,
                          const std::string& nexthop) {
    const std::string cf = dir + "/postfix";
    make_dir(cf, 0755);
    make_dir(dir + "/queue", 0755);  // root's: postfix start makes the rest
    make_dir(dir + "/data", 0700, u.postfix_uid);
    write_file(cf + "/main.cf", lines({"compatibility_level = 3.6",
                                       "queue_directory = " + dir + "/queue",
                                       "data_directory = " + dir + "/data",
                                       "mail_owner = postfix",
                                       "setgid_group = postdrop",
                                       "inet_interfaces = 127.0.0.1",
                                       "inet_protocols = ipv4",
                                       "myhostname = mx.sendguard.test",
                                       "mydestination =",
                                       "local_recipient_maps =",
                                       "alias_maps =",
                                       "alias_database =",
                                       "mynetworks = 127.0.0.0/8",
                                       "relayhost = " + nexthop,
                                       "biff = no",
                                       "delay_warning_time = 0h",
                                       "maillog_file = " + dir + "/maillog",
                                       "maillog_file_prefixes = " + dir,
                                       "milter_protocol = 6",
                                       "milter_default_action = tempfail"}));
    write_file(cf + "/master.cf",
               lines({"127.0.0.1:" + std::to_string(plain) + " inet n - n - - smtpd",
                      "127.0.0.1:" + std::to_string(milter) + " inet n - n - - smtpd",
                      "  -o smtpd_milters=unix:" + dir + "/run/milter.sock"}) +
                   kServices);
    backdate(cf + "/main.cf");
    backdate(cf + "/master.cf");
}

struct Result {
    bool milter;
    double seconds;
    bool complete;
};

// One run: smtp-source into port, timed until the sink has them all.
Result measure(const std::string& dir, uint16_t port, bool milter, int messages, int recipients,
               long& sunk) {
    const std::string sink_out = dir + "/sink.out";
    const auto t0 = Clock::now();
    const int rc =
        run({kSource, "-m", std::to_string(messages), "-s", std::to_string(kSessions), "-l",
             std::to_string(kBodyBytes), "-r", std::to_string(recipients), "-f", kSender, "-t",
             kRecipient, "-M", "load.sendguard.test", "127.0.0.1:" + std::to_string(port)},
            dir + "/source.out");
    const bool complete = rc == 0 && wait_for_count(sink_out, sunk + messages, 300s);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::fflush(stdout);
    if (rc != 0)
        std::fprintf(stderr, "milter: smtp-source exited %d (see %s/source.out)\n", rc,
                     dir.c_str());
    sunk = sink_count(sink_out);
    return {milter, s, complete};
}

const char* label(bool milter) {
    return milter ? "sendguard-milter" : "no milter";
}

int bench(const std::string& bin, const std::string& dir, int messages, int rounds,
          int recipients) {
    const Users u = users();
    const uint16_t sink_port = free_port("127.0.0.2");
    const uint16_t plain_port = free_port("127.0.0.1");
    uint16_t milter_port = free_port("127.0.0.1");
    while (milter_port == plain_port) milter_port = free_port("127.0.0.1");

    const pid_t sink =
        spawn({kSink, "-c", "-u", "nobody", "127.0.0.2:" + std::to_string(sink_port), "256"},
              dir + "/sink.out");
    const char* extra = std::getenv("SG_BENCH_MILTER_SETTINGS");
    const std::string conf = write_milter_config(dir, u, extra ? std::string(extra) + "\n" : "");
    const pid_t milter = spawn({bin + "/sendguard-milter", "-f", "-c", conf}, dir + "/milter.err");
    write_postfix_config(dir, u, plain_port, milter_port,
                         "[127.0.0.2]:" + std::to_string(sink_port));
    int status = 1;
    bool started = false;
    try {
        if (!wait_for_file(dir + "/run/milter.sock", 10s))
            fail("sendguard-milter did not listen: " + read_file(dir + "/milter.err"));
        if (run({kPostfix, "-c", dir + "/postfix", "start"}, dir + "/postfix.out") != 0)
            fail("postfix start: " + read_file(dir + "/postfix.out"));
        started = true;

        long sunk = 0;
        // Warm-up: first connections, process starts and the milter's
        // first send-log write are not part of either figure.
        for (bool m : {false, true}) measure(dir, m ? milter_port : plain_port, m, 50, 1, sunk);

        const size_t verp_before = count_of(read_file(dir + "/milter.err"), "action=verp");
        const size_t eom_before = count_of(read_file(dir + "/milter.err"), "stage=eom");
        const double cpu_before = cpu_seconds(milter);
        std::vector<Result> results;
        for (int r = 0; r < rounds; ++r)
            for (bool m : {false, true}) {
                results.push_back(
                    measure(dir, m ? milter_port : plain_port, m, messages, recipients, sunk));
                const Result& x = results.back();
                std::printf("milter: run %zu %s: %d msgs in %.2f s, %.1f msgs/s%s\n",
                            results.size(), label(m), messages, x.seconds, messages / x.seconds,
                            x.complete ? "" : " (INCOMPLETE)");
            }

        // A round's two runs follow each other, so they share most of the
        // load from other processes: the median of the rounds' ratios is
        // the figure held against the target. The fastest run of each kind
        // and all runs together are printed beside it, to show how much the
        // load moved the figures.
        double t[2] = {0, 0}, best[2] = {0, 0};
        int n[2] = {0, 0};
        bool complete = true;
        std::vector<double> ratios;
        std::string per_round;
        for (size_t i = 0; i < results.size(); ++i) {
            const Result& x = results[i];
            t[x.milter] += x.seconds;
            n[x.milter] += messages;
            best[x.milter] = std::max(best[x.milter], messages / x.seconds);
            complete = complete && x.complete;
            if (i % 2 == 1) {
                ratios.push_back(results[i - 1].seconds / x.seconds);
                char b[16];
                std::snprintf(b, sizeof b, " %.2f", ratios.back());
                per_round += b;
            }
        }
        std::sort(ratios.begin(), ratios.end());
        const size_t k = ratios.size();
        const double ratio = k % 2 ? ratios[k / 2] : (ratios[k / 2 - 1] + ratios[k / 2]) / 2;
        std::printf(
            "milter: ratio %.2f, the median of %zu rounds (target >= 0.90: %s); per round%s\n",
            ratio, k, ratio >= 0.90 ? "met" : "MISSED", per_round.c_str());
        std::printf(
            "milter: all runs: no milter %.1f msgs/s, sendguard-milter %.1f msgs/s, ratio %.2f\n",
            n[0] / t[0], n[1] / t[1], (n[1] / t[1]) / (n[0] / t[0]));
        std::printf(
            "milter: fastest run: no milter %.1f msgs/s, sendguard-milter %.1f msgs/s, ratio "
            "%.2f\n",
            best[0], best[1], best[1] / best[0]);
        const double cpu = cpu_seconds(milter) - cpu_before;
        std::printf(
            "milter: sendguard-milter CPU %.3f ms per message (user + system, %d messages)\n",
            cpu * 1e3 / n[1], n[1]);
        const std::string log = read_file(dir + "/milter.err");
        const size_t decided = count_of(log, "stage=eom") - eom_before;
        const size_t verp = count_of(log, "action=verp") - verp_before;
        const size_t want = static_cast<size_t>(messages) * static_cast<size_t>(rounds);
        std::printf(
            "milter: sendguard-milter RSS %.1f MB after the runs (peak %.1f MB); "
            "%zu of %zu messages decided at end of message%s, %zu rewritten to VERP\n",
            proc_kb(milter, "VmRSS") / 1024.0, proc_kb(milter, "VmHWM") / 1024.0, decided, want,
            decided == want ? "" : " (MISSING)", verp);
        complete = complete && decided == want;
        std::fflush(stdout);
        status = complete ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "milter: %s\n", e.what());
    }
    if (started) run({kPostfix, "-c", dir + "/postfix", "stop"}, dir + "/postfix.out");
    stop(milter);
    stop(sink);
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: bench_milter BIN_DIR [messages] [rounds] [recipients]\n", stderr);
        return 2;
    }
    const int messages = argc > 2 ? std::atoi(argv[2]) : 2000;
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    const int recipients = argc > 4 ? std::atoi(argv[4]) : 2;
    if (messages < 1 || rounds < 1 || recipients < 1) {
        std::fputs("bench_milter: messages, rounds and recipients must be at least 1\n", stderr);
        return 2;
    }
    if (::geteuid() != 0 || ::access(kPostfix, X_OK) != 0 || ::access(kSink, X_OK) != 0 ||
        ::access(kSource, X_OK) != 0) {
        std::fputs(
            "milter: skipped: needs root and Debian's postfix package (postfix, smtp-sink, "
            "smtp-source)\n",
            stderr);
        return 77;
    }
    char tmpl[] = "/tmp/sg-bench-milter-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (!made) return 1;
    const std::string dir = made;
    ::chmod(dir.c_str(), 0755);
    int status = 1;
    try {
        status = bench(argv[1], dir, messages, rounds, recipients);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "milter: %s\n", e.what());
    }
    if (status == 0 && !std::getenv("SG_BENCH_KEEP"))
        std::filesystem::remove_all(dir);
    else
        std::fprintf(stderr, "milter: files kept in %s\n", dir.c_str());
    return status;
}
