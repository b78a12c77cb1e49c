// rules.cc - see rules.h
#include "common/senders/rules.h"

#include <algorithm>

#include "common/config/error.h"
#include "common/config/value.h"
#include "common/log/log.h"

namespace senders {
namespace {

// A domain has at most 128 labels (255 octets): the address, the domain and
// one suffix per label are the candidates a grant can match.
constexpr size_t kMaxCandidates = 2 + 128;

// One network per prefix length (0 to 128) can hold a client.
constexpr size_t kMaxPrincipals = 129;

Reason allowed_by(Client::Kind k) {
    switch (k) {
        case Client::Kind::Login:
            return Reason::SenderTable;
        case Client::Kind::Address:
            return Reason::NetworkTable;
        case Client::Kind::Local:
            break;
    }
    return Reason::LocalSenders;
}

// grant_key layout: principal (30 bits) | kind (2 bits) | name id (32 bits).
constexpr uint32_t kMaxPrincipal = (1u << 30) - 1;

}  // namespace

std::string_view to_string(Reason r) noexcept {
    switch (r) {
        case Reason::SenderTable:
            return "sender_table";
        case Reason::LoginDomain:
            return "login_domain";
        case Reason::NetworkTable:
            return "network_table";
        case Reason::LocalSenders:
            return "local_senders";
        case Reason::NotGranted:
            return "not_granted";
        case Reason::UnknownLogin:
            return "unknown_login";
        case Reason::UnknownNetwork:
            return "unknown_network";
        case Reason::NoLocalSenders:
            return "no_local_senders";
        case Reason::BounceAddress:
            return "bounce_address";
        case Reason::NullSender:
            return "null_sender";
    }
    return "unknown";
}

// --- Client

Client Client::local() {
    return Client(Kind::Local, {});
}

Client Client::login(std::string_view sasl_login) {
    Client c(Kind::Login, std::string(sasl_login));
    // The default rule's domain: after the last '@' (a login is no RFC 5321
    // address, so no quoting to honour).
    const size_t at = sasl_login.rfind('@');
    if (at != std::string_view::npos && at > 0) {
        const address::Result<address::Domain> d =
            address::normalise_domain(sasl_login.substr(at + 1));
        if (d && !d->is_literal()) c.owned_ = d->str();
    }
    return c;
}

std::optional<Client> Client::address(std::string_view ip_text) {
    const std::optional<IpAddress> ip = IpAddress::parse(ip_text);
    if (!ip) return std::nullopt;
    Client c(Kind::Address, ip->str());
    c.ip_ = *ip;
    return c;
}

// --- Rules

size_t Rules::NetHash::operator()(const NetKey& k) const noexcept {
    // splitmix64 finaliser over the three fields.
    uint64_t x = k.hi ^ (k.lo * 0x9e3779b97f4a7c15ull) ^ (uint64_t{k.family_len} << 48);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return static_cast<size_t>(x ^ (x >> 31));
}

Rules::NetKey Rules::net_key(const IpAddress& base, unsigned len) noexcept {
    return NetKey{base.hi, base.lo, static_cast<uint16_t>((base.v6 ? 256 : 0) + len)};
}

uint64_t Rules::grant_key(uint32_t principal, Grant::Kind kind, uint32_t name) noexcept {
    return (uint64_t{principal} << 34) | (uint64_t{static_cast<uint32_t>(kind)} << 32) | name;
}

bool Rules::is_bounce_domain(std::string_view domain) const {
    if (bounce_domains_.contains(domain)) return true;
    for (const std::string& prefix : bounce_prefixes_)
        if (domain.size() > prefix.size() && domain.starts_with(prefix)) return true;
    return false;
}

bool Rules::granted(uint32_t principal, const uint64_t* names, size_t n) const {
    const uint64_t p = uint64_t{principal} << 34;
    for (size_t i = 0; i < n; ++i)
        if (grants_.contains(p | names[i])) return true;
    return false;
}

Decision Rules::refuse(const Client& client, const address::Address& sender, Reason r) const {
    const std::string addr = logging::printable(sender.str(), address::kMaxMailbox);
    switch (r) {
        case Reason::BounceAddress:
            return {false, r, addr + " is a bounce address"};
        case Reason::NullSender:
            return {false, r, "the null sender has no address to check"};
        default:
            break;
    }
    switch (client.kind()) {
        case Client::Kind::Login:
            return {false, r,
                    "login " + logging::printable(client.name(), kMaxShownLogin) +
                        " may not send as " + addr};
        case Client::Kind::Address:
            return {false, r, "client " + client.name() + " may not send as " + addr};
        case Client::Kind::Local:
            break;
    }
    return {false, r, "locally submitted mail may not use sender " + addr};
}

size_t Rules::candidates(const address::Address& sender, uint64_t* names) const {
    // The address, its domain, and each strict suffix of the domain (for
    // "*.suffix"). Names no pattern uses are not in names_: most suffixes
    // cost one failed lookup.
    size_t n = 0;
    auto candidate = [&](Grant::Kind kind, std::string_view name) {
        const std::optional<uint32_t> id = names_.find(name);
        if (id && n < kMaxCandidates) names[n++] = grant_key(0, kind, *id);
    };
    const std::string& domain = sender.domain().str();
    candidate(Grant::Kind::Address, sender.normalised());
    candidate(Grant::Kind::Domain, domain);
    for (size_t dot = domain.find('.'); dot != std::string::npos; dot = domain.find('.', dot + 1))
        candidate(Grant::Kind::Subdomains, std::string_view(domain).substr(dot + 1));
    return n;
}

Decision Rules::check(const Client& client, const address::Address& sender) const {
    if (sender.is_null()) return refuse(client, sender, Reason::NullSender);
    const std::string& domain = sender.domain().str();
    if (is_bounce_domain(domain)) return refuse(client, sender, Reason::BounceAddress);

    // Who the client is in the tables first: an unknown client needs no
    // name lookups.
    uint32_t principals[kMaxPrincipals];
    size_t np = 0;
    switch (client.kind()) {
        case Client::Kind::Login: {
            if (login_owns_domain_ && client.owned_ && *client.owned_ == domain)
                return {true, Reason::LoginDomain, {}};
            const std::optional<uint32_t> id = logins_.find(client.name());
            if (!id) return refuse(client, sender, Reason::UnknownLogin);
            principals[np++] = 1 + *id;
            break;
        }
        case Client::Kind::Address:
            for (unsigned len : client.ip_.v6 ? v6_lens_ : v4_lens_) {
                const auto it = networks_.find(net_key(client.ip_.masked(len), len));
                if (it != networks_.end()) principals[np++] = it->second;
            }
            if (np == 0) return refuse(client, sender, Reason::UnknownNetwork);
            break;
        case Client::Kind::Local:
            if (!local_senders_) return refuse(client, sender, Reason::NoLocalSenders);
            principals[np++] = kLocal;
            break;
    }
    uint64_t names[kMaxCandidates];
    const size_t n = candidates(sender, names);
    for (size_t i = 0; i < np; ++i)
        if (granted(principals[i], names, n)) return {true, allowed_by(client.kind()), {}};
    return refuse(client, sender, Reason::NotGranted);
}

Rules::Stats Rules::stats() const noexcept {
    return Stats{logins_.size(), networks_.size(), grants_.size(), names_.size()};
}

// --- RulesBuilder

RulesBuilder::RulesBuilder(bool login_owns_domain,
                           const std::vector<address::Domain>& bounce_domains,
                           const std::vector<std::string>& bounce_labels) {
    rules_.login_owns_domain_ = login_owns_domain;
    for (const address::Domain& d : bounce_domains) rules_.bounce_domains_.insert(d.str());
    for (const std::string& label : bounce_labels) rules_.bounce_prefixes_.push_back(label + ".");
}

void RulesBuilder::add(uint32_t principal, const Grant& g) {
    rules_.grants_.insert(Rules::grant_key(principal, g.kind, rules_.names_.intern(g.name)));
}

void RulesBuilder::add_grants(uint32_t principal, const config::TableFile& table,
                              const config::TableFile::Entry& e, std::string_view whose) {
    for (const std::string& pattern : config::split_list(e.value)) {
        std::string why;
        const std::optional<Grant> g = parse_grant(pattern, why);
        if (!g)
            throw config::Error(table.where(e) + ": invalid grant " + config::quote_value(pattern) +
                                " for " + std::string(whose) + " " + config::quote_value(e.key) +
                                ": " + why);
        add(principal, *g);
    }
}

void RulesBuilder::add_sender_table(const config::TableFile& table) {
    // Room for every line's login and one pattern each, so the indexes
    // grow at most a few times per file.
    const size_t n = table.entries().size();
    rules_.logins_.reserve(rules_.logins_.size() + n);
    rules_.names_.reserve(rules_.names_.size() + n);
    rules_.grants_.reserve(rules_.grants_.size() + n);
    for (const config::TableFile::Entry& e : table.entries()) {
        if (e.key.size() > kMaxLogin)
            throw config::Error(table.where(e) + ": login longer than " +
                                std::to_string(kMaxLogin) + " bytes");
        if (rules_.logins_.size() + 1 >= Rules::kNetworks)
            throw config::Error(table.where(e) + ": more than " +
                                std::to_string(Rules::kNetworks - 2) + " logins");
        add_grants(1 + rules_.logins_.intern(e.key), table, e, "login");
    }
}

void RulesBuilder::add_network_table(const config::TableFile& table) {
    for (const config::TableFile::Entry& e : table.entries()) {
        std::string why;
        const std::optional<Network> net = Network::parse(e.key, why);
        if (!net)
            throw config::Error(table.where(e) + ": invalid network " + config::quote_value(e.key) +
                                ": " + why);
        auto [it, fresh] =
            rules_.networks_.try_emplace(Rules::net_key(net->base, net->len), next_network_);
        if (fresh) {
            if (next_network_++ == kMaxPrincipal)
                throw config::Error(table.where(e) + ": more than " +
                                    std::to_string(kMaxPrincipal - Rules::kNetworks) + " networks");
            std::vector<unsigned>& lens = net->base.v6 ? rules_.v6_lens_ : rules_.v4_lens_;
            if (std::find(lens.begin(), lens.end(), net->len) == lens.end())
                lens.push_back(net->len);
        }
        add_grants(it->second, table, e, "network");
    }
}

void RulesBuilder::set_local_senders(const std::vector<std::string>& patterns,
                                     std::string_view origin) {
    for (const std::string& pattern : patterns) {
        std::string why;
        const std::optional<Grant> g = parse_grant(pattern, why);
        if (!g)
            throw config::Error(std::string(origin) + ": invalid milter_local_senders: " +
                                config::quote_value(pattern) + ": " + why);
        add(Rules::kLocal, *g);
    }
    rules_.local_senders_ = !patterns.empty();
}

std::shared_ptr<const Rules> RulesBuilder::build() && {
    // Longest prefixes first: a client is usually in one small network.
    std::sort(rules_.v4_lens_.rbegin(), rules_.v4_lens_.rend());
    std::sort(rules_.v6_lens_.rbegin(), rules_.v6_lens_.rend());
    return std::make_shared<const Rules>(std::move(rules_));
}

}  // namespace senders
