// doctor.h - `sendguard doctor DOMAIN`: is a sender domain ready to send?
//
// Settings::from(cfg) reads what the checks need: the relay's identity
// (relay_public_addresses, relay_helo_name, relay_spf_include), the bounce
// domains as the milter picks them (bounce_domains, verp_key_file,
// milter_bounce_domain_maps) and the DNS lookup (dns_servers,
// dns_lookup_timeout: the budget of each check) and the DKIM signing
// tables (dkim_*, dkim::signing_from: every key file is read).
// diagnose(settings, domain) runs the checks in order (doctor_checks.h)
// and returns the Report that doctor_cmd.cc prints:
//
//   relay     the identity parameters are set
//   ptr       each relay address: PTR, FCrDNS, HELO name
//   spf       one SPF record at the domain and at its bounce domain,
//             authorising the relay
//   mx        the bounce domain's MX is this relay
//   dkim      each key the domain's mail is signed with is published
//   dmarc     the DMARC record and the alignment the relay achieves
//   reply     the domain itself receives mail
//
// Errors: from() throws config::Error naming the parameter's file and line
// (an address that is none, a DKIM table line or key file) and
// address::KeyFileError; diagnose() returns
// values. Thread safety: none needed (one command).
#pragma once

#include <chrono>
#include <memory>

#include "cli/doctor_checks.h"
#include "cli/doctor_report.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"
#include "common/dkim/signing.h"
#include "common/dns/lookup.h"

namespace cli::doctor {

struct Settings {
    Relay relay;
    address::BounceDomains bounce_domains;
    address::BounceDomainMap bounce_map;
    std::shared_ptr<const dns::Querier> dns;
    std::shared_ptr<const dkim::Signing> signing;  // null: signing is off
    std::shared_ptr<const mailauth::Psl> psl;      // the public suffix list
    Budget budget;

    static Settings from(const config::Config& cfg);
};

Report diagnose(const Settings& s, const address::Domain& domain);

}  // namespace cli::doctor
