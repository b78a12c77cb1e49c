// bench_relay_policy - Postfix relay throughput with and without a policy service
//
// usage: bench_relay_policy BIN_DIR [messages] [rounds] [recipients]
// The relay of bench/relay.h (one private Postfix relaying to smtp-sink,
// smtp-source feeding one listener per variant in turn: messages, default
// 2000, over 10 sessions, 512 bytes of body, recipients per message,
// default 2, rounds times, default 5) with three listeners:
//   no policy service  the baseline (Postfix's own restrictions)
//   sendguard-policyd  check_policy_service at RCPT and END-OF-MESSAGE
//                      (as sendguard-policyd(8) asks), over TCP on
//                      127.0.0.1, with the rules
//                        customer key=sasl_username count=recipients LIMIT
//                        sender   key=sender_domain count=recipients LIMIT
//                        provider key=provider provider=default LIMIT
//                      (a customer quota, the same quota by sender domain
//                      and a per-provider rule), LIMIT high enough never
//                      to refuse; MX lookups go to a closed loopback port
//                      (dns_servers), so the run is hermetic and every
//                      recipient domain stands for itself
//   postfwd2           Debian's postfwd2 at RCPT with the same quotas:
//                        rate(sasl_username/...), rate(sender_domain/...),
//                        rate(recipient_domain/...)
//                      (its own pre-forked processes)
// smtp-source has no SMTP AUTH: its client is unauthenticated, so the
// sasl_username rules do not apply (they are checked and skipped) and the
// sender-domain quota is the customer quota that counts.
//
// A round's runs follow each other and share most of the load from other
// processes: for each policy service the median of the rounds' ratios (its
// rate over the rate without one in the same round) is the figure;
// sendguard-policyd's is held against the target (>= 0.95). Each
// service's CPU time per message (all its processes, user + system, over
// the measured runs) is printed beside it: the load changes it little.
//
// Output, one line per run and a summary (figures here are placeholders):
//   policy: run 1 no policy service: 2000 msgs in S s, R msgs/s
//   ...
//   policy: sendguard-policyd: R msgs/s, ratio Q to no policy service (medians of 5
//           rounds; target >= 0.95: met|MISSED); per round ...
//   policy: sendguard-policyd: CPU C ms per message (...)
//   policy: postfwd2: ... (the same two lines, no target)
//   policy: sendguard-policyd: ... ratio Q to postfwd2 ...
//   policy: sendguard-policyd RSS M MB after the runs (peak M MB); N policy
//           warnings in the mail log (smtpd's "problem talking to server" and
//           refusals)
// Exit status 0 when every run delivered all its messages, no smtpd warned
// about a policy service and each service used CPU in the runs; 1
// otherwise (the target is reported, not enforced: the figure depends on
// the load). Needs root (postfix start), Debian's postfix and postfwd
// packages (scripts/deps.sh); without them it says so and exits 77.
// SG_BENCH_KEEP=1 keeps the files (logs, configs) of the run.
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/relay.h"

namespace {

using bench::lines;
using namespace std::chrono_literals;

constexpr const char* kPostfwd = "/usr/sbin/postfwd2";
// Far above what any run sends (a run is well under a million recipients):
// nothing is ever refused.
constexpr const char* kLimit = "10000/s, 100000000/d";
constexpr const char* kPostfwdLimit = "100000000/86400";

// CPU seconds (user + system) of every live process in process group pgid:
// sendguard-policyd (bench::spawn makes it a group leader) or postfwd2's
// master, cache and pre-forked children (it calls setsid).
double group_cpu_seconds(pid_t pgid) {
    double ticks = 0;
    DIR* d = ::opendir("/proc");
    if (!d) return 0;
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        const std::string s = bench::read_file(std::string("/proc/") + e->d_name + "/stat");
        const size_t p = s.rfind(')');
        if (p == std::string::npos) continue;
        std::istringstream in(s.substr(p + 2));
        std::string state;
        long ppid = 0, pgrp = 0;
        in >> state >> ppid >> pgrp;
        if (pgrp != pgid) continue;
        std::string field;
        for (int i = 6; i < 14; ++i) in >> field;  // fields 6 to 13; utime is 14
        unsigned long long utime = 0, stime = 0;
        in >> utime >> stime;
        ticks += static_cast<double>(utime + stime);
    }
    ::closedir(d);
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// sendguard-policyd with the policy service on 127.0.0.1:port, as root,
// its state and log in dir/policyd.
pid_t start_policyd(const std::string& bin, const std::string& dir, uint16_t port) {
    const std::string d = dir + "/policyd";
    bench::make_dir(d, 0755);
    bench::make_dir(d + "/lib", 0700);
    bench::write_file(d + "/rate_rules",
                      lines({std::string("customer key=sasl_username count=recipients ") + kLimit,
                             std::string("sender key=sender_domain count=recipients ") + kLimit,
                             std::string("provider key=provider provider=default ") + kLimit}));
    bench::write_file(d + "/sendguard.conf",
                      lines({"state_directory = " + d + "/lib", "run_directory = " + d, "policyd_user = root",
                             "log_target = file:" + d + "/policyd.log",
                             "policyd_socketmap_listen = unix:" + d + "/socketmap.sock",
                             "policyd_policy_listen = inet:127.0.0.1:" + std::to_string(port),
                             "policyd_rate_rules = " + d + "/rate_rules",
                             "# MX lookups to a closed loopback port: no resolver, no wait",
                             "dns_servers = 127.0.0.1:9"}));
    const pid_t pid = bench::spawn({bin + "/sendguard-policyd", "-c", d + "/sendguard.conf"}, d + "/policyd.out");
    if (!bench::wait_for_file(d + "/socketmap.sock", 10)) {
        bench::stop(pid);
        bench::fail("sendguard-policyd did not start: " + bench::read_file(d + "/policyd.out"));
    }
    return pid;
}

// postfwd2 on 127.0.0.1:port; it daemonises: the pid of its master (the
// leader of its session and group) from its pid file.
pid_t start_postfwd(const std::string& dir, uint16_t port) {
    const std::string d = dir + "/postfwd";
    bench::make_dir(d, 0755);
    bench::write_file(d + "/postfwd.rules",
                      lines({std::string("id=R1; action=rate(sasl_username/") + kPostfwdLimit + "/defer_if_permit quota)",
                             std::string("id=R2; action=rate(sender_domain/") + kPostfwdLimit + "/defer_if_permit quota)",
                             std::string("id=R3; action=rate(recipient_domain/") + kPostfwdLimit +
                                 "/defer_if_permit provider)"}));
    const int rc = bench::run({kPostfwd, "--daemon", "--file", d + "/postfwd.rules", "--interface", "127.0.0.1",
                               "--port", std::to_string(port), "--pidfile", d + "/postfwd.pid", "--nodns",
                               "--perfmon", "--user", "nobody", "--group", "nogroup"},
                              d + "/postfwd.out");
    pid_t pid = -1;
    for (auto end = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < end && pid <= 0;
         std::this_thread::sleep_for(50ms))
        std::ifstream(d + "/postfwd.pid") >> pid;
    if (rc != 0 || pid <= 0) bench::fail("postfwd2 did not start: " + bench::read_file(d + "/postfwd.out"));
    return pid;
}

// postfwd2's master is not our child: bench::stop cannot reap it.
void stop_daemon(pid_t pid) {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (auto end = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(50ms))
        if (::kill(pid, 0) != 0) return;
    ::kill(pid, SIGKILL);
}

int bench_relay_policy(const std::string& bin, const std::string& dir, const bench::Options& opt) {
    const bench::Users u = bench::users();
    const uint16_t policyd_port = bench::free_port("127.0.0.1");
    uint16_t postfwd_port = bench::free_port("127.0.0.1");
    while (postfwd_port == policyd_port) postfwd_port = bench::free_port("127.0.0.1");
    pid_t policyd = -1, postfwd = -1;
    int status = 1;
    try {
        policyd = start_policyd(bin, dir, policyd_port);
        postfwd = start_postfwd(dir, postfwd_port);
        const std::string sg = "check_policy_service inet:127.0.0.1:" + std::to_string(policyd_port);
        const std::string pf = "check_policy_service inet:127.0.0.1:" + std::to_string(postfwd_port);
        std::vector<bench::Variant> variants = {
            {"no policy service", "", -1, "", ""},
            {"sendguard-policyd", "", -1, sg, sg},
            {"postfwd2", "", -1, pf, ""},
        };
        const pid_t groups[] = {-1, policyd, postfwd};
        constexpr size_t kPolicyd = 1, kPostfwd2 = 2;
        bench::Relay relay(dir, u, variants, opt);
        double cpu_before[3] = {0, 0, 0};
        relay.after_warm_up = [&] {
            for (size_t v : {kPolicyd, kPostfwd2}) cpu_before[v] = group_cpu_seconds(groups[v]);
        };
        const bench::Outcome o = relay.run();
        const double n = static_cast<double>(opt.messages) * static_cast<double>(opt.rounds);
        bool busy = true;
        for (size_t v : {kPolicyd, kPostfwd2}) {
            bench::summary(variants, o, 0, v, v == kPolicyd ? 0.95 : 0, opt);
            const double cpu = group_cpu_seconds(groups[v]) - cpu_before[v];
            busy = busy && cpu > 0;
            std::printf("%s: %s: CPU %.3f ms per message (user + system, all its processes, %.0f messages)\n",
                        opt.tag, variants[v].label.c_str(), cpu * 1e3 / n, n);
        }
        bench::summary(variants, o, kPostfwd2, kPolicyd, 0, opt);
        const std::string maillog = bench::read_file(dir + "/maillog");
        // smtpd's warning when a policy service fails, and any refusal.
        const size_t warnings = bench::count_of(maillog, "problem talking to server") +
                                bench::count_of(maillog, "reject: RCPT") + bench::count_of(maillog, "reject: END-OF-MESSAGE");
        std::printf("%s: sendguard-policyd RSS %.1f MB after the runs (peak %.1f MB); %zu policy warnings in "
                    "the mail log%s\n",
                    opt.tag, bench::proc_kb(policyd, "VmRSS:") / 1024.0, bench::proc_kb(policyd, "VmHWM:") / 1024.0,
                    warnings, busy ? "" : "; a policy service used no CPU (NOT ASKED)");
        std::fflush(stdout);
        status = o.complete && warnings == 0 && busy ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", opt.tag, e.what());
    }
    stop_daemon(postfwd);
    bench::stop(policyd);
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: bench_relay_policy BIN_DIR [messages] [rounds] [recipients]\n", stderr);
        return 2;
    }
    bench::Options opt;
    opt.tag = "policy";
    opt.messages = argc > 2 ? std::atoi(argv[2]) : 2000;
    opt.rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    opt.recipients = argc > 4 ? std::atoi(argv[4]) : 2;
    if (opt.messages < 1 || opt.rounds < 1 || opt.recipients < 1) {
        std::fputs("bench_relay_policy: messages, rounds and recipients must be at least 1\n", stderr);
        return 2;
    }
    if (!bench::can_run("policy")) return 77;
    if (::access(kPostfwd, X_OK) != 0) {
        std::fprintf(stderr, "policy: skipped: needs %s (Debian's postfwd package, scripts/deps.sh)\n", kPostfwd);
        return 77;
    }
    int status = 1;
    std::string dir;
    try {
        dir = bench::make_run_dir("relay-policy");
        status = bench_relay_policy(argv[1], dir, opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "policy: %s\n", e.what());
    }
    if (!dir.empty()) bench::finish_run_dir("policy", dir, status);
    return status;
}
