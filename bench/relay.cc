// relay.cc - see relay.h
#include "bench/relay.h"

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
#include <iterator>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bench {
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
constexpr const char* kSampleRecipient = "sample@verify.example";

// Postfix programs re-read a config file younger than ~2 s in naps; an
// older mtime saves seconds at start.
void backdate(const std::string& path) {
    struct utimbuf t {};
    t.actime = t.modtime = ::time(nullptr) - 60;
    ::utime(path.c_str(), &t);
}

int wait_exit(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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
discard   unix  -  -  n  -     0  discard
anvil     unix  -  -  n  -     1  anvil
scache    unix  -  -  n  -     1  scache
postlog   unix-dgram n - n -   1  postlogd
)";

// One smtpd listener per variant; everything relays to the sink, nothing
// is delivered locally. milter_protocol 6 is what libmilter speaks. The
// milter macro lists are Postfix's defaults: a milter that asks for its
// own (SMFIF_SETSYMLIST, as sendguard-milter does) gets only those.
void write_postfix_config(const std::string& dir, const Users& u, const std::vector<Variant>& variants,
                          const std::vector<uint16_t>& ports, const std::string& nexthop,
                          const std::string& sample_nexthop) {
    const std::string cf = dir + "/postfix";
    make_dir(cf, 0755);
    make_dir(dir + "/queue", 0755);  // root's: postfix start makes the rest
    make_dir(dir + "/data", 0700, u.postfix_uid);
    write_file(cf + "/main.cf", lines({"compatibility_level = 3.6", "queue_directory = " + dir + "/queue",
                                       "data_directory = " + dir + "/data", "mail_owner = postfix",
                                       "setgid_group = postdrop", "inet_interfaces = 127.0.0.1",
                                       "inet_protocols = ipv4", "myhostname = mx.sendguard.test",
                                       "mydestination =", "local_recipient_maps =", "alias_maps =",
                                       "alias_database =", "mynetworks = 127.0.0.0/8", "relayhost = " + nexthop,
                                       "biff = no", "delay_warning_time = 0h", "maillog_file = " + dir + "/maillog",
                                       "maillog_file_prefixes = " + dir, "milter_protocol = 6",
                                       "transport_maps = inline:{" + std::string(kSampleRecipient) +
                                           "=smtp:" + sample_nexthop + "}",
                                       "milter_default_action = tempfail"}));
    std::string master;
    for (size_t i = 0; i < variants.size(); ++i) {
        master += "127.0.0.1:" + std::to_string(ports[i]) + " inet n - n - - smtpd\n";
        if (!variants[i].milters.empty()) master += "  -o smtpd_milters=" + variants[i].milters + "\n";
        // Values with spaces: master.cf's "-o { name = value }" form.
        if (!variants[i].recipient_restrictions.empty())
            master += "  -o { smtpd_recipient_restrictions = " + variants[i].recipient_restrictions + " }\n";
        if (!variants[i].end_of_data_restrictions.empty())
            master += "  -o { smtpd_end_of_data_restrictions = " + variants[i].end_of_data_restrictions + " }\n";
    }
    write_file(cf + "/master.cf", master + kServices);
    backdate(cf + "/main.cf");
    backdate(cf + "/master.cf");
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t k = v.size();
    return k == 0 ? 0 : k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

}  // namespace

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what);
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path, std::ios::trunc) << text;
    if (::chmod(path.c_str(), mode) != 0) fail("chmod " + path + ": " + std::strerror(errno));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void make_dir(const std::string& path, mode_t mode, uid_t uid, gid_t gid) {
    if (::mkdir(path.c_str(), mode) != 0 || ::chmod(path.c_str(), mode) != 0 ||
        ::chown(path.c_str(), uid, gid) != 0)
        fail("mkdir " + path + ": " + std::strerror(errno));
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
        int fd = ::open(out.empty() ? "/dev/null" : out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
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

bool wait_for_file(const std::string& path, int seconds) {
    for (auto end = Clock::now() + std::chrono::seconds(seconds); Clock::now() < end;
         std::this_thread::sleep_for(20ms))
        if (::access(path.c_str(), F_OK) == 0) return true;
    return false;
}

long proc_kb(pid_t pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
    return 0;
}

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

std::string lines(std::initializer_list<std::string> l) {
    std::string s;
    for (const auto& line : l) s += line + "\n";
    return s;
}

Users users() {
    // getpwnam's result lives until the next call: copy it at once.
    Users u{};
    const passwd* p = ::getpwnam("sendguard");
    bool found = p != nullptr;
    if (p) u.sendguard_uid = p->pw_uid, u.sendguard_gid = p->pw_gid;
    p = ::getpwnam("postfix");
    found = found && p != nullptr;
    if (p) u.postfix_uid = p->pw_uid, u.postfix_gid = p->pw_gid;
    if (!found || !::getpwnam("nobody") || !::getgrnam("postdrop"))
        fail("needs users sendguard, postfix, nobody and group postdrop (postfix package, scripts/install.sh)");
    return u;
}

bool can_run(const char* tag) {
    if (::geteuid() == 0 && ::access(kPostfix, X_OK) == 0 && ::access(kSink, X_OK) == 0 &&
        ::access(kSource, X_OK) == 0)
        return true;
    std::fprintf(stderr, "%s: skipped: needs root and Debian's postfix package (postfix, smtp-sink, smtp-source)\n",
                 tag);
    return false;
}

std::string make_run_dir(const char* name, const char* parent) {
    std::string tmpl = std::string(parent) + "/sg-bench-" + name + "-XXXXXX";
    if (!::mkdtemp(tmpl.data())) fail("mkdtemp " + tmpl + ": " + std::strerror(errno));
    ::chmod(tmpl.c_str(), 0755);
    return tmpl;
}

void finish_run_dir(const char* tag, const std::string& dir, int status) {
    if (status == 0 && !std::getenv("SG_BENCH_KEEP"))
        std::filesystem::remove_all(dir);
    else
        std::fprintf(stderr, "%s: files kept in %s\n", tag, dir.c_str());
}

Relay::Relay(std::string dir, const Users& u, std::vector<Variant> variants, Options o)
    : dir_(std::move(dir)), variants_(std::move(variants)), o_(o) {
    const uint16_t sink_port = free_port("127.0.0.2");
    while (ports_.size() < variants_.size()) {
        const uint16_t p = free_port("127.0.0.1");
        if (std::find(ports_.begin(), ports_.end(), p) == ports_.end()) ports_.push_back(p);
    }
    uint16_t sample_port = free_port("127.0.0.2");
    while (sample_port == sink_port) sample_port = free_port("127.0.0.2");
    sink_ = spawn({kSink, "-c", "-u", "nobody", "127.0.0.2:" + std::to_string(sink_port), "256"}, dir_ + "/sink.out");
    const passwd* nobody = ::getpwnam("nobody");
    make_dir(dir_ + "/samples", 0755, nobody ? nobody->pw_uid : 0);
    sample_sink_ = spawn({kSink, "-u", "nobody", "-d", dir_ + "/samples/%H%M%S.",
                          "127.0.0.2:" + std::to_string(sample_port), "16"},
                         dir_ + "/sample-sink.out");
    write_postfix_config(dir_, u, variants_, ports_, "[127.0.0.2]:" + std::to_string(sink_port),
                         "[127.0.0.2]:" + std::to_string(sample_port));
    if (bench::run({kPostfix, "-c", dir_ + "/postfix", "start"}, dir_ + "/postfix.out") != 0) {
        stop(sink_);
        stop(sample_sink_);
        fail("postfix start: " + read_file(dir_ + "/postfix.out"));
    }
    started_ = true;
}

Relay::~Relay() {
    if (started_) bench::run({kPostfix, "-c", dir_ + "/postfix", "stop"}, dir_ + "/postfix.out");
    stop(sink_);
    stop(sample_sink_);
}

std::string Relay::sample(size_t variant) {
    namespace fs = std::filesystem;
    const auto files = [this] {
        std::vector<std::string> f;
        for (const auto& e : fs::directory_iterator(dir_ + "/samples"))
            if (e.is_regular_file()) f.push_back(e.path().string());
        std::sort(f.begin(), f.end());
        return f;
    };
    const std::vector<std::string> before = files();
    if (bench::run({kSource, "-m", "1", "-s", "1", "-l", std::to_string(kBodyBytes), "-f", kSender, "-t",
                    kSampleRecipient, "-M", "load.sendguard.test", "127.0.0.1:" + std::to_string(ports_[variant])},
                   dir_ + "/source.out") != 0)
        return "";
    for (auto end = Clock::now() + 30s; Clock::now() < end; std::this_thread::sleep_for(50ms)) {
        std::vector<std::string> now = files(), added;
        std::set_difference(now.begin(), now.end(), before.begin(), before.end(), std::back_inserter(added));
        if (added.empty()) continue;
        std::this_thread::sleep_for(200ms);  // the sink writes the file until the transaction ends
        return read_file(added.front());
    }
    return "";
}

// One run: smtp-source into the variant's port, timed until the sink has
// them all.
double Relay::measure(size_t variant, int messages, int recipients, bool& complete) {
    const std::string sink_out = dir_ + "/sink.out";
    const auto t0 = Clock::now();
    const int rc = bench::run({kSource, "-m", std::to_string(messages), "-s", std::to_string(kSessions), "-l",
                        std::to_string(kBodyBytes), "-r", std::to_string(recipients), "-f", kSender, "-t", kRecipient,
                        "-M", "load.sendguard.test", "127.0.0.1:" + std::to_string(ports_[variant])},
                       dir_ + "/source.out");
    const bool done = rc == 0 && wait_for_count(sink_out, sunk_ + messages, 300s);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (rc != 0) std::fprintf(stderr, "smtp-source exited %d (see %s/source.out)\n", rc, dir_.c_str());
    sunk_ = sink_count(sink_out);
    complete = complete && done;
    return s;
}

Outcome Relay::run() {
    Outcome o;
    bool warm = true;
    // Warm-up: first connections, process starts and a milter's first
    // store write are not part of any figure.
    for (size_t v = 0; v < variants_.size(); ++v) measure(v, 50, 1, warm);
    if (after_warm_up) after_warm_up();
    o.seconds.assign(variants_.size(), {});
    o.cpu.assign(variants_.size(), 0);
    std::vector<double> cpu_before;
    for (const Variant& v : variants_) cpu_before.push_back(v.process > 0 ? cpu_seconds(v.process) : 0);
    int n = 0;
    for (int r = 0; r < o_.rounds; ++r)
        for (size_t v = 0; v < variants_.size(); ++v) {
            bool complete = true;
            const double s = measure(v, o_.messages, o_.recipients, complete);
            o.seconds[v].push_back(s);
            o.complete = o.complete && complete;
            std::printf("%s: run %d %s: %d msgs in %.2f s, %.1f msgs/s%s\n", o_.tag, ++n, variants_[v].label.c_str(),
                        o_.messages, s, o_.messages / s, complete ? "" : " (INCOMPLETE)");
            std::fflush(stdout);
        }
    for (size_t v = 0; v < variants_.size(); ++v)
        if (variants_[v].process > 0) o.cpu[v] = cpu_seconds(variants_[v].process) - cpu_before[v];
    return o;
}

double summary(const std::vector<Variant>& v, const Outcome& o, size_t base, size_t which,
               double target, const Options& opt) {
    const char* tag = opt.tag;
    std::vector<double> ratios, rates;
    std::string per_round;
    for (size_t r = 0; r < o.seconds[which].size(); ++r) {
        ratios.push_back(o.seconds[base][r] / o.seconds[which][r]);
        rates.push_back(opt.messages / o.seconds[which][r]);
        char b[16];
        std::snprintf(b, sizeof b, " %.2f", ratios.back());
        per_round += b;
    }
    const double ratio = median(ratios);
    std::string against;
    if (target > 0) against = std::string("; target >= ") + std::to_string(target).substr(0, 4) + ": " +
                              (ratio >= target ? "met" : "MISSED");
    std::printf("%s: %s: %.1f msgs/s, ratio %.2f to %s (medians of %zu rounds%s); per round%s\n", tag,
                v[which].label.c_str(), median(rates), ratio, v[base].label.c_str(), ratios.size(), against.c_str(),
                per_round.c_str());
    std::fflush(stdout);
    return ratio;
}

void cpu_summary(const std::vector<Variant>& v, const Outcome& o, size_t which, const Options& opt) {
    if (v[which].process <= 0) return;
    const double n = static_cast<double>(opt.messages) * static_cast<double>(o.seconds[which].size());
    std::printf("%s: %s: CPU %.3f ms per message (user + system, %.0f messages)\n", opt.tag, v[which].label.c_str(),
                o.cpu[which] * 1e3 / n, n);
    std::fflush(stdout);
}

}  // namespace bench
