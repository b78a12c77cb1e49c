// bench_milter - Postfix relay throughput with and without sendguard-milter
//
// usage: bench_milter BIN_DIR [messages] [rounds] [recipients]
// The relay of bench/relay.h (one private Postfix relaying to smtp-sink,
// smtp-source feeding one listener per variant in turn: messages, default
// 2000, over 10 sessions, 512 bytes of body, recipients per message,
// default 2, rounds times, default 5) with three listeners:
//   no milter         the baseline
//   libmilter no-op   bench_noop_milter (bench/noop_milter.cc): the same
//                     protocol steps and one SMFIR_CHGFROM per message,
//                     no work: what libmilter costs by itself, the bound
//                     for any milter on it
//   libmilter no-op, 20 ms wait  the same with sendguard-milter's wait
//                     for the next command (milter/poll_wrap.h): the
//                     bound for sendguard-milter
//   sendguard-milter  sender checks and signed VERP rewriting, as
//                     installed: user sendguard, socket group postfix,
//                     send log with the default store_sync and
//                     milter_store_sync
// With two or more recipients the milter writes a send-log entry per
// message (an LMDB commit), as it does for every VERP message once the
// send log names each message; with one the VERP address carries the
// recipient and nothing is written. SG_BENCH_MILTER_SETTINGS adds lines to
// the milter's sendguard.conf, to see what a setting costs
// ("milter_store_sync = commit", "milter_verp = no": checks only).
// SG_BENCH_MILTER_BEFORE=PATH adds a fifth listener, "sendguard-milter
// before": another build of the milter (say, of the main branch) with the
// same settings, its own socket and store, so a change is measured
// against what it changes in one run. SG_BENCH_KEEP=1 keeps the files
// (logs, configs) of the run.
//
// smtp-source has no SMTP AUTH, so the client is unauthenticated and its
// sender is allowed by milter_network_tables (127.0.0.0/8 may send as
// customer-a.example): the network rules, not the login rules, are what
// is checked (bench_senders measures the login tables at 10^5 logins).
//
// A round's runs follow each other and share most of the load from other
// processes: for each milter the median of the rounds' ratios (its rate
// over the no-milter rate of the same round) is the figure; sendguard-
// milter's is held against the target (>= 0.90), and against the
// no-op's with the same wait (what is left for the milter's own work). Each milter's CPU time per
// message is printed beside it: the load changes it little.
//
// Output, one line per run and a summary:
//   milter: run 1 no milter: 2000 msgs in 3.41 s, 586.5 msgs/s
//   milter: run 2 libmilter no-op: 2000 msgs in 3.72 s, 537.6 msgs/s
//   milter: run 3 libmilter no-op, 20 ms wait: 2000 msgs in 3.70 s, 540.5 msgs/s
//   milter: run 4 sendguard-milter: 2000 msgs in 3.77 s, 530.5 msgs/s
//   ...
//   milter: libmilter no-op: 540.1 msgs/s, ratio 0.92 to no milter (medians of 5 rounds); per round ...
//   milter: libmilter no-op: CPU 0.300 ms per message (user + system, 10000 messages)
//   milter: libmilter no-op, 20 ms wait: ... (the same two lines)
//   milter: sendguard-milter: 530.2 msgs/s, ratio 0.90 to no milter (medians of 5 rounds; target
//           >= 0.90: met); per round ...
//   milter: sendguard-milter: CPU 0.400 ms per message (user + system, 10000 messages)
//   milter: sendguard-milter: 530.2 msgs/s, ratio 0.98 to libmilter no-op, 20 ms wait (...); ...
//   (with SG_BENCH_MILTER_BEFORE: "sendguard-milter before" against no
//   milter, its CPU, and sendguard-milter against it)
//   milter: sendguard-milter RSS 9.8 MB after the runs (peak 10.1 MB); 10000 of 10000 messages
//           decided at end of message, 10000 rewritten to VERP
// (counted in the milter's log: its stage=eom and action=verp lines).
// Exit status 0 when every run delivered all its messages and the milter
// decided on each message of its runs, 1 otherwise (the target is
// reported, not enforced: the figure depends on the load). Needs root
// (postfix start) and Debian's postfix package; without them it says so
// and exits 77.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "bench/relay.h"

namespace {

using bench::lines;

// The milter as installed (conf-examples/sendguard.conf): root starts it,
// it drops to sendguard; its socket is group postfix, mode 0660. In the
// foreground (-f) it logs to stderr, kept in milter.err.
std::string write_milter_config(const std::string& dir, const bench::Users& u, const std::string& extra) {
    bench::make_dir(dir + "/run", 0755, u.sendguard_uid, u.sendguard_gid);
    bench::make_dir(dir + "/lib", 0750, u.sendguard_uid, u.sendguard_gid);
    bench::write_file(dir + "/verp.keys", "0123456789abcdef0123456789abcdef\n", 0640);
    if (::chown((dir + "/verp.keys").c_str(), 0, u.sendguard_gid) != 0) bench::fail("chown verp.keys");
    bench::write_file(dir + "/networks",
                      lines({"# smtp-source connects from loopback", "127.0.0.0/8 customer-a.example"}));
    const std::string conf = dir + "/sendguard.conf";
    bench::write_file(conf, lines({"config_directory = " + dir, "state_directory = " + dir + "/lib",
                                   "run_directory = " + dir + "/run", "bounce_domains = bounces.*",
                                   "# no DNS: the benchmark measures the milter, not a resolver",
                                   "milter_reply_check = no", "milter_network_tables = " + dir + "/networks"}) +
                                extra);
    return conf;
}

// Another build of sendguard-milter with conf's settings in its own
// run and state directories (SG_BENCH_MILTER_BEFORE).
pid_t start_before(const std::string& path, const std::string& dir, const bench::Users& u, const std::string& conf) {
    bench::make_dir(dir + "/before", 0755, u.sendguard_uid, u.sendguard_gid);
    bench::make_dir(dir + "/before/lib", 0750, u.sendguard_uid, u.sendguard_gid);
    bench::write_file(dir + "/before/sendguard.conf",
                      bench::read_file(conf) + lines({"state_directory = " + dir + "/before/lib",
                                                      "run_directory = " + dir + "/before"}));
    const pid_t pid = bench::spawn({path, "-f", "-c", dir + "/before/sendguard.conf"}, dir + "/before/milter.err");
    if (!bench::wait_for_file(dir + "/before/milter.sock", 10))
        bench::fail(path + " did not listen: " + bench::read_file(dir + "/before/milter.err"));
    return pid;
}

// The no-op milter (in DIR/NAME) runs as root; its socket is opened to
// Postfix's smtpd.
pid_t start_noop(const std::string& dir, const std::string& name, const char* wait_ms) {
    const std::string sock = dir + "/" + name + "/milter.sock";
    bench::make_dir(dir + "/" + name, 0755);
    const pid_t pid =
        bench::spawn({SG_BENCH_NOOP_MILTER, "unix:" + sock, wait_ms}, dir + "/" + name + "/milter.err");
    if (!bench::wait_for_file(sock, 10))
        bench::fail("bench_noop_milter did not listen: " + bench::read_file(dir + "/" + name + "/milter.err"));
    ::chmod(sock.c_str(), 0666);
    return pid;
}

int bench_milter(const std::string& bin, const std::string& dir, const bench::Options& opt) {
    const bench::Users u = bench::users();
    const char* extra = std::getenv("SG_BENCH_MILTER_SETTINGS");
    const std::string conf = write_milter_config(dir, u, extra ? std::string(extra) + "\n" : "");
    const pid_t milter = bench::spawn({bin + "/sendguard-milter", "-f", "-c", conf}, dir + "/milter.err");
    pid_t noop = -1, noop_wait = -1, before = -1;
    const char* before_path = std::getenv("SG_BENCH_MILTER_BEFORE");
    int status = 1;
    try {
        if (!bench::wait_for_file(dir + "/run/milter.sock", 10))
            bench::fail("sendguard-milter did not listen: " + bench::read_file(dir + "/milter.err"));
        noop = start_noop(dir, "noop", "1");
        noop_wait = start_noop(dir, "noop-wait", "20");
        std::vector<bench::Variant> variants = {
            {"no milter", "", -1},
            {"libmilter no-op", "unix:" + dir + "/noop/milter.sock", noop},
            {"libmilter no-op, 20 ms wait", "unix:" + dir + "/noop-wait/milter.sock", noop_wait},
            {"sendguard-milter", "unix:" + dir + "/run/milter.sock", milter},
        };
        if (before_path && *before_path) {
            before = start_before(before_path, dir, u, conf);
            variants.push_back({"sendguard-milter before", "unix:" + dir + "/before/milter.sock", before});
        }
        bench::Relay relay(dir, u, variants, opt);
        size_t verp_before = 0, eom_before = 0;
        relay.after_warm_up = [&] {
            const std::string log = bench::read_file(dir + "/milter.err");
            verp_before = bench::count_of(log, "action=verp");
            eom_before = bench::count_of(log, "stage=eom");
        };
        const bench::Outcome o = relay.run();
        constexpr size_t kNoop = 1, kNoopWait = 2, kMilter = 3, kBefore = 4;
        for (size_t v : {kNoop, kNoopWait}) {
            bench::summary(variants, o, 0, v, 0, opt);
            bench::cpu_summary(variants, o, v, opt);
        }
        bench::summary(variants, o, 0, kMilter, 0.90, opt);
        bench::cpu_summary(variants, o, kMilter, opt);
        bench::summary(variants, o, kNoopWait, kMilter, 0, opt);
        if (variants.size() > kBefore) {
            bench::summary(variants, o, 0, kBefore, 0.90, opt);
            bench::cpu_summary(variants, o, kBefore, opt);
            bench::summary(variants, o, kBefore, kMilter, 0, opt);
        }
        const std::string log = bench::read_file(dir + "/milter.err");
        const size_t decided = bench::count_of(log, "stage=eom") - eom_before;
        const size_t verp = bench::count_of(log, "action=verp") - verp_before;
        const size_t want = static_cast<size_t>(opt.messages) * static_cast<size_t>(opt.rounds);
        std::printf(
            "milter: sendguard-milter RSS %.1f MB after the runs (peak %.1f MB); "
            "%zu of %zu messages decided at end of message%s, %zu rewritten to VERP\n",
            bench::proc_kb(milter, "VmRSS:") / 1024.0, bench::proc_kb(milter, "VmHWM:") / 1024.0, decided, want,
            decided == want ? "" : " (MISSING)", verp);
        std::fflush(stdout);
        status = o.complete && decided == want ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "milter: %s\n", e.what());
    }
    bench::stop(before);
    bench::stop(noop_wait);
    bench::stop(noop);
    bench::stop(milter);
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: bench_milter BIN_DIR [messages] [rounds] [recipients]\n", stderr);
        return 2;
    }
    bench::Options opt;
    opt.tag = "milter";
    opt.messages = argc > 2 ? std::atoi(argv[2]) : 2000;
    opt.rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    opt.recipients = argc > 4 ? std::atoi(argv[4]) : 2;
    if (opt.messages < 1 || opt.rounds < 1 || opt.recipients < 1) {
        std::fputs("bench_milter: messages, rounds and recipients must be at least 1\n", stderr);
        return 2;
    }
    if (!bench::can_run("milter")) return 77;
    int status = 1;
    std::string dir;
    try {
        dir = bench::make_run_dir("milter");
        status = bench_milter(argv[1], dir, opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "milter: %s\n", e.what());
    }
    if (!dir.empty()) bench::finish_run_dir("milter", dir, status);
    return status;
}
