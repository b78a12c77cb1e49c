// test_policyd_backoff.cc - backoff learned from delivery results, end to end
//
// A throw-away Postfix, two smtp-sink "providers" and the real
// sendguard-policyd, all in one network namespace whose dnsmasq answers the
// MX records: inbox-a.test has its MX at mx01.webde.test (127.0.0.2:25),
// inbox-b.test at mx1.mailco.test (127.0.0.3:25). The provider table of the
// test names the providers by those hosts (webde *.webde.test, mailco
// *.mailco.test), so policyd's transport map finds a domain's provider
// through the real MX roll-up.
//
// Postfix is wired as conf-examples/ shows:
//   smtp_delivery_status_filter = socketmap:...:status     (main.cf)
//   transport_maps = socketmap:...:transport, texthash:.../transport
//   transport: inbox-a.test webde:, inbox-b.test mailco:
//   master.cf: webde, webde-slow, mailco, mailco-slow - smtp services with
//     their own syslog_name and -o smtp_delivery_status_filter=...:status-NAME
//     (so successes are credited to the provider); the -slow ones paced by
//     <name>_destination_rate_delay in main.cf.
// policyd_throttled_transports = webde=webde-slow, mailco=mailco-slow.
// A delivery line's program ("webde-slow/smtp") says which transport
// carried the message.
//
// Cases: a rate-limit reply (web.de's wording) throttles that provider
// only, new and deferred mail to it leaves by the slow transport, a restart
// keeps the state, and after a quiet period it recovers and mail leaves by
// the normal transport again; ordinary temporary failures (greylisting,
// mailbox full) throttle nothing. The times Postfix took to apply a changed
// transport answer are printed (BOOST_TEST_MESSAGE) and bounded.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/net/endpoint.h"
#include "common/net/socketmap_client.h"
#include "tests/support/dns_harness.h"
#include "tests/support/net_wait.h"
#include "tests/support/netns.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
namespace h = harness;

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kRateLimitReply = "451 4.7.1 Rate limit reached. Please try again later";
constexpr const char* kGreylistReply = "450 4.7.1 Greylisted, please try again later";
constexpr const char* kMailboxFullReply = "452 4.2.2 Mailbox full";
// policyd_backoff_default_rate below, per hour (status --json's unit).
constexpr double kCeilingPerHour = 36000;

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// The line of text holding all needles, or "".
std::string line_with(const std::string& text, const std::vector<std::string>& needles) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        bool all = true;
        for (const auto& n : needles) all = all && contains(line, n);
        if (all) return line;
    }
    return {};
}

// One provider's row of `sendguard status --json`, read by python3's json.
struct ProviderView {
    bool found = false;
    long level = 0;
    bool in_backoff = false;
    double allowed_per_hour = 0;
    long successes = 0, deferrals = 0, rate_signals = 0;
    std::string last_reply;
    std::string raw;  // the command's output, for messages
};

ProviderView read_provider(const std::string& json, const std::string& provider) {
    const std::string script =
        "import json, sys\n"
        "d = json.loads(sys.stdin.read())\n"
        "p = [x for x in d['providers'] if x['provider'] == sys.argv[1]]\n"
        "if not p:\n"
        "    print('absent')\n"
        "    sys.exit(0)\n"
        "p = p[0]\n"
        "print('found')\n"
        "for k in ('level', 'in_backoff', 'allowed_per_hour', 'successes', 'deferrals', 'rate_signals'):\n"
        "    v = p[k]\n"
        "    print(int(v) if isinstance(v, bool) else (v if v is not None else 0))\n"
        "print(p['last_reply'])\n";
    h::RunResult r = h::run({.argv = {"python3", "-c", script, provider}, .stdin_data = json});
    ProviderView v;
    v.raw = json;
    BOOST_REQUIRE_MESSAGE(r.ok(), "status --json is no JSON document: " << r.describe() << "\n" << json);
    std::istringstream in(r.out);
    std::string word;
    std::getline(in, word);
    if (word != "found") return v;
    v.found = true;
    long in_backoff = 0;
    in >> v.level >> in_backoff >> v.allowed_per_hour >> v.successes >> v.deferrals >> v.rate_signals;
    v.in_backoff = in_backoff != 0;
    in >> std::ws;
    std::getline(in, v.last_reply);
    return v;
}

// sendguard-policyd inside the namespace (its resolver asks the dnsmasq
// there); its sockets, in a directory every Postfix process can reach.
struct Policyd {
    const h::NetNs& ns;
    h::TempDir dir{"sg-e2e-backoff-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string providers = dir.sub("providers");
    std::string sock = dir.sub("socketmap.sock");
    std::optional<h::Process> proc;
    std::string earlier_log;  // stderr of processes before a restart

    explicit Policyd(const h::NetNs& n) : ns(n) {
        ::chmod(dir.path().c_str(), 0755);
        h::write_file(providers, "webde *.webde.test\nmailco *.mailco.test\n");
        // Seconds instead of minutes: one decrease halves 600/m to 300/m;
        // one quiet period of 10s (the minimum) adds 600/m, back at the
        // ceiling, so the provider leaves backoff at the first recovery step.
        h::write_file(conf, "state_directory = " + dir.path() + "/lib\n"
                            "run_directory = " + dir.path() + "\n"
                            "log_to_stderr = yes\n"
                            "policyd_socket_mode = 0666\n"
                            "policyd_provider_table = " + providers + "\n"
                            "dns_servers = 127.0.0.1:53\n"
                            "dns_lookup_timeout = 2s\n"
                            "policyd_throttled_transports = webde=webde-slow, mailco=mailco-slow\n"
                            "policyd_backoff_default_rate = 600/m\n"
                            "policyd_backoff_decrease = 50\n"
                            "policyd_backoff_recovery_step = 600/m\n"
                            "policyd_backoff_quiet_period = 10s\n"
                            "policyd_backoff_hold_down = 1m\n");
    }
    void start() {
        // -v: the MX roll-up of each domain is logged once its lookup lands.
        proc.emplace(h::SpawnSpec{.argv = ns.wrap({h::sendguard_bin("sendguard-policyd"), "-v", "-c", conf,
                                                   "-o", "policyd_user=root"})});
        BOOST_REQUIRE_MESSAGE(h::wait_for_unix(sock, 10s), "policyd did not listen: " << proc->err());
    }
    void restart() {
        ::kill(proc->pid(), SIGTERM);
        auto st = proc->wait_for(10000ms);
        BOOST_REQUIRE_MESSAGE(st.has_value() && st->ok(), "policyd did not stop: " << proc->err());
        earlier_log += proc->err();
        proc.reset();
        start();
    }
    std::string log() const { return proc ? proc->err() : std::string(); }
    std::string map(const std::string& name) const { return "socketmap:unix:" + sock + ":" + name; }
    // What the transport map answers for key ("OK webde-slow:", "NOTFOUND ").
    std::string transport_answer(const std::string& key) const {
        net::SocketmapClient c(net::Endpoint{net::Endpoint::Kind::Unix, sock, {}, 0}, 5s);
        net::SocketmapReply r = c.query("transport", key);
        return std::string(net::status_name(r.status)) + " " + r.data;
    }
    std::string status_json() const {
        h::RunResult r = h::run({h::sendguard_bin("sendguard"), "-c", conf, "status", "--json"});
        BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
        return r.out;
    }
    ProviderView provider(const std::string& name) const { return read_provider(status_json(), name); }
    // Waits until the provider's row satisfies pred (policyd writes its
    // states every policyd_state_flush_interval, 1s); the last row read.
    template <class Pred>
    ProviderView wait_provider(const std::string& name, Pred pred, h::Millis timeout = 5s) const {
        ProviderView v;
        h::wait_until([&] { v = provider(name); return pred(v); }, timeout);
        return v;
    }
    // Waits for a line of this process's log holding all needles.
    std::string wait_line(const std::vector<std::string>& needles, h::Millis timeout) const {
        std::string line;
        h::wait_until([&] { return !(line = line_with(log(), needles)).empty(); }, timeout);
        return line;
    }
};

// The namespace with its DNS, the two sinks, policyd and Postfix.
struct World {
    std::unique_ptr<h::NetNs> ns = h::make_netns_or_skip();
    h::DnsServer dns{*ns};
    h::SmtpSink webde;
    h::SmtpSink mailco;
    Policyd d{*ns};
    h::PostfixInstance pf{h::PostfixOptions{.ns = ns.get()}};

    World(const std::string& webde_soft_reply, const std::string& mailco_soft_reply)
        : webde(h::SinkOptions{.ip = "127.0.0.2", .port = 25, .soft_reply = webde_soft_reply,
                               .hostname = "mx01.webde.test", .ns = ns.get()}),
          mailco(h::SinkOptions{.ip = "127.0.0.3", .port = 25, .soft_reply = mailco_soft_reply,
                                .hostname = "mx1.mailco.test", .ns = ns.get()}) {
        dns.records()
            .ttl(300)
            .mx("inbox-a.test", "mx01.webde.test", 10)
            .a("mx01.webde.test", "127.0.0.2")
            .mx("inbox-b.test", "mx1.mailco.test", 10)
            .a("mx1.mailco.test", "127.0.0.3");
        dns.start();
        d.start();

        for (const std::string p : {"webde", "mailco"}) {
            for (const std::string& t : {p, p + "-slow"})
                pf.add_master_line(t + " unix - - n - - smtp\n  -o syslog_name=postfix/" + t +
                                   "\n  -o smtp_delivery_status_filter=" + d.map("status-" + p));
            // A rate delay forces concurrency 1 (FACTS.md): the slow lane.
            pf.set(p + "-slow_destination_rate_delay", "1s");
        }
        pf.add_transport("inbox-a.test", "webde:");
        pf.add_transport("inbox-b.test", "mailco:");
        // trivial-rewrite asks the socketmap for the full address only, and
        // the full address in every table before any domain key: policyd's
        // OK answer wins over the texthash domain entries.
        pf.set("transport_maps", d.map("transport") + ", texthash:" + pf.config_dir() + "/transport");
        pf.set("smtp_delivery_status_filter", d.map("status"));
        pf.start();
    }

    std::string send(const std::string& rcpt) const {
        h::SmtpTranscript t = pf.send({.mail_from = "sender@customer.test",
                                       .rcpt_to = {rcpt},
                                       .data = "From: <sender@customer.test>\nTo: <" + rcpt +
                                               ">\nSubject: backoff\n\nhello\n"});
        BOOST_REQUIRE_MESSAGE(t.accepted(), t.str());
        return t.queue_id();
    }
    // A message to rcpt, its first delivery line, and the seconds from its
    // submission to that line.
    struct Timed {
        std::string queue_id;
        h::Delivery delivery;
        double seconds = 0;
    };
    Timed send_timed(const std::string& rcpt) const {
        const size_t mark = pf.log_mark();
        const auto submitted = Clock::now();
        Timed t;
        t.queue_id = send(rcpt);
        t.delivery = delivery(t.queue_id, mark);
        t.seconds = seconds_since(submitted);
        return t;
    }
    // The first delivery line of queue_id written after mark.
    h::Delivery delivery(const std::string& queue_id, size_t mark = 0, h::Millis timeout = 10s) const {
        auto d = pf.wait_for_delivery(queue_id, timeout, {}, mark);
        BOOST_REQUIRE_MESSAGE(d.has_value(), "no delivery line for " << queue_id << ":\n" << pf.log_tail());
        return *d;
    }
    // Waits for both domains' MX roll-up in policyd (started by the first
    // transport lookups): until then the map answers NOTFOUND for them.
    void wait_rollup() const {
        for (const auto& [dom, line] :
             {std::pair<std::string, std::string>{"inbox-a.test", "hosts=mx01.webde.test, provider=webde"},
              {"inbox-b.test", "hosts=mx1.mailco.test, provider=mailco"}}) {
            if (line_with(d.log(), {"mx=" + dom + ",", line}).empty())
                (void)d.transport_answer(dom);  // starts the lookup if nothing did
            BOOST_REQUIRE_MESSAGE(!d.wait_line({"mx=" + dom + ",", line}, 10s).empty(),
                                  "no MX roll-up for " << dom << ":\n" << d.log() << dns.log());
        }
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_policyd_backoff)

BOOST_AUTO_TEST_CASE(rate_limit_reroutes_one_provider_survives_restart_and_recovers) {
    h::skip_if(h::PostfixInstance::unavailable());
    h::skip_if(h::DnsServer::unavailable());
    World w(kRateLimitReply, kMailboxFullReply);

    // 1. Both providers accept: mail leaves by each one's normal transport;
    //    the successes are credited (status-NAME maps), nobody in backoff.
    const std::string a1 = w.send("one@inbox-a.test");
    const std::string b1 = w.send("one@inbox-b.test");
    h::Delivery da1 = w.delivery(a1), db1 = w.delivery(b1);
    BOOST_TEST(da1.status == "sent", da1.line);
    BOOST_TEST(da1.program == "webde/smtp", da1.line);
    BOOST_TEST(contains(da1.relay, "mx01.webde.test[127.0.0.2]:25"), da1.line);
    BOOST_TEST(db1.status == "sent", db1.line);
    BOOST_TEST(db1.program == "mailco/smtp", db1.line);
    BOOST_TEST(w.webde.wait_for_messages(1, 5s));
    BOOST_TEST(w.mailco.wait_for_messages(1, 5s));
    for (const std::string p : {"webde", "mailco"}) {
        ProviderView v = w.d.wait_provider(p, [](const ProviderView& v) { return v.successes >= 1; });
        BOOST_TEST_INFO(p << ": " << v.raw);
        BOOST_TEST(v.found);
        BOOST_TEST(v.successes == 1);
        BOOST_TEST(v.level == 0);
        BOOST_TEST(!v.in_backoff);
        BOOST_TEST(v.rate_signals == 0);
    }
    w.wait_rollup();
    BOOST_TEST(w.d.transport_answer("inbox-a.test") == "NOTFOUND ");

    // 2. webde answers RCPT with web.de's rate-limit reply.
    w.webde.set_mode(h::SinkMode::TempFail);
    size_t mark = w.pf.log_mark();
    const std::string a2 = w.send("two@inbox-a.test");
    h::Delivery da2 = w.delivery(a2, mark);
    BOOST_TEST(da2.status == "deferred", da2.line);
    BOOST_TEST(da2.program == "webde/smtp", da2.line);
    BOOST_TEST(contains(da2.detail, kRateLimitReply), da2.line);
    const std::string signal_line = w.d.wait_line({"backoff=status", "provider=webde"}, 5s);
    const auto signalled = Clock::now();
    BOOST_TEST_REQUIRE(!signal_line.empty(), w.d.log());
    BOOST_TEST(contains(signal_line, "old_level=0, level=1"), signal_line);
    BOOST_TEST(contains(signal_line, "old_rate=36000/h, new_rate=18000/h"), signal_line);
    BOOST_TEST(contains(signal_line, std::string("reply=") + kRateLimitReply), signal_line);
    ProviderView va = w.d.wait_provider("webde", [](const ProviderView& v) { return v.level >= 1; });
    BOOST_TEST(va.level == 1, va.raw);
    BOOST_TEST(va.in_backoff, va.raw);
    BOOST_TEST(va.allowed_per_hour == kCeilingPerHour / 2, va.raw);
    BOOST_TEST(va.rate_signals >= 1, va.raw);
    BOOST_TEST(contains(va.last_reply, "Rate limit reached"), va.raw);
    ProviderView vb = w.d.provider("mailco");
    BOOST_TEST(vb.level == 0, vb.raw);
    BOOST_TEST(!vb.in_backoff, vb.raw);
    BOOST_TEST(w.d.transport_answer("inbox-a.test") == "OK webde-slow:");
    BOOST_TEST(w.d.transport_answer("inbox-b.test") == "NOTFOUND ");

    // New mail to webde goes by the slow transport at once (the queue
    // manager resolves it as it enters the active queue) ...
    mark = w.pf.log_mark();
    const World::Timed a3 = w.send_timed("three@inbox-a.test");
    const h::Delivery& da3 = a3.delivery;
    const double a3_attempt_s = a3.seconds;
    BOOST_TEST(da3.program == "webde-slow/smtp", da3.line);
    BOOST_TEST(da3.status == "deferred", da3.line);
    BOOST_TEST(a3_attempt_s < 5.0);
    BOOST_TEST_MESSAGE("backoff: the first message submitted after the answer changed ("
                       << seconds_since(signalled) << "s after the signal) took the slow transport, "
                       << a3_attempt_s << "s from submission to its delivery attempt");
    // ... the message deferred before is routed afresh when it is resolved
    // again. The queue manager's resolver client caches the last address it
    // resolved (FACTS.md): a retry that comes before any other address was
    // resolved may still take the old route, once; the ones after take the
    // slow lane.
    const auto flushed = Clock::now();
    w.pf.flush();
    const auto slow_retry = w.pf.wait_for_log(
        [&](std::string_view l) {
            const auto d = h::parse_delivery(l);
            return d && d->queue_id == a2 && d->program == "webde-slow/smtp";
        },
        10s, mark);
    BOOST_TEST_REQUIRE(slow_retry.has_value(), w.pf.log_tail());
    size_t old_route_retries = 0;
    for (const h::Delivery& d : w.pf.deliveries(mark))
        if (d.queue_id == a2 && d.program == "webde/smtp") ++old_route_retries;
    BOOST_TEST(old_route_retries <= 1u, w.pf.log_tail());
    BOOST_TEST_MESSAGE("backoff: the deferred message took the slow transport "
                       << seconds_since(flushed) << "s after postqueue -f (" << old_route_retries
                       << " retry by the cached old route before)");
    // ... while mail to mailco is delivered normally at once.
    const auto b2_sent = Clock::now();
    const std::string b2 = w.send("two@inbox-b.test");
    h::Delivery db2 = w.delivery(b2, mark, 5s);
    BOOST_TEST(db2.status == "sent", db2.line);
    BOOST_TEST(db2.program == "mailco/smtp", db2.line);
    BOOST_TEST(seconds_since(b2_sent) < 5.0);

    // 4. A restart keeps webde's backoff: the state comes back from the
    //    store and the map routes by it (once the MX lookup the first
    //    question starts has landed; until then a domain answers NOTFOUND).
    w.d.restart();
    ProviderView vr = w.d.provider("webde");
    BOOST_TEST(vr.level >= 1, vr.raw);
    BOOST_TEST(vr.allowed_per_hour == kCeilingPerHour / 2, vr.raw);
    w.wait_rollup();
    BOOST_TEST(w.d.transport_answer("inbox-a.test") == "OK webde-slow:");
    mark = w.pf.log_mark();
    const std::string a4 = w.send("four@inbox-a.test");
    h::Delivery da4 = w.delivery(a4, mark);
    BOOST_TEST(da4.program == "webde-slow/smtp", da4.line);

    // 3. webde accepts again: the deferred mail leaves by the slow lane, one
    //    message a second; after a quiet period of 10s the rate is back at
    //    the ceiling, the provider leaves backoff, and new mail takes the
    //    normal transport again.
    w.webde.set_mode(h::SinkMode::Accept);
    mark = w.pf.log_mark();
    w.pf.flush();
    for (const std::string& q : {a2, a3.queue_id, a4}) {
        auto d = w.pf.wait_for_delivery(q, 10s, {}, mark);
        BOOST_TEST_REQUIRE(d.has_value(), q << ":\n" << w.pf.log_tail());
        // A retry that still met the old sink is deferred again: wait on.
        while (d && d->status == "deferred") {
            const size_t from = w.pf.log_mark();
            w.pf.flush();
            d = w.pf.wait_for_delivery(q, 10s, {}, from);
        }
        BOOST_TEST_REQUIRE(d.has_value(), q << ":\n" << w.pf.log_tail());
        BOOST_TEST(d->status == "sent", d->line);
        BOOST_TEST(d->program == "webde-slow/smtp", d->line);
    }
    const std::string recovery_line =
        w.d.wait_line({"backoff=recovery", "provider=webde", ", level=0"}, 25s);
    const auto recovered = Clock::now();
    BOOST_TEST_REQUIRE(!recovery_line.empty(), w.d.log());
    BOOST_TEST(contains(recovery_line, "new_rate=none"), recovery_line);
    ProviderView vn = w.d.wait_provider("webde", [](const ProviderView& v) { return v.level == 0; });
    BOOST_TEST(vn.level == 0, vn.raw);
    BOOST_TEST(!vn.in_backoff, vn.raw);
    BOOST_TEST(vn.successes >= 4, vn.raw);  // one before, three by the slow lane
    BOOST_TEST(w.d.transport_answer("inbox-a.test") == "NOTFOUND ");
    const World::Timed a5 = w.send_timed("five@inbox-a.test");
    const h::Delivery& da5 = a5.delivery;
    const double a5_attempt_s = a5.seconds;
    BOOST_TEST(da5.status == "sent", da5.line);
    BOOST_TEST(da5.program == "webde/smtp", da5.line);
    BOOST_TEST(a5_attempt_s < 5.0);
    BOOST_TEST_MESSAGE("recovery: the first message submitted after the answer changed ("
                       << seconds_since(recovered) << "s after the recovery) took the normal transport, "
                       << a5_attempt_s << "s from submission to its delivery");
    BOOST_TEST(w.webde.wait_for_messages(5, 5s));
    BOOST_TEST(w.pf.wait_queue_empty(10s), w.pf.log_tail());
}

// Greylisting (450 4.7.1) and a full mailbox (452 4.2.2) are deferrals,
// not rate limits: policyd counts them, neither provider is slowed, and
// mail to both keeps its normal transport.
BOOST_AUTO_TEST_CASE(ordinary_temporary_failures_throttle_nothing) {
    h::skip_if(h::PostfixInstance::unavailable());
    h::skip_if(h::DnsServer::unavailable());
    World w(kGreylistReply, kMailboxFullReply);
    w.webde.set_mode(h::SinkMode::TempFail);
    w.mailco.set_mode(h::SinkMode::TempFail);

    const std::string a1 = w.send("one@inbox-a.test");
    const std::string b1 = w.send("one@inbox-b.test");
    h::Delivery da1 = w.delivery(a1), db1 = w.delivery(b1);
    BOOST_TEST(da1.status == "deferred", da1.line);
    BOOST_TEST(contains(da1.detail, kGreylistReply), da1.line);
    BOOST_TEST(db1.status == "deferred", db1.line);
    BOOST_TEST(contains(db1.detail, kMailboxFullReply), db1.line);
    const std::vector<std::pair<std::string, std::string>> cases = {{"webde", "Greylisted"},
                                                                    {"mailco", "Mailbox full"}};
    for (const auto& [p, text] : cases) {
        // The filter reached policyd (the deferral is counted, its reply kept) ...
        ProviderView v = w.d.wait_provider(p, [](const ProviderView& v) { return v.deferrals >= 1; });
        BOOST_TEST_INFO(p << ": " << v.raw);
        BOOST_TEST(v.deferrals >= 1);
        BOOST_TEST(contains(v.last_reply, text));
        // ... and changed nothing.
        BOOST_TEST(v.rate_signals == 0);
        BOOST_TEST(v.level == 0);
        BOOST_TEST(!v.in_backoff);
    }
    w.wait_rollup();
    BOOST_TEST(w.d.transport_answer("inbox-a.test") == "NOTFOUND ");
    BOOST_TEST(w.d.transport_answer("inbox-b.test") == "NOTFOUND ");

    // The retries and new mail keep the normal transports.
    size_t mark = w.pf.log_mark();
    w.pf.flush();
    const std::string a2 = w.send("two@inbox-a.test");
    const std::string b2 = w.send("two@inbox-b.test");
    for (const auto& [q, want] : {std::pair<std::string, std::string>{a1, "webde/smtp"},
                                  {a2, "webde/smtp"}, {b1, "mailco/smtp"}, {b2, "mailco/smtp"}}) {
        h::Delivery d = w.delivery(q, mark);
        BOOST_TEST(d.program == want, d.line);
        BOOST_TEST(d.status == "deferred", d.line);
    }
    BOOST_TEST(line_with(w.d.log(), {"backoff="}).empty(), w.d.log());
}

BOOST_AUTO_TEST_SUITE_END()
