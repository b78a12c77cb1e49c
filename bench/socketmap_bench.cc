// socketmap_bench.cc - socketmap server throughput against a raw echo baseline
//
// Usage: socketmap_bench [seconds-per-measurement]   (default 1; max 10)
//
// Starts, in this process, a net::StreamServer with SocketmapProtocol on a
// UNIX socket in a temporary directory, answering the "suppress" map of
// sendguard-policyd (policyd::SuppressionMaps) from an LMDB suppression list of
// 10000 addresses, on its own thread (the server uses one core). The baseline is a
// plain blocking echo thread on a socketpair(2): the same client loop sends
// the same netstring requests and reads back the same number of netstrings,
// so the ratio shows what the event loop, the framing and the lookup cost
// over the bare kernel round trip. Each is measured one request at a time
// (what Postfix does) and pipelined in batches of 64 (server capacity).
// Absolute numbers vary between runs and machines; compare the ratio.
// Exit status: 0, or 1 if a reply was wrong or a setup step failed.
#include "policyd/settings.h"
#include "policyd/socketmap_service.h"
#include "common/log/log.h"
#include "common/store/suppression.h"

#include <algorithm>
#include "common/net/event_loop.h"
#include "common/net/listener.h"
#include "common/net/netstring.h"
#include "common/net/socketmap.h"
#include "common/net/stream_server.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kKeys = 10000;

struct Result {
    double per_second = 0;
    bool ok = true;
};

// The shared client loop: write `batch` request frames at once, then read
// until `batch` netstrings came back. expect_ok checks socketmap replies.
Result client_loop(int fd, const std::vector<std::string>& frames, size_t batch,
                   std::chrono::duration<double> duration, bool expect_ok) {
    std::string wbuf, rbuf;
    char buf[65536];
    size_t next = 0;
    uint64_t done = 0;
    Result res;
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration_cast<Clock::duration>(duration);
    while (Clock::now() < end) {
        wbuf.clear();
        for (size_t i = 0; i < batch; ++i) {
            wbuf += frames[next];
            next = (next + 1) % frames.size();
        }
        for (size_t off = 0; off < wbuf.size();) {
            const ssize_t n = ::send(fd, wbuf.data() + off, wbuf.size() - off, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("send failed");
            off += static_cast<size_t>(n);
        }
        size_t got = 0;
        size_t pos = 0;
        while (got < batch) {
            const auto r = net::decode_netstring(std::string_view(rbuf).substr(pos), 200000);
            if (r.status == net::NetstringStatus::Ok) {
                if (expect_ok && r.payload.substr(0, 3) != "OK ") res.ok = false;
                pos += r.consumed;
                ++got;
                continue;
            }
            if (r.status == net::NetstringStatus::Error) throw std::runtime_error("bad reply");
            rbuf.erase(0, pos);
            pos = 0;
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) throw std::runtime_error("recv failed");
            rbuf.append(buf, static_cast<size_t>(n));
        }
        rbuf.erase(0, pos);
        done += batch;
    }
    const std::chrono::duration<double> took = Clock::now() - start;
    res.per_second = static_cast<double>(done) / took.count();
    return res;
}

void echo_thread(int fd) {
    char buf[65536];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        for (ssize_t off = 0; off < n;) {
            const ssize_t w = ::send(fd, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
            if (w <= 0) return;
            off += w;
        }
    }
}

int run(double seconds) {
    logging::open("socketmap_bench", logging::Sink::Stderr);
    char tmpl[] = "/tmp/sg-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    const std::string dir = tmpl;

    auto env = store::Env::open(dir + "/lmdb", {.map_size = size_t{64} << 20, .max_readers = 126});
    std::vector<std::string> frames;
    {
        std::vector<store::Entry> entries;
        for (int i = 0; i < kKeys; ++i) {
            const std::string key = "user" + std::to_string(i) + "@example.org";
            store::Record r;
            r.klass = store::Class::Hard;
            r.suppressed = true;
            r.reason = "userunknown";
            entries.push_back({key, r});
            frames.push_back(net::encode_netstring("suppress " + key));
        }
        std::sort(entries.begin(), entries.end(),
                  [](const store::Entry& a, const store::Entry& b) { return a.key < b.key; });
        store::SuppressionList(env).import_batch(entries);
    }
    // The daemon's settings from the table's defaults, as it runs by default
    // (but policyd_user: its default, sendguard, need not exist here).
    const auto settings =
        policyd::Settings::from(config::Config::parse("policyd_user = root\n", "bench"));
    policyd::MapSettings ms = settings.maps;
    ms.suppressed_reply = "REJECT suppressed";
    policyd::SuppressionMaps maps(env, ms);
    const net::Endpoint ep{net::Endpoint::Kind::Unix, dir + "/socketmap", {}, 0};

    net::EventLoop loop;
    net::StreamServer server(
        loop, "socketmap",
        net::socketmap_factory([&maps](const net::Peer& peer, std::string_view name, std::string_view key) {
            return maps.lookup(peer, name, key);
        }, settings.socketmap),
        settings.limits);
    server.add_listener(net::Listener::open(ep, {.unix_mode = 0600, .unix_group = static_cast<gid_t>(-1)}));
    std::thread server_thread([&] { loop.run(); });

    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
        throw std::runtime_error("socketpair failed");
    sys::Fd echo_client(sp[0]), echo_server(sp[1]);
    std::thread echo([&] { echo_thread(echo_server.get()); });

    sys::Fd client = net::connect_endpoint(ep);
    const std::chrono::duration<double> d(seconds);
    bool ok = true;
    std::printf("%-22s %14s %14s %8s\n", "mode", "socketmap/s", "echo/s", "ratio");
    for (size_t batch : {size_t{1}, size_t{64}}) {
        // Warm-up, then measure.
        client_loop(client.get(), frames, batch, d / 10, true);
        client_loop(echo_client.get(), frames, batch, d / 10, false);
        const Result sm = client_loop(client.get(), frames, batch, d, true);
        const Result base = client_loop(echo_client.get(), frames, batch, d, false);
        ok = ok && sm.ok;
        std::printf("%-22s %14.0f %14.0f %8.2f\n",
                    batch == 1 ? "one at a time" : "pipelined (batch 64)", sm.per_second,
                    base.per_second, sm.per_second / base.per_second);
    }
    {
        // As Postfix uses it: many smtpd processes, each with one persistent
        // connection and one request at a time. Clients share the machine's
        // other core with each other, so this is a floor for the server.
        constexpr int kClients = 16;
        std::vector<sys::Fd> conns;
        for (int i = 0; i < kClients; ++i) conns.push_back(net::connect_endpoint(ep));
        std::vector<Result> results(kClients);
        std::vector<std::thread> threads;
        for (int i = 0; i < kClients; ++i)
            threads.emplace_back([&, i] {
                results[i] = client_loop(conns[i].get(), frames, 1, d, true);
            });
        for (auto& t : threads) t.join();
        double total = 0;
        for (const auto& r : results) {
            total += r.per_second;
            ok = ok && r.ok;
        }
        std::printf("%-22s %14.0f %14s %8s\n", "16 connections", total, "-", "-");
        std::printf("target >= 100000 lookups/s on the server's one core: %s\n",
                    total >= 100000 ? "met (16 connections)" : "see pipelined figure");
    }
    if (!ok) std::printf("error: a socketmap reply was not OK\n");

    ::shutdown(echo_client.get(), SHUT_RDWR);
    echo.join();
    client.reset();
    loop.stop();
    server_thread.join();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 1.0;
    if (argc > 1) seconds = std::atof(argv[1]);
    if (!(seconds > 0 && seconds <= 10)) {
        std::fprintf(stderr, "usage: socketmap_bench [seconds-per-measurement (0-10]]\n");
        return 2;
    }
    try {
        return run(seconds);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "socketmap_bench: %s\n", e.what());
        return 1;
    }
}
