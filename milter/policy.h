// policy.h - the run-time rules of sendguard-milter: one immutable snapshot
//
// Settings::from() builds a Policy from the configuration (parameters,
// VERP keys, milter_bounce_domain_maps, the DNS lookup of
// milter_reply_check); the service publishes it and each
// connection copies the pointer at CONNECT, so a reload (SIGHUP) applies to
// the next connection and a connection in progress keeps the rules it
// started with. A reload builds a new DNS lookup (and so an empty cache).
//
// Thread safety: immutable; shared by every session through
// std::shared_ptr<const Policy>.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/address/address.h"
#include "common/address/verp_setup.h"
#include "common/dkim/signing.h"
#include "common/dns/lookup.h"
#include "common/mailauth/fixit.h"
#include "common/mailauth/psl.h"
#include "common/senders/rules.h"
#include "milter/quota.h"

namespace milter {

// milter_error_action: what an internal error answers.
enum class ErrorAction { Tempfail, Accept, Reject };
// milter_no_bounce_domain_action.
enum class NoBounceDomain { Pass, Refuse };
// milter_dns_error_action.
enum class DnsErrorAction { Tempfail, Accept };
// milter_dmarc_action: a message that will fail DMARC (quarantine/reject).
enum class DmarcAction { Reject, Tempfail, Tag, Accept };
// milter_verp_recipients.
enum class VerpRecipients { Token, Split };

struct Policy {
    bool dry_run = false;
    ErrorAction error_action = ErrorAction::Tempfail;
    bool verp = false;
    NoBounceDomain no_bounce_domain = NoBounceDomain::Pass;
    VerpRecipients verp_recipients = VerpRecipients::Token;
    std::vector<std::string> local_mailers;  // {rcpt_mailer} values delivered here
    std::size_t max_recipients = 0;
    std::chrono::seconds verp_max_age{};     // also the send-log entries' lifetime
    // milter_sendlog_headers: header names (as configured) whose first
    // value the send-log entry keeps; Message-ID is always kept.
    std::vector<std::string> sendlog_headers;
    address::BounceDomains bounce_domains;
    // milter_bounce_domain_maps: sender domain (normalised) -> bounce domain.
    address::BounceDomainMap bounce_domain_map;
    // Who may send as whom (milter_sender_tables, milter_network_tables,
    // milter_login_owns_domain, milter_local_senders); never null.
    std::shared_ptr<const senders::Rules> senders;
    // milter_reply_check: the lookup (its cache shared by every session,
    // thread safe); null when the check is off. Tests give it a fake
    // upstream Querier.
    std::shared_ptr<const dns::Lookup> dns;
    DnsErrorAction dns_error_action = DnsErrorAction::Tempfail;
    // milter_preflight (common/mailauth/preflight.h): null when off, or
    // when relay_public_addresses is empty (nothing to judge SPF for).
    struct Preflight {
        mailauth::Relay relay;
        std::shared_ptr<const mailauth::Psl> psl;
        std::shared_ptr<const dns::Lookup> dns;  // policy.dns when that is set
        DmarcAction action = DmarcAction::Reject;
    };
    std::shared_ptr<const Preflight> preflight;
    // DKIM signing (dkim_signing_table and the other dkim_* parameters);
    // null when signing is off. Its published-key status is shared by
    // every session and refreshed in the background (service.cc).
    std::shared_ptr<const dkim::Signing> dkim;
    // milter_policy_service (quota.h): null when off.
    std::shared_ptr<const PolicyService> policy_service;
};

}  // namespace milter
