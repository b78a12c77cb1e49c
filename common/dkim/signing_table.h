// signing_table.h - dkim_signing_table: which From: uses which keys
//
// DESCRIPTION
//   One rule per logical line (config/table_file.h syntax):
//
//       # FROM                     KEYDOMAIN[:SELECTOR[,SELECTOR...]]
//       customer-a.example         customer-a.example
//       @news.customer-a.example   customer-a.example:s2026r
//       ceo@customer-a.example     customer-a.example:s2026r,s2026e
//
//   FROM is a domain (that From: domain; "@domain" is the same) or an
//   address (that mailbox only; it wins over its domain's row). A domain
//   row covers that domain only, never its subdomains, and there are no
//   wildcards: a '*' anywhere is an error, so one key never signs every
//   domain. KEYDOMAIN must have keys in the key table and be FROM's domain
//   or a parent of it, so the signature is aligned (RFC 7489 3.1.1,
//   relaxed); without selectors every key of KEYDOMAIN signs, with them
//   those keys. A FROM given twice (after normalisation) is an error.
//
//   find(from) is the rule of an address: its own row, else its domain's.
//
// ERRORS
//   load()/parse() throw config::Error "TABLE:LINE: ...".
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

#include "common/address/address.h"
#include "common/dkim/key_table.h"

namespace config {
class TableFile;
}

namespace dkim {

inline constexpr std::size_t kSigningTableMaxEntries = 1000000;
inline constexpr std::size_t kSigningTableMaxLine = 4096;
inline constexpr std::size_t kSigningTableMaxBytes = 256u << 20;

struct Rule {
    std::string from;        // normalised: "domain" or "local@domain"
    std::string key_domain;
    std::vector<std::shared_ptr<const Key>> keys;  // never empty
    std::string where;       // "TABLE:LINE"
};

class SigningTable {
public:
    SigningTable() = default;
    static SigningTable load(const std::string& path, const KeyTable& keys);
    static SigningTable parse(std::string_view text, std::string_view origin, const KeyTable& keys);

    const Rule* find(const address::Address& from) const;
    std::size_t size() const noexcept { return rules_.size(); }

private:
    static SigningTable build(const config::TableFile& t, const KeyTable& keys);
    std::unordered_map<std::string, Rule> rules_;  // by Rule::from
};

// Whether domain is parent or equal to child (both normalised).
bool is_same_or_parent(std::string_view parent, std::string_view child) noexcept;

}  // namespace dkim
