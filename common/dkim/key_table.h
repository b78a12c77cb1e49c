// key_table.h - dkim_key_table: which keys exist for which domain
//
// DESCRIPTION
//   One key per logical line (the table-file syntax of config/table_file.h:
//   '#' comments, blank lines, continuation lines):
//
//       # DOMAIN            SELECTOR   KEYFILE
//       customer-a.example  s2026r     /etc/sendguard/dkim/customer-a.rsa.pem
//       customer-a.example  s2026e     /etc/sendguard/dkim/customer-a.ed25519.pem
//
//   DOMAIN is normalised as common/address does (lower case, IDNA
//   A-labels); SELECTOR is one or more DNS labels (RFC 6376 3.1: letters,
//   digits, '-', '_', separated by dots), compared in lower case; KEYFILE
//   is an absolute path to a PEM private key (key.h), which is read and
//   checked at load. A domain may have several keys: RSA and Ed25519 at
//   once, or an old and a new selector while keys rotate. The same
//   (domain, selector) twice is an error.
//
// ERRORS
//   load()/parse() throw config::Error "TABLE:LINE: ..." for every problem,
//   a key file's included ("TABLE:LINE: key file F: ...").
//
// THREAD SAFETY
//   Immutable after construction.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/dkim/key.h"

namespace dkim {

inline constexpr std::size_t kKeyTableMaxEntries = 100000;
inline constexpr std::size_t kKeyTableMaxLine = 4096;
inline constexpr std::size_t kKeyTableMaxBytes = 64u << 20;

struct Key {
    std::string domain;    // normalised
    std::string selector;  // lower case
    std::string file;
    std::string where;     // "TABLE:LINE"
    PrivateKey key;
    // "SELECTOR._domainkey.DOMAIN" (RFC 6376 3.6.2.1).
    std::string dns_name() const { return selector + "._domainkey." + domain; }
};

class KeyTable {
public:
    KeyTable() = default;
    static KeyTable load(const std::string& path);
    static KeyTable parse(std::string_view text, std::string_view origin);

    // Every key, in file order.
    const std::vector<std::shared_ptr<const Key>>& keys() const noexcept { return keys_; }
    // The keys of a normalised domain, in file order; empty when none.
    const std::vector<std::shared_ptr<const Key>>& of(std::string_view domain) const;
    std::shared_ptr<const Key> find(std::string_view domain, std::string_view selector) const;
    const std::string& origin() const noexcept { return origin_; }

private:
    std::string origin_;
    std::vector<std::shared_ptr<const Key>> keys_;
    std::unordered_map<std::string, std::vector<std::shared_ptr<const Key>>> by_domain_;
};

// A selector as key_table.h DESCRIPTION says, lower-cased; empty when invalid.
std::string normalise_selector(std::string_view s);

}  // namespace dkim
