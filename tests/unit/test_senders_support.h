// test_senders_support.h - building sender rules from text, and one string
// per decision, for the test_senders*.cc files
//
//   build({.senders = {"alice a.example"}, ...})  Rules from table texts
//                                   (origins t1, t2, ...; n1, n2, ...)
//   client("login:alice"), client("ip:192.0.2.1"), client("local")
//   decide(rules, client, sender)   "allowed:sender_table" or
//                                   "refused:not_granted:<text>"
//   error_of(fn)                    the config::Error fn throws, or "(no error)"
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/address/address.h"
#include "common/config/error.h"
#include "common/config/table_file.h"
#include "common/senders/rules.h"

namespace senders_test {

inline constexpr config::TableLimits kLimits{.max_line = 1 << 20,
                                             .max_key = senders::kMaxLogin,
                                             .max_entries = 1000000,
                                             .max_bytes = 64u << 20};

struct Setup {
    std::vector<std::string> senders{};   // sender table texts, merged in order
    std::vector<std::string> networks{};  // network table texts
    std::vector<std::string> local{};     // milter_local_senders
    bool owns = true;                     // milter_login_owns_domain
    std::vector<std::string> bounce_domains = {"bounces.example.com"};
    std::vector<std::string> bounce_labels = {"bounces"};
};

inline std::shared_ptr<const senders::Rules> build(const Setup& s) {
    std::vector<address::Domain> bounce;
    for (const auto& d : s.bounce_domains) bounce.push_back(*address::normalise_domain(d));
    senders::RulesBuilder b(s.owns, bounce, s.bounce_labels);
    for (size_t i = 0; i < s.senders.size(); ++i)
        b.add_sender_table(
            config::TableFile::parse(s.senders[i], "t" + std::to_string(i + 1), kLimits));
    for (size_t i = 0; i < s.networks.size(); ++i)
        b.add_network_table(
            config::TableFile::parse(s.networks[i], "n" + std::to_string(i + 1), kLimits));
    b.set_local_senders(s.local, "sendguard.conf:1");
    return std::move(b).build();
}

inline senders::Client client(const std::string& spec) {
    if (spec == "local") return senders::Client::local();
    if (spec.starts_with("login:")) return senders::Client::login(spec.substr(6));
    if (spec.starts_with("ip:")) {
        auto c = senders::Client::address(spec.substr(3));
        if (!c) throw std::invalid_argument("test: not an IP address: " + spec);
        return *c;
    }
    throw std::invalid_argument("test: bad client spec " + spec);
}

inline std::string show(const senders::Decision& d) {
    if (d.allowed) return "allowed:" + std::string(senders::to_string(d.reason));
    return "refused:" + std::string(senders::to_string(d.reason)) + ":" + d.text;
}

// sender as the milter has it: parsed by address::parse_path.
inline std::string decide(const senders::Rules& rules, const std::string& who,
                          const std::string& sender) {
    const address::Result<address::Address> a = address::parse_path(sender);
    if (!a) return "test: sender does not parse: " + sender;
    return show(rules.check(client(who), *a));
}

template <class Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const config::Error& e) {
        return e.what();
    }
    return "(no error)";
}

struct Case {
    std::string client;
    std::string sender;
    std::string want;
};

}  // namespace senders_test
