// bench_pipe - sendguard-bounce delivery latency and peak memory
//
// usage: bench_pipe BIN_DIR [deliveries]
// Runs sendguard-bounce as pipe(8) would (fork, exec, message on stdin),
// each delivery a different VERP-signed recipient with a 5.1.1 DSN, against
// a store in a temporary directory. Measures, per delivery, process start
// to exit after the LMDB commit, and the peak RSS (getrusage of the child).
// Baseline in the same run: the same fork/exec/stdin/wait of /bin/cat, the
// cost of starting any program. Targets: median < 3 ms, RSS < 20 MB.
// Measured twice: with store_sync = yes (the default: each commit is
// flushed to disk, so the figure depends on the disk) and with
// store_sync = no (commits survive process crashes, not power loss).
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/address/verp.h"
#include "common/address/verp_setup.h"

namespace {

struct Run {
    double ms;
    long rss_kb;
    int status;
};

Run spawn(const std::vector<std::string>& argv, const std::string& input) {
    int in[2];
    if (::pipe(in) != 0) std::abort();
    auto t0 = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::close(in[0]);
        ::close(in[1]);
        int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        std::vector<char*> a;
        for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        ::execv(a[0], a.data());
        ::_exit(127);
    }
    ::close(in[0]);
    size_t off = 0;
    while (off < input.size()) {
        ssize_t n = ::write(in[1], input.data() + off, input.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
    ::close(in[1]);
    int status = 0;
    struct rusage ru {};
    ::wait4(pid, &status, 0, &ru);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return {ms, ru.ru_maxrss, status};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

std::string dsn(const std::string& rcpt) {
    return "From: MAILER-DAEMON@relay.example.org\nTo: bounce@bounces.example.org\n"
           "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
           "--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
           "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.example.org\n\n"
           "Final-Recipient: rfc822; " + rcpt + "\nAction: failed\nStatus: 5.1.1\n"
           "Remote-MTA: dns; mx.example.net\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
           "--b\nContent-Type: text/rfc822-headers\n\nFrom: news@example.org\nTo: " + rcpt +
           "\nSubject: news\n\n--b--\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: bench_pipe BIN_DIR [deliveries]\n", stderr);
        return 2;
    }
    std::string bin = std::string(argv[1]) + "/sendguard-bounce";
    int n = argc > 2 ? std::atoi(argv[2]) : 300;
    char tmpl[] = "/tmp/sg-bench-pipe-XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    std::string key = "0123456789abcdef0123456789abcdef";
    {
        std::ofstream(dir + "/verp.keys") << key << "\n";
        std::filesystem::permissions(dir + "/verp.keys", std::filesystem::perms::owner_read |
                                                             std::filesystem::perms::owner_write);
    }
    const address::VerpConfig vc = address::verp_config(config::Config::defaults(), "bounces.example.org");
    address::VerpCodec codec(vc, address::VerpKeys::from_strings({key}));

    int failures = 0;
    for (const char* sync : {"yes", "no"}) {
        std::filesystem::remove_all(dir + "/lib");
        std::ofstream(dir + "/sendguard.conf", std::ios::trunc)
            << "state_directory = " << dir << "/lib\nverp_key_file = " << dir
            << "/verp.keys\nbounce_domains = bounces.example.org\nbounce_event_log = " << dir
            << "/events.jsonl\nstore_sync = " << sync << "\n";
        std::vector<double> ours, base;
        long rss = 0, base_rss = 0;
        int failed = 0;
        for (int i = 0; i < n; ++i) {
            std::string rcpt = "user" + std::to_string(i) + "@example.net";
            std::string to = codec.encode(*address::parse_mailbox(rcpt), {})->address;
            std::string msg = dsn(rcpt);
            auto r = spawn({bin, "-c", dir + "/sendguard.conf", "-q", "BENCH", "-f", "", "--", to}, msg);
            if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) ++failed;
            ours.push_back(r.ms);
            rss = std::max(rss, r.rss_kb);
            auto b = spawn({"/bin/cat"}, msg);
            base.push_back(b.ms);
            base_rss = std::max(base_rss, b.rss_kb);
        }
        failures += failed;
        double m = median(ours), mb = median(base);
        std::sort(ours.begin(), ours.end());
        std::printf("pipe (store_sync = %s): %d deliveries, %d failed\n", sync, n, failed);
        std::printf("pipe (store_sync = %s): sendguard-bounce median %.2f ms, p90 %.2f ms "
                    "(target < 3 ms: %s)\n", sync, m, ours[ours.size() * 9 / 10],
                    m < 3.0 ? "met" : "MISSED");
        std::printf("pipe (store_sync = %s): sendguard-bounce peak RSS %.1f MB (target < 20 MB: %s)\n",
                    sync, rss / 1024.0, rss < 20 * 1024 ? "met" : "MISSED");
        std::printf("pipe (store_sync = %s): baseline /bin/cat median %.2f ms, peak RSS %.1f MB; "
                    "ratio %.2f\n", sync, mb, base_rss / 1024.0, m / mb);
    }
    std::filesystem::remove_all(dir);
    return failures ? 1 : 0;
}
