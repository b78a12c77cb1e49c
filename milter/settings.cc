// settings.cc - see settings.h
#include "milter/settings.h"

#include <algorithm>

#include "common/daemon/log_setup.h"
#include "common/daemon/users.h"
#include "common/dkim/setup.h"
#include "common/dns/setup.h"
#include "common/mailauth/setup.h"
#include "common/senders/setup.h"
#include "common/store/record.h"
#include "common/sys/ascii.h"

namespace milter {
namespace {

template <class E>
E keyword(const config::Config& cfg, config::TextKey key,
          std::initializer_list<std::pair<std::string_view, E>> words) {
    const std::string& v = cfg.str(key);
    std::string expected;
    for (const auto& [w, e] : words) {
        if (v == w) return e;
        expected += (expected.empty() ? "" : ", ") + std::string(w);
    }
    throw daemons::invalid(cfg, key, v, "expected one of " + expected);
}

// milter_sendlog_headers: RFC 5322 3.6.8 field names (printable ASCII but
// ':'), each once; Message-ID is always kept, so naming it adds nothing.
std::vector<std::string> sendlog_headers(const config::Config& cfg) {
    std::vector<std::string> names;
    for (const std::string& n : cfg.list("milter_sendlog_headers")) {
        const bool ftext = !n.empty() && n.size() <= store::kMaxHeaderName &&
                           std::all_of(n.begin(), n.end(), [](char c) { return c > ' ' && c < 0x7f && c != ':'; });
        if (!ftext)
            throw daemons::invalid(cfg, "milter_sendlog_headers", n,
                                   "not a header field name (1 to " + std::to_string(store::kMaxHeaderName) +
                                       " printable characters, no colon)");
        const std::string lower = sys::to_lower_ascii(n);
        if (lower == "message-id") continue;
        for (const std::string& seen : names)
            if (sys::to_lower_ascii(seen) == lower)
                throw daemons::invalid(cfg, "milter_sendlog_headers", n, "given twice");
        names.push_back(n);
    }
    return names;
}

// milter_policy_service and its companions; read when off too, so turning
// the service on finds no bad line.
std::shared_ptr<const PolicyService> policy_service(const config::Config& cfg) {
    const auto submissions = keyword<PolicySubmissions>(
        cfg, "milter_policy_submissions", {{"local", PolicySubmissions::Local}, {"all", PolicySubmissions::All}});
    const std::chrono::seconds timeout = cfg.duration("milter_policy_timeout");
    const std::string& context = cfg.str("milter_policy_context");
    const std::string& text = cfg.str("milter_policy_service");
    if (text.empty()) return nullptr;
    auto ep = net::parse_endpoint(text);
    if (!ep.endpoint) throw daemons::invalid(cfg, "milter_policy_service", text, ep.error);
    if (ep.endpoint->kind == net::Endpoint::Kind::Inet && ep.endpoint->port == 0)
        throw daemons::invalid(cfg, "milter_policy_service", text, "port 0 cannot be connected to");
    return make_policy_service(*ep.endpoint, timeout, context, submissions);
}

std::shared_ptr<const Policy> make_policy(const config::Config& cfg) {
    auto p = std::make_shared<Policy>();
    p->dry_run = cfg.boolean("milter_dry_run");
    p->error_action = keyword<ErrorAction>(cfg, "milter_error_action",
                                           {{"tempfail", ErrorAction::Tempfail},
                                            {"accept", ErrorAction::Accept},
                                            {"reject", ErrorAction::Reject}});
    p->verp = cfg.boolean("milter_verp");
    p->no_bounce_domain = keyword<NoBounceDomain>(cfg, "milter_no_bounce_domain_action",
                                                  {{"pass", NoBounceDomain::Pass}, {"refuse", NoBounceDomain::Refuse}});
    p->verp_recipients = keyword<VerpRecipients>(cfg, "milter_verp_recipients",
                                                 {{"token", VerpRecipients::Token}, {"split", VerpRecipients::Split}});
    p->local_mailers = cfg.list("milter_local_mailers");
    p->max_recipients = static_cast<std::size_t>(cfg.integer("milter_max_recipients"));
    p->verp_max_age = cfg.duration("verp_max_age");
    p->sendlog_headers = sendlog_headers(cfg);
    p->bounce_domains = address::BounceDomains::from(cfg);
    p->bounce_domain_map = address::bounce_domain_map(cfg, p->bounce_domains);
    p->senders = senders::load_rules(cfg);
    p->dns_error_action = keyword<DnsErrorAction>(cfg, "milter_dns_error_action",
                                                  {{"tempfail", DnsErrorAction::Tempfail},
                                                   {"accept", DnsErrorAction::Accept}});
    if (cfg.boolean("milter_reply_check")) p->dns = dns::lookup_from(cfg);
    else dns::servers(cfg);  // checked all the same: turning the check on must not find a bad line
    // Read whether on or off: turning the preflight on must not find a bad line.
    mailauth::Relay relay = mailauth::relay_from(cfg);
    const DmarcAction dmarc_action = keyword<DmarcAction>(cfg, "milter_dmarc_action",
                                                          {{"reject", DmarcAction::Reject},
                                                           {"tempfail", DmarcAction::Tempfail},
                                                           {"tag", DmarcAction::Tag},
                                                           {"accept", DmarcAction::Accept}});
    if (cfg.boolean("milter_preflight") && !relay.addresses.empty()) {
        auto pf = std::make_shared<Policy::Preflight>();
        pf->relay = std::move(relay);
        pf->psl = mailauth::Psl::load();
        pf->dns = p->dns ? p->dns : std::shared_ptr<const dns::Lookup>(dns::lookup_from(cfg));
        pf->action = dmarc_action;
        p->preflight = std::move(pf);
    }
    p->dkim = dkim::signing_from(cfg);
    p->policy_service = policy_service(cfg);
    return p;
}

}  // namespace

std::string libmilter_spec(const net::Endpoint& ep) {
    if (ep.kind == net::Endpoint::Kind::Unix) return "unix:" + ep.path;
    const bool v6 = ep.host.find(':') != std::string::npos;
    return std::string(v6 ? "inet6:" : "inet:") + std::to_string(ep.port) + "@" + ep.host;
}

Settings Settings::from(const config::Config& cfg) {
    Settings s;
    const std::string& listen = cfg.str("milter_listen");
    auto ep = net::parse_endpoint(listen);
    if (!ep.endpoint) throw daemons::invalid(cfg, "milter_listen", listen, ep.error);
    s.listen = *ep.endpoint;
    s.listen_text = ep.endpoint->str();
    s.listen_spec = libmilter_spec(s.listen);
    s.socket_mode = static_cast<mode_t>(cfg.mode("milter_socket_mode"));
    s.socket_group = cfg.str("milter_socket_group");
    if (auto g = daemons::socket_gid(cfg, "milter_socket_group")) s.socket_gid = *g;
    s.timeout = cfg.duration("milter_timeout");
    s.limits.total = static_cast<std::size_t>(cfg.integer("milter_max_connections"));
    s.limits.per_client = static_cast<std::size_t>(cfg.integer("milter_max_client_connections"));
    s.user = daemons::run_user(cfg, "milter_user");
    s.pid_file = cfg.str("milter_pid_file");
    s.state_directory = cfg.str("state_directory");
    s.store_sync = keyword<StoreSync>(cfg, "milter_store_sync",
                                      {{"commit", StoreSync::Commit}, {"data", StoreSync::Data},
                                       {"interval", StoreSync::Interval}});
    s.policy = make_policy(cfg);
    s.config = std::make_shared<const config::Config>(cfg);
    return s;
}

}  // namespace milter
