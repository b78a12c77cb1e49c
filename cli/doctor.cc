// doctor.cc - see doctor.h
#include "cli/doctor.h"

#include "common/daemon/log_setup.h"
#include "common/dkim/setup.h"
#include "common/dns/setup.h"
#include "common/mailauth/setup.h"

namespace cli::doctor {

Settings Settings::from(const config::Config& cfg) {
    Settings s;
    s.relay = mailauth::relay_from(cfg);
    s.bounce_domains = address::BounceDomains::from(cfg);
    s.bounce_map = address::bounce_domain_map(cfg, s.bounce_domains);
    std::unique_ptr<dns::Lookup> lookup = dns::lookup_from(cfg);
    s.budget.per_check = lookup->budget();
    s.dns = std::move(lookup);
    dkim::SetupOptions dkim_options;
    dkim_options.dns = s.dns;
    s.signing = dkim::signing_from(cfg, std::move(dkim_options));
    s.psl = mailauth::Psl::load();
    return s;
}

Report diagnose(const Settings& s, const address::Domain& domain) {
    Report r;
    r.domain = domain.str();
    const std::optional<address::Domain> bounce = address::bounce_domain_for(s.bounce_domains, s.bounce_map, domain);
    if (bounce) r.bounce_domain = bounce->str();
    r.checks = check_relay(s.relay);
    for (const std::string& a : s.relay.addresses) r.checks.push_back(check_ptr(*s.dns, s.relay, a, s.budget));
    r.checks.push_back(check_spf(*s.dns, s.relay, domain.str(), s.budget));
    bool envelope_spf = r.checks.back().status == Status::Pass;
    if (bounce) {
        r.checks.push_back(check_spf(*s.dns, s.relay, bounce->str(), s.budget));
        envelope_spf = r.checks.back().status == Status::Pass;
    }
    r.checks.push_back(check_bounce_mx(*s.dns, s.relay, bounce, s.budget));
    DkimChecks dkim = check_dkim(*s.dns, s.signing.get(), domain, s.budget);
    for (Check& c : dkim.checks) r.checks.push_back(std::move(c));
    const std::string envelope = bounce ? bounce->str() : domain.str();
    r.checks.push_back(check_dmarc(*s.dns, *s.psl, s.relay, domain, envelope, envelope_spf, dkim.outlook, s.budget));
    r.checks.push_back(check_reply(*s.dns, domain, s.budget));
    return r;
}

}  // namespace cli::doctor
