// signing.h - the DKIM signing rules of one configuration, and the plan
//
// DESCRIPTION
//   Signing holds what setup.h builds from the configuration: the key table,
//   the signing table, the provider keys (dkim_provider_domain), the
//   libopendkim Library with the header lists, and the published-key status
//   of every key (published.h, dkim_key_check_interval).
//
//   plan(from, budget) picks the keys for a message whose one From: mailbox
//   is from: the signing table's row for it (address, else domain); of that
//   row's keys those whose public key is published (KeyStatus::usable,
//   checking stale ones within budget), then the provider's published keys
//   as a second, non-aligned signature. A provider signature is never made
//   alone: without an aligned signature the message is not signed.
//     keys empty, why = "no_signing_rule"     no row for from
//     keys empty, why = "key_not_published"   no key of the row is usable;
//                                             detail lists each key's outcome
//
// ERRORS
//   plan() returns values. THREAD SAFETY: shared by every thread (the
//   tables are immutable, KeyStatus has its own lock).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/address/address.h"
#include "common/dkim/key_table.h"
#include "common/dkim/published.h"
#include "common/dkim/signer.h"
#include "common/dkim/signing_table.h"
#include "common/dns/resolver.h"

namespace dkim {

struct Plan {
    std::vector<std::shared_ptr<const Key>> keys;
    std::string why;     // when keys is empty
    std::string detail;  // the rule's table line, or each key's outcome
};

struct Signing {
    KeyTable keys;
    SigningTable rules;
    std::vector<std::shared_ptr<const Key>> provider;  // dkim_provider_domain's keys
    std::shared_ptr<const Library> library;
    std::shared_ptr<const dns::Querier> dns;           // asks for key records
    std::chrono::seconds dns_budget{5};                // one message's key checks (dns_lookup_timeout)
    std::shared_ptr<KeyStatus> status;

    Plan plan(const address::Address& from, std::chrono::seconds budget) const;
    // Every key of the key table once (the background check's list).
    const std::vector<std::shared_ptr<const Key>>& all_keys() const noexcept { return keys.keys(); }
};

}  // namespace dkim
