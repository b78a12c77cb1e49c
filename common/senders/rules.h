// rules.h - who may send as whom: the milter's sender authorisation
//
// DESCRIPTION
//   A Rules object answers one question: may this client use this sender
//   address (the envelope sender, or one address of From: or Sender:)?
//
//     Client c = Client::login(auth_authen);          // SASL login
//     Client c = *Client::address(client_addr);       // unauthenticated
//     Client c = Client::local();                     // sendmail(1), pickup
//     Decision d = rules->check(c, sender);
//     if (!d.allowed) reply("550", "5.7.1", d.text);  // to_string(d.reason) for the log
//
//   The client's grants (grant.h for the pattern syntax) come from:
//   - a login: every sender table line keyed by the login (compared as
//     written: it is what the SASL server authenticated), the lines of all
//     tables together; plus, when milter_login_owns_domain is set, every address
//     at the domain of a login "user@domain" (a login without '@', or whose
//     domain does not parse, gets nothing from this rule);
//   - a client address (one that did not authenticate: a login is judged
//     by its login alone): the union of the grants of every network table
//     line whose network holds it (network.h); outside every network it is
//     refused;
//   - local submission: the milter_local_senders list. An empty list means
//     locally submitted mail may use no sender at all: every check refuses
//     it, so a web form or cron job needs its domains listed.
//   Whatever the grants say, an address at a bounce domain is refused: one
//   of bounce_domains (exactly; not their subdomains), or, for a LABEL.*
//   entry of bounce_domains, a domain whose first label is LABEL followed
//   by at least one more label (bounces.example.com, the bounce domain
//   "bounces.*" gives example.com).
//
//   Decision texts, sent after "550 5.7.1" (addresses in RFC 5321 form; a
//   login or address passes logging::printable, capped at kMaxShownLogin and
//   address::kMaxMailbox octets, so a reply line stays well under 512):
//     login alice@customer-a.example may not send as boss@customer-b.example
//     client 203.0.113.9 may not send as x@example.net
//     locally submitted mail may not use sender x@example.net
//     x@bounces.example.com is a bounce address
//   and Reason tokens for log lines (to_string): allowed by sender_table,
//   login_domain, network_table, local_senders; refused as not_granted,
//   unknown_login (in no sender table, and the default rule did not
//   apply), unknown_network, no_local_senders, bounce_address, null_sender.
//
// COST
//   Logins and pattern names (domains, addresses) are interned once, and
//   grants are a hash set of (client, kind, name) keys (index.h): a check
//   costs a lookup for the login (or one per distinct prefix length of the
//   network tables), one for the address, one for the domain and one per
//   label of the domain (the subdomain patterns), then one per name found;
//   never a walk over a client's grants. A login with 10^4 domains checks
//   as fast as one with one. About 90 bytes of heap per grant at hosting sizes
//   (bench/senders_bench.cc).
//
// BUILDING
//   Rules are built once by RulesBuilder (or senders::load_rules, setup.h,
//   from the configuration) and never change. To reload, build a new one
//   and swap a std::shared_ptr<const Rules>; a broken file throws while
//   building, so the caller keeps the one it has. Tables are merged: a
//   login (or network) on several lines of different files gets the union;
//   within one file a key given twice is an error (config::TableFile).
//
// ERRORS
//   check() returns a value and does not throw (std::bad_alloc aside).
//   RulesBuilder throws config::Error "file:line: message" naming the bad
//   pattern or network, or "origin: invalid milter_local_senders: ..." for
//   the parameter (origin as config::Config::origin_of gives it).
//
// THREAD SAFETY
//   A Rules object is immutable: check() may run on any number of threads
//   at once. A Client and a Decision are plain values. RulesBuilder is used
//   by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/address/address.h"
#include "common/config/table_file.h"
#include "common/senders/grant.h"
#include "common/senders/index.h"
#include "common/senders/network.h"

namespace senders {

// Longest login a sender table may hold, and the most of one shown in a
// refusal: SASL logins are user names, and a reply line is 512 octets.
inline constexpr size_t kMaxLogin = 512;
inline constexpr size_t kMaxShownLogin = 128;

// Who is sending: a SASL login, an unauthenticated client address, or
// local submission (no SMTP client).
class Client {
public:
    enum class Kind { Local, Login, Address };

    static Client local();
    // The login as the SASL server reports it ({auth_authen}).
    static Client login(std::string_view sasl_login);
    // The client's IP address ({client_addr}); nullopt when it is none.
    static std::optional<Client> address(std::string_view ip_text);

    Kind kind() const noexcept { return kind_; }
    // The login, or the address in canonical form; "" for local submission.
    const std::string& name() const noexcept { return name_; }

private:
    friend class Rules;
    Client(Kind k, std::string name) : kind_(k), name_(std::move(name)) {}
    Kind kind_;
    std::string name_;
    IpAddress ip_;                      // Kind::Address
    std::optional<std::string> owned_;  // Kind::Login: the domain of user@domain, normalised
};

enum class Reason {
    SenderTable,     // allowed: a sender table line of the login
    LoginDomain,     // allowed: the default rule, user@domain sends as domain
    NetworkTable,    // allowed: a network table line holding the client
    LocalSenders,    // allowed: milter_local_senders
    NotGranted,      // refused: the client has grants, none for this address
    UnknownLogin,    // refused: the login is in no sender table
    UnknownNetwork,  // refused: the client address is in no network table
    NoLocalSenders,  // refused: local submission, and milter_local_senders is empty
    BounceAddress,   // refused: an address at a bounce domain
    NullSender,      // refused: the null sender is no address to check
};

// "sender_table", "not_granted", ...: stable names for log lines.
std::string_view to_string(Reason r) noexcept;

struct Decision {
    bool allowed = false;
    Reason reason = Reason::NotGranted;
    std::string text;  // when refused: what follows "550 5.7.1 "; else empty
};

class Rules {
public:
    struct Stats {
        size_t logins = 0;    // distinct logins in the sender tables
        size_t networks = 0;  // distinct networks in the network tables
        size_t grants = 0;    // distinct (client, pattern) pairs
        size_t names = 0;     // distinct domains and addresses in patterns
    };

    // sender must not be the null path (the milter checks a null sender's
    // From instead); it is refused as NullSender.
    Decision check(const Client& client, const address::Address& sender) const;
    Stats stats() const noexcept;

private:
    friend class RulesBuilder;
    Rules() = default;

    struct NetKey {
        uint64_t hi, lo;
        uint16_t family_len;  // v6 * 256 + prefix length
        bool operator==(const NetKey&) const = default;
    };
    struct NetHash {
        size_t operator()(const NetKey& k) const noexcept;
    };
    struct StringHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    static NetKey net_key(const IpAddress& base, unsigned len) noexcept;
    static uint64_t grant_key(uint32_t principal, Grant::Kind kind, uint32_t name) noexcept;
    bool is_bounce_domain(std::string_view domain) const;
    // The grant keys (principal 0) of the names sender could match; returns
    // how many were stored in names (room for 130).
    size_t candidates(const address::Address& sender, uint64_t* names) const;
    // Whether principal holds a grant for sender (names: its candidate keys).
    bool granted(uint32_t principal, const uint64_t* names, size_t n) const;
    Decision refuse(const Client& client, const address::Address& sender, Reason r) const;

    // Principals: 0 is local submission, 1 + id a login, kNetworks + n a network.
    static constexpr uint32_t kLocal = 0;
    static constexpr uint32_t kNetworks = 1u << 29;
    NameIndex logins_;                                        // login -> id
    std::unordered_map<NetKey, uint32_t, NetHash> networks_;  // network -> principal
    std::vector<unsigned> v4_lens_, v6_lens_;                 // prefix lengths present
    NameIndex names_;                                         // domain or address -> name id
    KeySet grants_;                                           // grant_key(principal, kind, name)
    bool local_senders_ = false;                              // the local list is not empty
    bool login_owns_domain_ = true;
    std::unordered_set<std::string, StringHash, std::equal_to<>> bounce_domains_;
    std::vector<std::string> bounce_prefixes_;  // "bounces." for bounce_domains = bounces.*
};

// Collects tables and settings, then builds Rules. Every setting is
// explicit (the defaults are in the parameter table; setup.h reads them).
class RulesBuilder {
public:
    // bounce_labels: the LABELs of bounce_domains' LABEL.* entries ("bounces").
    RulesBuilder(bool login_owns_domain, const std::vector<address::Domain>& bounce_domains,
                 const std::vector<std::string>& bounce_labels);

    // login -> grants; throws config::Error "file:line: invalid grant ..."
    void add_sender_table(const config::TableFile& table);
    // network -> grants; throws config::Error "file:line: invalid network ..."
    void add_network_table(const config::TableFile& table);
    // The grants of local submission; origin names the parameter's place.
    void set_local_senders(const std::vector<std::string>& patterns, std::string_view origin);

    std::shared_ptr<const Rules> build() &&;

private:
    // The patterns of e's value; whose is "login" or "network" (messages).
    void add_grants(uint32_t principal, const config::TableFile& table,
                    const config::TableFile::Entry& e, std::string_view whose);
    void add(uint32_t principal, const Grant& g);

    Rules rules_;
    uint32_t next_network_ = Rules::kNetworks;
};

}  // namespace senders
