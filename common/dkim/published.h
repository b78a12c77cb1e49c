// published.h - is a key's public half published in DNS? (safe rotation)
//
// DESCRIPTION
//   check_published(querier, key, budget) asks for the TXT record at
//   SELECTOR._domainkey.DOMAIN (RFC 6376 3.6.2.1) and compares it with the
//   key file's public key (key.h PrivateKey::matches):
//
//     Match            one DKIM key record whose p= is this key
//     Missing          NXDOMAIN, NODATA, or no TXT record that is a DKIM
//                      key record (v=DKIM1 first if present, a p= tag)
//     Revoked          the record's p= is empty (RFC 6376 3.6.1)
//     Mismatch         p= is another key (or not base64)
//     KeyTypeMismatch  k= (default rsa) is not the key file's type
//     TempFail         time-out, SERVFAIL or another failure
//
//   Several DKIM records at one name are ambiguous (RFC 6376 3.6.2.2:
//   verifiers may use any): Match only when every one is this key.
//   KeyCheck says what was found (found_text, cut to kMaxFoundText) and the
//   exact record to publish (expected_record), so `sendguard doctor` and
//   the milter's warnings say the same; describe() is that warning text:
//     dkim key s1._domainkey.example.com (file /etc/k.pem): public key not
//     published in DNS: no DKIM key record (nxdomain); publish "v=DKIM1;
//     k=ed25519; p=..."; not signing with it
//
//   KeyStatus caches each key's last check for an interval (the milter:
//   dkim_key_check_interval) and says whether a key may sign now:
//     - only a Match signs;
//     - a TempFail is retried after kTempFailRetry; meanwhile a key whose
//       last Match is younger than twice the interval keeps signing (a DNS
//       outage does not stop signing with a key that was good lately);
//     - every other outcome stops the key until a later check says Match.
//   usable() checks a key whose result is missing or stale at once,
//   within the budget given; refresh_due() re-checks every stale key (the
//   milter's background pass, so messages rarely wait for DNS). Each check
//   that is not a Match is logged once, as a warning (describe()).
//
// ERRORS
//   Values; only what the Querier throws (std::bad_alloc) escapes.
//
// THREAD SAFETY
//   check_published is as thread safe as the Querier; KeyStatus has its own
//   lock and may be shared by every thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/dkim/key_table.h"
#include "common/dns/reachability.h"
#include "common/dns/resolver.h"

namespace dkim {

enum class Outcome { Match, Missing, Revoked, Mismatch, KeyTypeMismatch, TempFail };
// "match", "missing", "revoked", "mismatch", "key_type_mismatch", "tempfail".
std::string_view to_string(Outcome o) noexcept;

inline constexpr std::size_t kMaxFoundText = 512;
inline constexpr std::chrono::seconds kTempFailRetry{60};

// The tags of a DKIM key record (RFC 6376 3.6.1) that matter here.
struct KeyRecord {
    std::string k = "rsa";
    std::string p;   // as published (base64, may hold white space)
    bool has_p = false;
};
// nullopt when text is no DKIM key record: bad tag-list syntax, a v= that
// is not first or not "DKIM1", a tag twice, or no p= tag.
std::optional<KeyRecord> parse_key_record(std::string_view text);

struct KeyCheck {
    Outcome outcome = Outcome::TempFail;
    std::string found_text;       // the TXT record(s) seen, "" none
    std::string expected_record;  // what to publish: key.record()
    std::string detail;           // why, in words
};

KeyCheck check_published(const dns::Querier& querier, const Key& key, std::chrono::seconds budget);
std::string describe(const KeyCheck& c, const Key& key);

class KeyStatus {
public:
    KeyStatus(std::chrono::seconds interval, dns::Clock clock = std::chrono::steady_clock::now);

    struct Use {
        bool sign = false;
        Outcome outcome = Outcome::TempFail;  // of the last check
    };
    // A budget below a second checks nothing (TempFail unless cached).
    Use usable(const dns::Querier& q, const Key& key, std::chrono::seconds budget);
    // Re-checks each key whose result is missing or stale, each with budget.
    void refresh_due(const dns::Querier& q, const std::vector<std::shared_ptr<const Key>>& keys,
                     std::chrono::seconds budget);
    std::optional<KeyCheck> last(const Key& key) const;

private:
    struct Entry {
        KeyCheck check;
        std::chrono::steady_clock::time_point checked{};
        std::optional<std::chrono::steady_clock::time_point> matched;
    };
    bool stale(const Entry& e, std::chrono::steady_clock::time_point now) const;
    Use decide(const Entry& e, std::chrono::steady_clock::time_point now) const;
    Entry& store(const Key& key, KeyCheck c, std::chrono::steady_clock::time_point now);

    std::chrono::seconds interval_;
    dns::Clock clock_;
    mutable std::mutex mu_;
    std::unordered_map<const Key*, Entry> entries_;
};

}  // namespace dkim
