// senders_bench.cc - sender rules at a hosting provider's size, against
// plain hash maps measured in the same run
//
// Usage: bench_senders [logins] [seconds-per-rate]   (default 100000 and 1)
//
// Writes a sender table of `logins` logins (each with a domain, its
// subdomains and an alias domain: "user7 customer7.example,
// *.customer7.example, @alias7.example") plus one reseller login with 10^4
// domains, and loads it through senders::load_rules with the default
// limits. Baselines, same file, same run:
//   load, reload  reading the file into a plain unordered_map<string, string>
//                 (login -> the rest of the line): what any table costs
//   decisions/s   one unordered_map find of the login per decision, on the
//                 same sequence of (login, sender) pairs
//   memory        the same map, in a child process each: peak RSS of the
//                 load (ru_maxrss) and heap in use after it (mallinfo2)
// A reload builds the new rules while the old ones still serve (as the
// milter does on SIGHUP), then swaps the pointer, so its peak holds both.
// Targets (ratios, as absolute numbers move between runs and machines):
//   load and reload <= 5x the baseline map (which neither parses nor
//   normalises a pattern), decisions >= 0.1x the baseline find (a decision
//   is about six lookups and the address's normalised form; the find is
//   one lookup), heap <= 2x the baseline map, and the reseller's decisions
//   (10^4 domains) >= 0.5x the rate of a login with three patterns: the
//   cost does not grow with a login's grants.
// Exit status: 0 (targets are reported, not enforced), 1 if a decision
// came out wrong or a step failed, 2 for bad usage.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/address/address.h"
#include "common/config/config.h"
#include "common/senders/setup.h"

namespace {

using Clock = std::chrono::steady_clock;
using PlainMap = std::unordered_map<std::string, std::string>;

constexpr int kResellerDomains = 10000;

std::string reseller_domain(int i) {
    return "reseller-customer-" + std::to_string(i) + ".example";
}

void write_table(const std::string& path, int logins) {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < logins; ++i) {
        const std::string n = std::to_string(i);
        out << "user" << n << "  customer" << n << ".example, *.customer" << n << ".example, @alias"
            << n << ".example\n";
    }
    out << "reseller";
    for (int i = 0; i < kResellerDomains; ++i) out << ' ' << reseller_domain(i);
    out << '\n';
    if (!out) throw std::runtime_error("cannot write " + path);
}

// The baseline: the file's lines as login -> rest of the line.
PlainMap plain_load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    PlainMap m;
    std::string line;
    while (std::getline(in, line)) {
        const size_t sp = line.find(' ');
        if (sp == std::string::npos) continue;
        m.emplace(line.substr(0, sp), line.substr(line.find_first_not_of(' ', sp)));
    }
    return m;
}

double seconds_of(const std::function<void()>& fn) {
    const auto t0 = Clock::now();
    fn();
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The fastest of n runs of each, the two taking turns, so that a busy
// moment of the machine (other builds, other tests) does not fall on one
// side only.
std::pair<double, double> best_of(int n, const std::function<void()>& a,
                                  const std::function<void()>& b) {
    double best_a = 1e9, best_b = 1e9;
    for (int i = 0; i < n; ++i) {
        best_a = std::min(best_a, seconds_of(a));
        best_b = std::min(best_b, seconds_of(b));
    }
    return {best_a, best_b};
}

size_t heap_in_use() {
    const struct mallinfo2 mi = ::mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

struct Memory {
    long peak_kb = 0;       // ru_maxrss of the child
    size_t heap_bytes = 0;  // heap in use after the work, less before
};

// Runs work in a child so its peak RSS is its own.
Memory in_child(const std::function<void()>& work) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::close(fds[0]);
        const size_t before = heap_in_use();
        work();
        const size_t used = heap_in_use() - before;
        (void)!::write(fds[1], &used, sizeof used);
        ::_exit(0);
    }
    ::close(fds[1]);
    Memory m;
    if (::read(fds[0], &m.heap_bytes, sizeof m.heap_bytes) != sizeof m.heap_bytes) m.heap_bytes = 0;
    ::close(fds[0]);
    int status = 0;
    struct rusage ru {};
    if (::wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("child failed");
    m.peak_kb = ru.ru_maxrss;
    return m;
}

struct Query {
    std::string login;
    senders::Client client;
    address::Address sender;
    bool want;
};

address::Address addr(const std::string& text) {
    auto a = address::parse_mailbox(text);
    if (!a) throw std::runtime_error("bad address " + text);
    return *a;
}

// A third each: a customer's domain, a subdomain of it, another
// customer's domain (refused).
std::vector<Query> login_queries(int logins, size_t n) {
    std::vector<Query> q;
    uint64_t x = 88172645463325252ull;  // xorshift64: the same sequence each run
    for (size_t i = 0; i < n; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const int who = static_cast<int>(x % static_cast<uint64_t>(logins));
        const std::string login = "user" + std::to_string(who);
        const std::string n1 = std::to_string(who), n2 = std::to_string((who + 1) % logins);
        switch (i % 3) {
            case 0:
                q.push_back({login, senders::Client::login(login),
                             addr("info@customer" + n1 + ".example"), true});
                break;
            case 1:
                q.push_back({login, senders::Client::login(login),
                             addr("x@www.customer" + n1 + ".example"), true});
                break;
            default:
                q.push_back({login, senders::Client::login(login),
                             addr("x@customer" + n2 + ".example"), false});
                break;
        }
    }
    return q;
}

// The reseller: one of its 10^4 domains, or a domain it lacks.
std::vector<Query> reseller_queries(size_t n) {
    std::vector<Query> q;
    for (size_t i = 0; i < n; ++i) {
        const int d = static_cast<int>((i * 7919) % (2 * kResellerDomains));
        q.push_back({"reseller", senders::Client::login("reseller"),
                     addr("x@" + reseller_domain(d)), d < kResellerDomains});
    }
    return q;
}

struct Rate {
    double per_second = 0;
    bool ok = true;
};

using Decide = std::function<bool(const Query&)>;

// Decisions per second of a and of b over qs: the best of 5 rounds each,
// taking turns (as best_of), seconds in all.
std::pair<Rate, Rate> rates(double seconds, const std::vector<Query>& qs, const Decide& a,
                            const Decide& b) {
    auto round = [&](const Decide& fn, Rate& r) {
        uint64_t done = 0;
        const auto t0 = Clock::now();
        const auto end = t0 + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(seconds / 10));
        while (Clock::now() < end) {
            for (const Query& q : qs)
                if (fn(q) != q.want) r.ok = false;
            done += qs.size();
        }
        const double per_second =
            static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - t0).count();
        r.per_second = std::max(r.per_second, per_second);
    };
    Rate ra, rb;
    for (int i = 0; i < 5; ++i) {
        round(a, ra);
        round(b, rb);
    }
    return {ra, rb};
}

const char* verdict(bool met) {
    return met ? "met" : "MISSED";
}

int run(int logins, double seconds) {
    char tmpl[] = "/tmp/sg-bench-senders-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    const std::string dir = tmpl;
    const std::string path = dir + "/senders";
    write_table(path, logins);
    const auto file_size = std::filesystem::file_size(path);
    const config::Config cfg =
        config::Config::parse("milter_sender_tables = " + path + "\n", "bench");
    std::printf("senders: %d logins + 1 with %d domains, table %.1f MiB\n", logins,
                kResellerDomains, static_cast<double>(file_size) / (1 << 20));

    // Memory first, in children, while this process is still small.
    const Memory idle = in_child([] {});
    const Memory plain_mem = in_child([&] {
        static PlainMap held;  // alive when the child reads its heap
        held = plain_load(path);
    });
    const Memory rules_mem = in_child([&] {
        static std::shared_ptr<const senders::Rules> held;
        held = senders::load_rules(cfg);
    });
    const Memory reload_mem = in_child([&] {
        static std::shared_ptr<const senders::Rules> held;
        held = senders::load_rules(cfg);
        std::shared_ptr<const senders::Rules> next = senders::load_rules(cfg);
        held.swap(next);
    });
    const Memory plain_reload_mem = in_child([&] {
        static PlainMap held;
        held = plain_load(path);
        PlainMap next = plain_load(path);
        held.swap(next);
    });

    // Times: the best of five.
    std::shared_ptr<const senders::Rules> rules;
    PlainMap plain;
    const auto [t_load, t_plain] = best_of(
        5, [&] { rules = senders::load_rules(cfg); }, [&] { plain = plain_load(path); });
    const auto [t_reload, t_plain_reload] = best_of(
        5,
        [&] {
            std::shared_ptr<const senders::Rules> next = senders::load_rules(cfg);
            rules.swap(next);  // the old set goes when its last user lets go: here
        },
        [&] {
            PlainMap next = plain_load(path);
            plain.swap(next);
        });

    const std::vector<Query> lq = login_queries(logins, 30000);
    const std::vector<Query> rq = reseller_queries(30000);
    auto decide = [&](const Query& q) { return rules->check(q.client, q.sender).allowed; };
    // The baseline finds the login and takes the right answer as given.
    size_t found = 0;
    auto find = [&](const Query& q) {
        found += plain.find(q.login) != plain.end();
        return q.want;
    };
    const auto [r_login, r_find] = rates(seconds, lq, decide, find);
    const auto [r_reseller, r_reseller_find] = rates(seconds, rq, decide, find);

    const senders::Rules::Stats st = rules->stats();
    std::printf("senders: %zu logins, %zu grants, %zu names\n", st.logins, st.grants, st.names);
    std::printf("%-26s %14s %14s %8s\n", "measure", "rules", "plain map", "ratio");
    std::printf("%-26s %12.0fms %12.0fms %8.2f  (target <= 5: %s)\n", "load", t_load * 1e3,
                t_plain * 1e3, t_load / t_plain, verdict(t_load / t_plain <= 5));
    std::printf("%-26s %12.0fms %12.0fms %8.2f  (target <= 5: %s)\n", "reload (old set serving)",
                t_reload * 1e3, t_plain_reload * 1e3, t_reload / t_plain_reload,
                verdict(t_reload / t_plain_reload <= 5));
    std::printf("%-26s %14.0f %14.0f %8.2f  (target >= 0.1: %s)\n", "decisions/s, 3 patterns",
                r_login.per_second, r_find.per_second, r_login.per_second / r_find.per_second,
                verdict(r_login.per_second / r_find.per_second >= 0.1));
    std::printf("%-26s %14.0f %14.0f %8.2f  (vs 3 patterns: %.2f, target >= 0.5: %s)\n",
                "decisions/s, 10^4 domains", r_reseller.per_second, r_reseller_find.per_second,
                r_reseller.per_second / r_reseller_find.per_second,
                r_reseller.per_second / r_login.per_second,
                verdict(r_reseller.per_second / r_login.per_second >= 0.5));
    const double mib = 1 << 20;
    std::printf(
        "%-26s %12.1fMiB %12.1fMiB %8.2f  (target <= 2: %s)\n", "heap after load",
        static_cast<double>(rules_mem.heap_bytes) / mib,
        static_cast<double>(plain_mem.heap_bytes) / mib,
        static_cast<double>(rules_mem.heap_bytes) / static_cast<double>(plain_mem.heap_bytes),
        verdict(rules_mem.heap_bytes <= 2 * plain_mem.heap_bytes));
    auto peak = [&](const Memory& m) {
        return static_cast<double>(m.peak_kb - idle.peak_kb) / 1024;
    };
    std::printf("%-26s %12.1fMiB %12.1fMiB %8.2f\n", "peak RSS, load", peak(rules_mem),
                peak(plain_mem), peak(rules_mem) / peak(plain_mem));
    std::printf("%-26s %12.1fMiB %12.1fMiB %8.2f\n", "peak RSS, reload", peak(reload_mem),
                peak(plain_reload_mem), peak(reload_mem) / peak(plain_reload_mem));

    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    const bool ok = r_login.ok && r_reseller.ok && found > 0;
    if (!ok) std::printf("error: a decision came out wrong\n");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const int logins = argc > 1 ? std::atoi(argv[1]) : 100000;
    const double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
    if (logins < 2 || logins > 10000000 || !(seconds > 0 && seconds <= 10)) {
        std::fprintf(stderr,
                     "usage: bench_senders [logins (2-10000000)] [seconds-per-rate (0-10]]\n");
        return 2;
    }
    try {
        return run(logins, seconds);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_senders: %s\n", e.what());
        return 1;
    }
}
