// bench_parse - bounce parser throughput, one thread
//
// usage: bench_parse DIR [seconds]
// Loads every *.eml below DIR into memory, then parses them round-robin for
// the given time with dsn::parse(), and for the same time with a baseline
// measured in the same run: GMime building the MIME tree alone (the least any
// MIME-aware parser must do). Prints msgs/s for both and the ratio; the
// target is >= 40,000 msgs/s for dsn::parse().
#include <gmime/gmime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/dsn/dsn.h"
#include "common/dsn/limits_setup.h"

namespace {

using Clock = std::chrono::steady_clock;

template <class Fn>
double rate(const std::vector<std::string>& msgs, double seconds, Fn&& fn) {
    size_t n = 0;
    auto start = Clock::now();
    auto deadline = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline)
        for (const auto& m : msgs) {
            fn(m);
            ++n;
        }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    return static_cast<double>(n) / secs;
}

void gmime_only(const std::string& m) {
    GMimeStream* s = g_mime_stream_mem_new_with_buffer(m.data(), m.size());
    GMimeParser* p = g_mime_parser_new_with_stream(s);
    GMimeMessage* msg = g_mime_parser_construct_message(p, nullptr);
    if (msg) g_object_unref(msg);
    g_object_unref(p);
    g_object_unref(s);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: bench_parse DIR [seconds]\n", stderr);
        return 2;
    }
    double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
    std::vector<std::string> msgs;
    size_t bytes = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(argv[1])) {
        if (e.path().extension() != ".eml") continue;
        std::ifstream in(e.path(), std::ios::binary);
        msgs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        bytes += msgs.back().size();
    }
    if (msgs.empty()) {
        std::fprintf(stderr, "bench_parse: no .eml files below %s\n", argv[1]);
        return 1;
    }
    g_mime_init();
    size_t bounces = 0;
    const dsn::Limits limits = dsn::limits_from(config::Config::defaults());
    for (const auto& m : msgs) bounces += dsn::parse(m, limits).is_bounce;  // warm up
    double ours = rate(msgs, seconds, [&](const std::string& m) { (void)dsn::parse(m, limits); });
    double base = rate(msgs, seconds, gmime_only);
    std::printf("parse: %zu messages (%zu KiB, %zu bounces)\n", msgs.size(), bytes / 1024, bounces);
    std::printf("parse: dsn::parse      %10.0f msgs/s  (target >= 40000: %s)\n", ours,
                ours >= 40000 ? "met" : "MISSED");
    std::printf("parse: baseline GMime  %10.0f msgs/s  (MIME tree only)\n", base);
    std::printf("parse: ratio dsn::parse / GMime = %.2f\n", ours / base);
    return 0;
}
