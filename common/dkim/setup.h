// setup.h - the DKIM signing the configuration describes
//
//   signing_from(cfg, options)  nullptr when dkim_signing_table is empty
//                               (signing off); else the Signing (signing.h)
//                               of dkim_key_table (every key file read and
//                               checked), dkim_signing_table,
//                               dkim_provider_domain, dkim_sign_headers,
//                               dkim_oversign_headers and
//                               dkim_key_check_interval; its key records
//                               are asked through options.dns, or a
//                               dns::lookup_from(cfg)
//   header_lists(cfg)           the checked dkim_sign_headers and
//                               dkim_oversign_headers (also with signing off)
//
// Errors: config::Error naming the file and line (of a table, or of the
// parameter): a table line, a key file, a header name that is not one,
// a sign list without From, an oversigned field that is not signed, a
// provider domain without keys, a signing table without a key table.
// Thread safety: start-up code; the result is shared.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/dkim/signing.h"
#include "common/dns/resolver.h"

namespace dkim {

struct SetupOptions {
    std::shared_ptr<const dns::Querier> dns;   // null: dns::lookup_from(cfg)
    std::optional<std::uint64_t> fixed_time;   // tests: t= pinned
    dns::Clock clock = std::chrono::steady_clock::now;
};

struct HeaderLists {
    std::vector<std::string> sign, oversign;
};
HeaderLists header_lists(const config::Config& cfg);

std::shared_ptr<const Signing> signing_from(const config::Config& cfg, SetupOptions options = {});

}  // namespace dkim
