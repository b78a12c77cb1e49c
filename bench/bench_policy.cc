// bench_policy.cc - Postfix policy delegation load: sendguard against postfwd
//
// Usage: bench_policy [seconds-per-measurement [bin-dir]]
//        (default 2 seconds, at most 30; bin-dir holds sendguard-policyd,
//        default ./bin)
//
// A load generator that speaks to a policy server as Postfix's smtpd does:
// persistent connections, one request per round trip on each, realistic
// requests carrying every attribute Postfix 3.7 sends (FACTS.md): on each
// connection a message's RCPT request, then its END-OF-MESSAGE request
// (same instance, one per message), with the SASL login cycling over 1000
// users. Both count as decisions. Decisions per second and the p50
// and p99 latency (send of a request to the end of its reply) are measured
// at 1, 10 and 100 connections against three servers, each a process of
// its own on a free 127.0.0.1 port:
//   postfwd     Debian's postfwd2, started in a temporary directory with the
//               rule  id=R1; action=rate(sasl_username/600/3600/defer_if_permit
//               rate exceeded)  (the baseline; its own pre-forked processes,
//               not pinned);
//   policyd     sendguard-policyd with policyd_policy_listen and
//               policyd_rate_rules (rule  r1 key=sasl_username 600/h burst 600),
//               when the build's daemon has the policy service (otherwise
//               its start-up error is printed and the row is skipped);
//   codec-only  a child of this program running net::StreamServer with
//               policy::PolicyProtocol and a trivial handler (DUNNO): the
//               cost of the event loop and the codec, no policy logic.
// sendguard's servers are pinned to CPU 0 (sched_setaffinity on every
// thread), the load generator to CPU 1, when there are two CPUs. Closed
// loop (the next request as soon as the reply is in) measures capacity, and
// at 100 connections the latency is then that of a queue of 100 requests;
// the row "100p" paces 100 connections at half that capacity, each at an
// even interval, as smtpd processes below saturation do. Then each
// sendguard server gets requests over 10 connections from 10^5 distinct
// logins and senders, each once (what it holds for them), then 10^6 more
// from the same senders; its resident memory (VmRSS) is read at the start,
// after the first pass and at the end (flat: the end is the first pass).
// "cpu us/d" is the server's CPU time (user + system, all its processes)
// per decision: unlike decisions/s it does not depend on what else the
// machine runs, and 10^6 / it is the rate one dedicated core would give.
// Targets (issue 9): >= 50x postfwd's decisions/s at 10 connections; p99
// < 0.5 ms at 100 connections on one core; memory flat over 10^6 requests.
// Absolute numbers vary between runs and machines; compare the ratios.
// Exit status: 0; 1 when a reply was malformed, a connection failed or a
// server could not be started (postfwd2 or sendguard-policyd missing is
// reported, not an error).
#include "common/log/log.h"
#include "common/net/endpoint.h"
#include "common/net/event_loop.h"
#include "common/net/listener.h"
#include "common/net/stream_server.h"
#include "common/policy/protocol.h"
#include "common/policy/request.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <sched.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool g_failed = false;

// ---- latency histogram: fixed size, ~1% resolution from 1 us to 100 s --

class Histogram {
public:
    void add(Clock::duration d) {
        const double us = std::chrono::duration<double, std::micro>(d).count();
        size_t b = us <= 1 ? 0 : static_cast<size_t>(std::log(us) / kLogStep) + 1;
        if (b >= kBuckets) b = kBuckets - 1;
        ++buckets_[b];
        ++count_;
    }
    // The q-quantile in milliseconds (upper edge of its bucket).
    double quantile_ms(double q) const {
        if (count_ == 0) return 0;
        const uint64_t want = static_cast<uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
        uint64_t seen = 0;
        for (size_t b = 0; b < kBuckets; ++b) {
            seen += buckets_[b];
            if (seen >= want) return std::exp(static_cast<double>(b) * kLogStep) / 1000;
        }
        return std::exp(static_cast<double>(kBuckets) * kLogStep) / 1000;
    }

private:
    static constexpr double kLogStep = 0.00995;  // log(1.01)
    static constexpr size_t kBuckets = 1900;     // 1.01^1900 us: about 160 s
    std::vector<uint64_t> buckets_ = std::vector<uint64_t>(kBuckets);
    uint64_t count_ = 0;
};

// ---- requests -----------------------------------------------------------

// Postfix 3.7 requests, in its attribute order, for one message: RCPT,
// then END-OF-MESSAGE with the same instance (check_policy_service in
// smtpd_recipient_restrictions and smtpd_end_of_data_restrictions, as
// sendguard-policyd(8) asks). The message number picks the login and
// sender (cycling over `users`), the recipient and the instance, so every
// message is a transaction of its own.
class RequestSource {
public:
    explicit RequestSource(uint64_t users) : users_(users) {}
    void build(uint64_t msg, bool end_of_message, std::string& out) const {
        const std::string u = "u" + std::to_string(msg % users_);
        const std::string n = std::to_string(msg);
        out.clear();
        out += end_of_message ? "request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\n"
                              : "request=smtpd_access_policy\nprotocol_state=RCPT\n";
        out += "protocol_name=ESMTP\n"
               "client_address=192.0.2.10\nclient_name=mail.example.com\nclient_port=50312\n"
               "reverse_client_name=mail.example.com\nserver_address=192.0.2.1\nserver_port=587\n"
               "helo_name=mail.example.com\nsender=";
        out += u;
        out += "@customer.example\nrecipient=r";
        out += n;
        out += end_of_message ? "@example.net\nrecipient_count=1\nqueue_id=4Q" + n
                              : "@example.net\nrecipient_count=0\nqueue_id=";
        out += "\ninstance=1b3.6566d1e2.";
        out += n;
        out += end_of_message ? ".0\nsize=2048\n" : ".0\nsize=0\n";
        out += "etrn_domain=\nstress=\nsasl_method=PLAIN\nsasl_username=";
        out += u;
        out += "\nsasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
               "ccert_pubkey_fingerprint=\nencryption_protocol=TLSv1.3\n"
               "encryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\n"
               "policy_context=submission\n\n";
    }

private:
    uint64_t users_;
};

// ---- the load generator -------------------------------------------------

struct LoadResult {
    uint64_t decisions = 0;      // counted ones (after the warm-up)
    uint64_t all_decisions = 0;  // with the warm-up
    double seconds = 0;
    double p50_ms = 0, p99_ms = 0;
    std::map<std::string, uint64_t> actions;  // first word of the action
    std::string error;
    double rate() const { return seconds > 0 ? static_cast<double>(decisions) / seconds : 0; }
};

void set_nonblocking(int fd) {
    const int fl = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

// conns connections, at most one request outstanding on each, until
// `duration` has passed or `total` requests were sent (0: no count limit).
// Closed loop (rate 0): the next request goes as soon as the reply is in,
// which measures capacity (the latency then is the queue of conns
// requests). Paced (rate > 0 requests/s in all): each connection sends
// at its own even interval, as smtpd processes do below capacity, and the
// latency is the server's answer time at that load. With a warm-up, the
// first `warmup` of the time is run but not counted (every connection
// accepted, pre-forked servers spawned, caches warm).
struct LoadSpec {
    size_t conns = 1;
    std::chrono::duration<double> duration{1};
    uint64_t total = 0;
    uint64_t first_index = 0;
    std::chrono::duration<double> warmup{0};
    double rate = 0;
};

LoadResult run_load(const net::Endpoint& ep, const LoadSpec& spec, const RequestSource& src) {
    struct Conn {
        sys::Fd fd;
        std::string rbuf;
        Clock::time_point sent{};
        Clock::time_point due{};
        bool busy = false;
        uint64_t msg = 0;          // the message of the last request
        bool rcpt_sent = false;    // its END-OF-MESSAGE comes next
    };
    const size_t conns = spec.conns;
    LoadResult res;
    Histogram hist;
    std::vector<Conn> cs(conns);
    sys::Fd ep_fd(::epoll_create1(EPOLL_CLOEXEC));
    try {
        for (size_t i = 0; i < conns; ++i) {
            cs[i].fd = net::connect_endpoint(ep, 10s);
            set_nonblocking(cs[i].fd.get());
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = i;
            ::epoll_ctl(ep_fd.get(), EPOLL_CTL_ADD, cs[i].fd.get(), &ev);
        }
    } catch (const std::exception& e) {
        res.error = e.what();
        return res;
    }
    std::string req;
    uint64_t next = spec.first_index, sent = 0;
    const auto launch = Clock::now();
    const auto start = launch + std::chrono::duration_cast<Clock::duration>(spec.warmup);
    const auto end = start + std::chrono::duration_cast<Clock::duration>(spec.duration);
    const bool paced = spec.rate > 0;
    const auto interval = paced ? std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(static_cast<double>(conns) /
                                                                    spec.rate))
                                : Clock::duration{};
    auto send_next = [&](Conn& c) -> bool {
        if (!c.rcpt_sent) c.msg = next++;
        src.build(c.msg, c.rcpt_sent, req);
        c.rcpt_sent = !c.rcpt_sent;
        size_t off = 0;
        while (off < req.size()) {
            const ssize_t n = ::send(c.fd.get(), req.data() + off, req.size() - off, MSG_NOSIGNAL);
            if (n > 0) {
                off += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            return false;
        }
        c.sent = Clock::now();
        c.busy = true;
        ++sent;
        return true;
    };
    for (size_t i = 0; i < conns; ++i)
        cs[i].due = launch + interval * static_cast<long>(i) / static_cast<long>(conns);
    size_t busy = 0;
    bool stopping = false;
    auto last_progress = launch;
    std::vector<epoll_event> evs(conns);
    char buf[65536];
    for (;;) {
        auto now = Clock::now();
        if (!stopping && (now >= end || (spec.total != 0 && sent >= spec.total))) stopping = true;
        if (stopping && busy == 0) break;
        if (!stopping) {
            for (auto& c : cs) {
                if (c.busy || c.due > now) continue;
                if (!send_next(c)) {
                    res.error = "send failed";
                    return res;
                }
                ++busy;
                if (paced) c.due = std::max(c.due + interval, now);
            }
        }
        // Paced: poll without sleeping, so a send is never late by a
        // scheduler tick (the load generator has its own CPU).
        const int n = ::epoll_wait(ep_fd.get(), evs.data(), static_cast<int>(evs.size()),
                                   paced ? 0 : 10000);
        if (n < 0 && errno == EINTR) continue;
        now = Clock::now();
        if (n <= 0) {
            if (busy > 0 && now - last_progress > 10s) {
                res.error = "no reply within 10s";
                break;
            }
            continue;
        }
        last_progress = now;
        for (int k = 0; k < n; ++k) {
            Conn& c = cs[evs[k].data.u64];
            const ssize_t got = ::recv(c.fd.get(), buf, sizeof buf, 0);
            if (got <= 0) {
                if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                res.error = got == 0 ? "server closed a connection" : std::strerror(errno);
                return res;
            }
            c.rbuf.append(buf, static_cast<size_t>(got));
            const auto r = policy::decode_reply(c.rbuf, 1 << 16);
            if (r.status == policy::DecodeStatus::NeedMore) continue;
            if (r.status == policy::DecodeStatus::Error || r.consumed != c.rbuf.size()) {
                res.error = "bad reply: " + logging::printable(c.rbuf, 100);
                return res;
            }
            ++res.all_decisions;
            if (c.sent >= start) {
                hist.add(now - c.sent);
                ++res.decisions;
                ++res.actions[std::string(r.action.substr(0, r.action.find(' ')))];
            }
            c.rbuf.clear();
            c.busy = false;
            --busy;
            if (!paced) c.due = now;  // closed loop: the next one at once
        }
    }
    res.seconds = std::chrono::duration<double>(Clock::now() - std::max(start, launch)).count();
    res.p50_ms = hist.quantile_ms(0.50);
    res.p99_ms = hist.quantile_ms(0.99);
    return res;
}

// ---- processes ----------------------------------------------------------

uint16_t free_port() {
    sys::Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("bind 127.0.0.1:0 failed");
    socklen_t len = sizeof a;
    ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

net::Endpoint inet_endpoint(uint16_t port) {
    return *net::parse_endpoint("inet:127.0.0.1:" + std::to_string(port)).endpoint;
}

bool alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

// Reaps pid if it is our child; true once it is gone.
bool gone(pid_t pid, bool child) {
    if (child) {
        int st = 0;
        const pid_t r = ::waitpid(pid, &st, WNOHANG);
        return r == pid || (r < 0 && errno == ECHILD);
    }
    return !alive(pid);
}

bool wait_listening(const net::Endpoint& ep, pid_t pid, bool child, std::chrono::seconds limit) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        try {
            net::connect_endpoint(ep, 1s);
            return true;
        } catch (const std::exception&) {
        }
        if (pid > 0 && gone(pid, child)) return false;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

void stop_process(pid_t pid, bool child) {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    const auto end = Clock::now() + 10s;
    while (Clock::now() < end && !gone(pid, child)) std::this_thread::sleep_for(20ms);
    if (!gone(pid, child)) {
        ::kill(pid, SIGKILL);
        if (child) ::waitpid(pid, nullptr, 0);
    }
}

// A /proc/PID/status figure in KiB ("VmRSS:", "RssAnon:"), -1 if absent.
long status_kib(pid_t pid, const char* field) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
    return -1;
}

// CPU seconds (user + system, with reaped children) of pid, or of every
// process in the session pid leads (postfwd2's master, its cache daemon and
// its pre-forked children: it calls setsid).
double cpu_seconds(pid_t pid, bool session) {
    auto read_stat = [](const std::string& path, long& sid, double& ticks) {
        std::ifstream f(path);
        std::string line;
        if (!std::getline(f, line)) return false;
        const size_t rp = line.rfind(')');
        if (rp == std::string::npos) return false;
        std::istringstream in(line.substr(rp + 2));
        std::string field;
        std::vector<std::string> v;
        while (in >> field && v.size() < 15) v.push_back(field);
        if (v.size() < 15) return false;
        // v[0] is field 3 (state): session is field 6, utime..cstime 14..17.
        sid = std::stol(v[3]);
        ticks = std::stod(v[11]) + std::stod(v[12]) + std::stod(v[13]) + std::stod(v[14]);
        return true;
    };
    const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    long sid = 0;
    double ticks = 0, total = 0;
    if (!session) return read_stat("/proc/" + std::to_string(pid) + "/stat", sid, ticks) ? ticks / hz : 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        const std::string name = e.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (read_stat(e.path().string() + "/stat", sid, ticks) && sid == pid) total += ticks;
    }
    return total / hz;
}

bool pin_cpu(pid_t pid_or_tid, int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return ::sched_setaffinity(pid_or_tid, sizeof set, &set) == 0;
}

// Every thread of pid onto cpu.
bool pin_process(pid_t pid, int cpu) {
    bool ok = true;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
        ok = pin_cpu(static_cast<pid_t>(std::stol(e.path().filename().string())), cpu) && ok;
    return ok && !ec;
}

std::string first_line(const std::string& path) {
    std::ifstream f(path);
    std::string all, line;
    while (std::getline(f, line))
        if (!line.empty()) all = line;  // the last non-empty line says why
    return all;
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + path);
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& out_path, int cpu) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        if (cpu >= 0) pin_cpu(0, cpu);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

struct Server {
    std::string name;
    net::Endpoint ep;
    pid_t pid = -1;     // the process whose memory is measured
    bool child = true;  // pid is our child (waitpid) or a daemon's
    std::string skip;   // why it was not started
};

class TempDir {
public:
    TempDir() {
        std::string t = (fs::temp_directory_path() / "sg-bench-policy-XXXXXX").string();
        if (!::mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
        path_ = t;
        fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string& n) const { return path_ + "/" + n; }

private:
    std::string path_;
};

// postfwd2 daemonises itself (its pid file tells the master's pid).
Server start_postfwd(const TempDir& dir) {
    Server s;
    s.name = "postfwd";
    const std::string bin = "/usr/sbin/postfwd2";
    if (::access(bin.c_str(), X_OK) != 0) {
        s.skip = "postfwd2 not installed (scripts/deps.sh installs postfwd)";
        return s;
    }
    write_text(dir.file("postfwd.rules"),
               "id=R1; action=rate(sasl_username/600/3600/defer_if_permit rate exceeded)\n");
    const uint16_t port = free_port();
    s.ep = inet_endpoint(port);
    std::vector<std::string> argv = {bin,  "--daemon", "--file", dir.file("postfwd.rules"),
                                     "--interface", "127.0.0.1", "--port", std::to_string(port),
                                     "--pidfile", dir.file("postfwd.pid"), "--nodns", "--perfmon",
                                     // A child ready for each connection (100 at most here).
                                     "--min_servers", "110", "--max_servers", "120"};
    if (::geteuid() == 0) {
        // Its default user and group (nobody/nobody) do not both exist on
        // Debian; nogroup is Debian's.
        for (const char* a : {"--user", "nobody", "--group", "nogroup"}) argv.push_back(a);
    }
    const pid_t launcher = spawn(argv, dir.file("postfwd.out"), -1);
    int st = 0;
    ::waitpid(launcher, &st, 0);
    const auto end = Clock::now() + 10s;
    while (Clock::now() < end) {
        std::ifstream f(dir.file("postfwd.pid"));
        if (f >> s.pid) break;
        std::this_thread::sleep_for(50ms);
    }
    s.child = false;
    if (s.pid <= 0 || !wait_listening(s.ep, s.pid, false, 10s)) {
        s.skip = "postfwd2 did not start: " + first_line(dir.file("postfwd.out"));
        g_failed = true;
        stop_process(s.pid, false);
        s.pid = -1;
    }
    return s;
}

Server start_policyd(const TempDir& dir, const std::string& bin_dir, int cpu) {
    Server s;
    s.name = "policyd";
    const std::string bin = bin_dir + "/sendguard-policyd";
    if (::access(bin.c_str(), X_OK) != 0) {
        s.skip = bin + " not built";
        return s;
    }
    const uint16_t port = free_port();
    s.ep = inet_endpoint(port);
    write_text(dir.file("rate_rules"), "r1 key=sasl_username 600/h burst 600\n");
    fs::create_directories(dir.file("lib"));
    write_text(dir.file("sendguard.conf"),
               "state_directory = " + dir.file("lib") + "\nrun_directory = " + dir.file("") +
                   "\npolicyd_user = root\nlog_target = file:" + dir.file("policyd.log") +
                   "\npolicyd_socketmap_listen = unix:" + dir.file("socketmap.sock") +
                   "\npolicyd_policy_listen = inet:127.0.0.1:" + std::to_string(port) +
                   "\npolicyd_rate_rules = " + dir.file("rate_rules") +
                   // MX lookups of the recipients' domains go to a closed
                   // loopback port (answered at once: the domain itself),
                   // never to the machine's resolver.
                   "\ndns_servers = 127.0.0.1:9\n");
    s.pid = spawn({bin, "-c", dir.file("sendguard.conf")}, dir.file("policyd.out"), cpu);
    if (!wait_listening(s.ep, s.pid, true, 10s)) {
        s.skip = "sendguard-policyd has no policy service yet: " + first_line(dir.file("policyd.out"));
        stop_process(s.pid, true);
        s.pid = -1;
        return s;
    }
    if (cpu >= 0) pin_process(s.pid, cpu);
    return s;
}

// The codec-only server: a forked child of this (still single-threaded)
// process, so its memory and CPU are its own.
Server start_codec_server(int cpu) {
    Server s;
    s.name = "codec-only";
    int pfd[2];
    if (::pipe(pfd) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::close(pfd[0]);
        try {
            if (cpu >= 0) pin_cpu(0, cpu);
            logging::open("bench_policy", logging::Sink::None);
            net::EventLoop loop;
            loop.handle_signals([] {});
            const policy::Limits limits{.max_line = 4096, .max_attributes = 100,
                                        .max_request = 65536};
            uint64_t seen = 0;
            net::StreamServer server(
                loop, "policy",
                policy::policy_factory(
                    [&seen](const net::Peer&, const policy::Request& req) {
                        seen += req.sasl_username().size() + req.recipient().size();
                        return std::string("DUNNO");
                    },
                    limits, policy::Options{.error_action = "DUNNO"}),
                net::ServerLimits{.max_connections = 1000,
                                  .max_connections_per_peer = 1000,
                                  .max_input = policy::server_max_input(limits),
                                  .idle_timeout = 300s,
                                  .request_timeout = 10s});
            auto l = net::Listener::open(*net::parse_endpoint("inet:127.0.0.1:0").endpoint,
                                         net::ListenOptions{.unix_mode = 0600,
                                                            .unix_group = static_cast<gid_t>(-1)});
            const uint16_t port = l.bound().port;
            server.add_listener(std::move(l));
            if (::write(pfd[1], &port, sizeof port) != sizeof port) ::_exit(1);
            ::close(pfd[1]);
            loop.run();
            ::_exit(0);
        } catch (...) {
            ::_exit(1);
        }
    }
    ::close(pfd[1]);
    uint16_t port = 0;
    const ssize_t n = ::read(pfd[0], &port, sizeof port);
    ::close(pfd[0]);
    s.pid = pid;
    if (n != sizeof port) {
        s.skip = "the in-process server did not start";
        g_failed = true;
        stop_process(pid, true);
        s.pid = -1;
        return s;
    }
    s.ep = inet_endpoint(port);
    return s;
}

std::string actions_str(const LoadResult& r) {
    std::string s;
    for (const auto& [a, n] : r.actions) s += (s.empty() ? "" : " ") + a + "=" + std::to_string(n);
    return s;
}

// The rows key for 100 connections paced at half capacity.
constexpr size_t kPaced = 1000000;

struct Row {
    double rate = 0, p50 = 0, p99 = 0;
    bool ok = false;
    double cpu_us = 0;  // server CPU time per decision
};

int run(double seconds, const std::string& bin_dir) {
    logging::open("bench_policy", logging::Sink::None);
    const int ncpu = static_cast<int>(std::thread::hardware_concurrency());
    const int server_cpu = ncpu >= 2 ? 0 : -1;
    const int client_cpu = ncpu >= 2 ? 1 : -1;
    TempDir dir;
    const RequestSource src(1000);
    const size_t levels[] = {1, 10, 100};
    std::map<std::string, std::map<size_t, Row>> rows;

    std::printf("policy delegation, %zu-attribute RCPT + END-OF-MESSAGE requests, one per round trip per connection, "
                "%.1fs per measurement\n",
                static_cast<size_t>(29), seconds);
    std::printf("sendguard servers on CPU %d, load generator on CPU %d (-1: not pinned); "
                "load average %s\n\n",
                server_cpu, client_cpu, first_line("/proc/loadavg").c_str());

    // The codec-only server forks before this process has threads.
    std::vector<Server> servers;
    servers.push_back(start_codec_server(server_cpu));
    if (client_cpu >= 0) pin_cpu(0, client_cpu);
    servers.push_back(start_postfwd(dir));
    servers.push_back(start_policyd(dir, bin_dir, server_cpu));

    std::printf("%-11s %6s %12s %9s %9s %9s  %s\n", "server", "conns", "decisions/s", "p50 ms",
                "p99 ms", "cpu us/d", "actions");
    for (const Server& s : servers) {
        if (s.pid <= 0) {
            std::printf("%-11s %s\n", s.name.c_str(), ("not measured: " + s.skip).c_str());
            continue;
        }
        const bool session = !s.child;
        for (const size_t c : levels) {
            const double cpu0 = cpu_seconds(s.pid, session);
            const LoadResult r = run_load(
                s.ep, LoadSpec{.conns = c, .duration = std::chrono::duration<double>(seconds),
                               .warmup = std::chrono::duration<double>(seconds / 4)},
                src);
            const double cpu1 = cpu_seconds(s.pid, session);
            if (!r.error.empty()) {
                std::printf("%-11s %6zu error: %s\n", s.name.c_str(), c, r.error.c_str());
                g_failed = true;
                continue;
            }
            const double cpu_us =
                r.all_decisions ? (cpu1 - cpu0) * 1e6 / static_cast<double>(r.all_decisions) : 0;
            rows[s.name][c] = Row{r.rate(), r.p50_ms, r.p99_ms, true, cpu_us};
            std::printf("%-11s %6zu %12.0f %9.3f %9.3f %9.1f  %s\n", s.name.c_str(), c, r.rate(),
                        r.p50_ms, r.p99_ms, cpu_us, actions_str(r).c_str());
        }
        // 100 connections paced at half the capacity just measured.
        if (!rows[s.name].count(100)) continue;
        const double rate = rows[s.name][100].rate / 2;
        const LoadResult r = run_load(
            s.ep, LoadSpec{.conns = 100, .duration = std::chrono::duration<double>(seconds),
                           .warmup = std::chrono::duration<double>(seconds / 4), .rate = rate},
            src);
        if (!r.error.empty()) {
            std::printf("%-11s %6s error: %s\n", s.name.c_str(), "100p", r.error.c_str());
            g_failed = true;
            continue;
        }
        rows[s.name][kPaced] = Row{r.rate(), r.p50_ms, r.p99_ms, true, 0};
        std::printf("%-11s %6s %12.0f %9.3f %9.3f %9s  %s (paced at %.0f/s)\n", s.name.c_str(),
                    "100p", r.rate(), r.p50_ms, r.p99_ms, "-", actions_str(r).c_str(), rate);
    }

    // Memory: 10^5 distinct logins and senders once (their rate state is
    // what a server must keep for the rule's hour), then 10^6 requests more
    // from the same senders: flat means the second figure does not grow.
    std::printf("\nmemory: 10^5 distinct logins/senders, then 10^6 requests more from them, "
                "10 connections\n");
    std::printf("%-11s %12s %14s %12s %12s %12s  %s\n", "server", "RSS start", "10^5 senders",
                "after 10^6", "delta KiB", "decisions/s", "anonymous RSS (heap): 10^5 senders, after, delta");
    const RequestSource many(100000);
    std::map<std::string, long> delta, delta_anon;
    for (const Server& s : servers) {
        if (s.pid <= 0 || s.name == "postfwd") continue;  // postfwd: ~2 h at its rate
        const long start = status_kib(s.pid, "VmRSS:");
        // Every sender once: 10^5 messages, 2 * 10^5 requests.
        const LoadResult w = run_load(
            s.ep, LoadSpec{.conns = 10, .duration = 600s, .total = 200000, .first_index = 5000000},
            many);
        const long before = status_kib(s.pid, "VmRSS:"), anon_before = status_kib(s.pid, "RssAnon:");
        const LoadResult r = run_load(
            s.ep, LoadSpec{.conns = 10, .duration = 600s, .total = 1000000, .first_index = 10000000},
            many);
        const long after = status_kib(s.pid, "VmRSS:"), anon_after = status_kib(s.pid, "RssAnon:");
        if (!w.error.empty() || !r.error.empty()) {
            std::printf("%-11s error: %s\n", s.name.c_str(), (w.error + " " + r.error).c_str());
            g_failed = true;
            continue;
        }
        delta[s.name] = after - before;
        delta_anon[s.name] = anon_after - anon_before;
        std::printf("%-11s %8ld KiB %10ld KiB %8ld KiB %12ld %12.0f  %ld KiB, %ld KiB, %+ld KiB\n",
                    s.name.c_str(), start, before, after, after - before, r.rate(), anon_before,
                    anon_after, anon_after - anon_before);
    }

    for (const Server& s : servers) stop_process(s.pid, s.child);

    // Ratios and targets.
    std::printf("\n");
    const auto& pf = rows["postfwd"];
    for (const char* name : {"policyd", "codec-only"}) {
        const auto& me = rows[name];
        for (const size_t c : levels) {
            if (!pf.count(c) || !me.count(c)) continue;
            std::printf("%-11s / postfwd at %3zu connections: %8.1fx decisions/s, "
                        "%8.1fx less server CPU per decision\n",
                        name, c, me.at(c).rate / pf.at(c).rate,
                        me.at(c).cpu_us > 0 ? pf.at(c).cpu_us / me.at(c).cpu_us : 0.0);
        }
    }
    auto verdict = [](bool ok) { return ok ? "met" : "NOT met"; };
    for (const char* name : {"policyd", "codec-only"}) {
        const auto& me = rows[name];
        const std::string label = std::string(name) == "codec-only" ? " (codec-only figure)" : "";
        if (me.count(10) && pf.count(10))
            std::printf("target >= 50x postfwd at 10 connections, %s%s: %.1fx decisions/s, %s; "
                        "%.1fx by CPU per decision (%.0f/s on one dedicated core)\n",
                        name, label.c_str(), me.at(10).rate / pf.at(10).rate,
                        verdict(me.at(10).rate >= 50 * pf.at(10).rate),
                        me.at(10).cpu_us > 0 ? pf.at(10).cpu_us / me.at(10).cpu_us : 0.0,
                        me.at(10).cpu_us > 0 ? 1e6 / me.at(10).cpu_us : 0.0);
        else
            std::printf("target >= 50x postfwd at 10 connections, %s: not measured\n", name);
        if (me.count(100))
            std::printf("target p99 < 0.5 ms at 100 connections on one core, %s%s: "
                        "closed loop %.3f ms, %s; paced at half capacity %.3f ms, %s\n",
                        name, label.c_str(), me.at(100).p99, verdict(me.at(100).p99 < 0.5),
                        me.count(kPaced) ? me.at(kPaced).p99 : -1.0,
                        verdict(me.count(kPaced) && me.at(kPaced).p99 < 0.5));
        if (delta.count(name))
            std::printf("target memory flat over 10^6 requests, %s%s: %+ld KiB resident, "
                        "%+ld KiB of it anonymous (heap; the rest is mapped files: the store)\n",
                        name, label.c_str(), delta.at(name), delta_anon.at(name));
    }
    if (g_failed) std::printf("error: a measurement failed (see above)\n");
    return g_failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it is measured, also into a file
    double seconds = 2;
    std::string bin_dir = "bin";
    if (argc > 1) {
        char* end = nullptr;
        seconds = std::strtod(argv[1], &end);
        if (*end != '\0' || !(seconds > 0 && seconds <= 30)) {
            std::fprintf(stderr, "usage: bench_policy [seconds-per-measurement (0-30] [bin-dir]]\n");
            return 2;
        }
    }
    if (argc > 2) bin_dir = argv[2];
    try {
        return run(seconds, bin_dir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_policy: %s\n", e.what());
        return 1;
    }
}
