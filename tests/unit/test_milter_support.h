// test_milter_support.h - a milter Policy and Session from a configuration text
//
//   milter_test::Fixture f("milter_dry_run = yes\n");   // + the lines below
//   milter::Session s = f.session();                     // clock and tokens pinned
//   s.connect(milter_test::smtp_client());
//
// The configuration has a key file in a temporary config_directory,
// bounce_domains = bounces.*, milter_user = root, milter_local_senders =
// customer-a.example (what local submissions may use); extra lines come after
// and win. recorded holds what the session put in the send log.
//
// DNS is a FakeDns (no cache in front): every domain has an MX unless the
// test says otherwise, so milter_reply_check passes what it is not about.
//   f.dns->set("nosuch.example", dns::Status::NxDomain);     // every type
//   f.dns->set("a-only.example", dns::Type::A, dns::Status::Ok, {"192.0.2.1"});
//   f.dns->queries   // names asked, "MX nosuch.example"
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/config/config.h"
#include "common/dns/lookup.h"
#include "common/log/log.h"
#include "milter/session.h"
#include "milter/settings.h"
#include "tests/support/temp_dir.h"

namespace milter_test {

inline constexpr const char* kKey = "0123456789abcdef0123456789abcdef";
// A fixed time (late 2026).
inline const std::chrono::sys_seconds kNow{std::chrono::seconds(1796126400)};

// Answers by (name, type); a name not set has an MX "mx.<name>" and no
// address records.
class FakeDns {
public:
    void set(const std::string& name, dns::Status st) {
        for (dns::Type t : {dns::Type::MX, dns::Type::A, dns::Type::AAAA, dns::Type::TXT}) set(name, t, st);
    }
    void set(const std::string& name, dns::Type t, dns::Status st, std::vector<std::string> values = {}) {
        dns::Answer a;
        a.status = st;
        for (auto& v : values) a.records.push_back({0, std::move(v)});
        const std::lock_guard g(mu_);
        answers_[{name, t}] = std::move(a);
    }
    dns::Answer answer(std::string_view name, dns::Type t) {
        if (delay.count() > 0) std::this_thread::sleep_for(delay);  // a slow name server
        const std::lock_guard g(mu_);
        queries.push_back(std::string(dns::to_string(t)) + " " + std::string(name));
        if (auto it = answers_.find({std::string(name), t}); it != answers_.end()) return it->second;
        if (t != dns::Type::MX) return {dns::Status::NoData};
        return {dns::Status::Ok, {{10, "mx." + std::string(name)}}};
    }
    std::vector<std::string> queries;
    std::chrono::milliseconds delay{0};

private:
    std::mutex mu_;
    std::map<std::pair<std::string, dns::Type>, dns::Answer> answers_;
};

class FakeQuerier final : public dns::Querier {
public:
    explicit FakeQuerier(std::shared_ptr<FakeDns> dns) : dns_(std::move(dns)) {}
    dns::Answer query(std::string_view name, dns::Type type, std::chrono::seconds) const override {
        return dns_->answer(name, type);
    }

private:
    std::shared_ptr<FakeDns> dns_;
};

struct Fixture {
    explicit Fixture(const std::string& extra = "") : dir("sg-milter-") {
        harness::write_file(dir.sub("verp.keys"), std::string(kKey) + "\n", 0600);
        logging::open("test", logging::Sink::None);
        logging::clear_captured();
        text = "config_directory = " + dir.path() + "\nstate_directory = " + dir.sub("state") +
               "\nmilter_user = root\nmilter_socket_group =\nbounce_domains = bounces.*\n"
               "milter_local_senders = customer-a.example\n" + extra;
        settings = milter::Settings::from(config::Config::parse(text, "test.conf"));
        if (settings.policy->dns) {
            auto p = std::make_shared<milter::Policy>(*settings.policy);
            p->dns = std::make_shared<const dns::Lookup>(std::make_unique<FakeQuerier>(dns), dns::CacheLimits{},
                                                         settings.policy->dns->budget());
            settings.policy = std::move(p);
        }
        if (settings.policy->preflight) {  // the same fake DNS
            auto p = std::make_shared<milter::Policy>(*settings.policy);
            auto pf = std::make_shared<milter::Policy::Preflight>(*p->preflight);
            pf->dns = p->dns ? p->dns
                             : std::make_shared<const dns::Lookup>(std::make_unique<FakeQuerier>(dns), dns::CacheLimits{},
                                                                   pf->dns->budget());
            p->preflight = std::move(pf);
            settings.policy = std::move(p);
        }
    }
    milter::Services services() {
        milter::Services s;
        s.now = [] { return kNow; };
        s.make_token = [this] { return "tok" + std::to_string(++tokens); };
        s.record = [this](const std::string& t, const store::SendLogEntry& e) { recorded.emplace_back(t, e); };
        s.make_instance = [this] { return "inst" + std::to_string(++instances); };
        s.steady_now = [this] { return steady; };
        return s;
    }
    milter::Session session() { return milter::Session(settings.policy, services()); }

    harness::TempDir dir;
    std::shared_ptr<FakeDns> dns = std::make_shared<FakeDns>();
    std::string text;
    milter::Settings settings;
    int tokens = 0;
    int instances = 0;
    std::chrono::steady_clock::time_point steady{};  // Services::steady_now
    std::vector<std::pair<std::string, store::SendLogEntry>> recorded;
};

inline milter::ConnectInfo smtp_client(std::string addr = "192.0.2.10") {
    return {.client_name = "client.example", .client_addr = std::move(addr), .client_port = 40000,
            .daemon_name = "mx"};
}
inline milter::ConnectInfo local_submission() {
    return {.client_name = "localhost", .client_addr = "127.0.0.1", .client_port = 0, .daemon_name = "mx"};
}

inline std::string describe(const milter::Reply& r) {
    const char* k[] = {"continue", "reject", "tempfail", "accept"};
    return std::string(k[static_cast<int>(r.kind)]) + (r.code.empty() ? "" : " " + r.code + " " + r.xcode + " " + r.text);
}

}  // namespace milter_test
