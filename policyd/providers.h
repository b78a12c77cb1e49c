// providers.h - the provider table: which big mailbox provider runs an MX
//
// DESCRIPTION
//   Large providers (Gmail, Microsoft, Yahoo, GMX/web.de, ...) throttle a
//   sender per provider, not per recipient domain: the thousands of domains
//   hosted by Google Workspace share Google's limits. sendguard-policyd
//   therefore rolls a recipient domain up to the provider behind its MX
//   hosts, and shapes and backs off per provider.
//
//   A row is NAME PATTERN...; a host belongs to the row when one of its
//   patterns matches. A pattern is matched against the whole host name,
//   ignoring ASCII case and trailing dots; `*` matches one or more
//   characters and may span labels ("*.google.com" matches
//   "aspmx.l.google.com", not "google.com"; "mx*.t-online.de" matches
//   "mx00.t-online.de"). When patterns of several rows match, the most
//   specific one wins (most characters other than `*`); on a tie the earlier
//   row.
//
//   A pattern should end in a domain the provider owns: host names in
//   replies and MX records are chosen by whoever runs them, and
//   "*.ionos.*" would give mx.ionos.attacker.example the provider's
//   backoff. The built-in rows therefore name each top-level domain.
//
//   Built-in rows, in this order:
//     google        *.google.com *.googlemail.com
//     outlook       *.olc.protection.outlook.com        (Microsoft consumer)
//     microsoft365  *.mail.protection.outlook.com *.mx.microsoft
//     yahoo         *.yahoodns.net                       (Yahoo, AOL)
//     gmx           *.gmx.net *.gmx.com *.web.de *.kundenserver.de
//                   *.ionos.de *.ionos.com *.ionos.co.uk *.ionos.es *.ionos.fr
//                                                        (GMX, web.de, 1&1/IONOS)
//     t-online      mx*.t-online.de
//     apple         *.icloud.com
//     orange        *.orange.fr
//     comcast       *.comcast.net
//     free          *.free.fr
//     mailru        *.mail.ru
//     yandex        *.yandex.ru *.yandex.net
//     zoho          *.zoho.com *.zoho.eu
//     proton        *.protonmail.ch
//     fastmail      *.messagingengine.com
//
//   Override file (parameter policyd_provider_table), one row per line,
//   `#` starts a comment, blank lines ignored:
//       NAME PATTERN [PATTERN...]   replaces the built-in row NAME (in its
//                                   place) or adds a row (after the
//                                   built-in ones)
//       NAME -                      removes the built-in row NAME
//   NAME: 1 to 63 of [a-z0-9._-]; "default" is reserved (the destination
//   of a domain that matches no row). PATTERN: at most 253 characters of
//   [A-Za-z0-9.*-] (lower-cased), labels not empty, no "**", and at least
//   one character other than `*` and `.`. A row at most kMaxPatterns
//   patterns, a file at most kMaxRows rows and lines of kMaxLine bytes.
//
//   Roll-up (rollup): a domain belongs to a provider when EVERY one of its
//   MX hosts matches that same provider; its key is then the provider name.
//   No MX hosts, a null MX (RFC 7505: the single host "."), a host that
//   matches no row or hosts of different providers make it its own
//   destination: provider "default", key the domain (lower case, without
//   a trailing dot). An implicit MX (RFC 5321 §5.1: the domain itself) is
//   passed in as the host list {domain}.
//
//     auto table = policyd::ProviderTable::load("/etc/sendguard/providers");
//     table.provider_of_host("mx01.emig.gmx.net");      // "gmx"
//     table.rollup("example.org", {"aspmx.l.google.com", "alt1.aspmx.l.google.com"});
//                                            // {"google", "google"}
//     table.rollup("example.net", {"mx.example.net"});   // {"default", "example.net"}
//
// ERRORS
//   parse()/load() throw config::Error "FILE:LINE: message" for a bad name,
//   a bad pattern, a duplicate row, the reserved name, a removal of a row
//   that is not built in, a line or file past its limit; load() names the
//   file when it cannot be read. Lookups are values.
//
// THREAD SAFETY
//   Immutable after construction: a const ProviderTable may be shared by
//   threads.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policyd {

// The destination name of a domain that belongs to no provider.
inline constexpr std::string_view kDefaultProvider = "default";

inline constexpr std::size_t kMaxPatterns = 64;  // per row
inline constexpr std::size_t kMaxRows = 1024;    // per table
inline constexpr std::size_t kMaxLine = 4096;    // bytes per override line
inline constexpr std::size_t kMaxNameLength = 63;
inline constexpr std::size_t kMaxPatternLength = 253;

struct ProviderRow {
    std::string name;
    std::vector<std::string> patterns;  // lower case, validated
    bool operator==(const ProviderRow&) const = default;
};

// Where a recipient domain's mail goes, as rate rules and backoff see it.
struct Destination {
    std::string provider;  // a row name, or "default"
    std::string key;       // the provider name, or the domain for "default"
    bool operator==(const Destination&) const = default;
};

class ProviderTable {
public:
    // An empty table (no rows: every domain is its own destination).
    ProviderTable() = default;

    // The built-in rows of DESCRIPTION.
    static ProviderTable builtin();
    // The built-in rows with the override file at path applied.
    static ProviderTable load(const std::string& path);
    // The built-in rows with override text applied; origin names it in
    // errors ("origin:line: ...").
    static ProviderTable parse(std::string_view text, std::string_view origin);
    // base with override text applied (tests start from an empty table).
    static ProviderTable parse(std::string_view text, std::string_view origin, ProviderTable base);

    // The provider whose pattern matches host best; nullopt for none (also
    // for an empty or over-long host name).
    std::optional<std::string> provider_of_host(std::string_view host) const;
    // See DESCRIPTION (Roll-up).
    Destination rollup(std::string_view domain, const std::vector<std::string>& mx_hosts) const;

    const std::vector<ProviderRow>& rows() const noexcept { return rows_; }
    const ProviderRow* find(std::string_view name) const noexcept;

private:
    std::vector<ProviderRow> rows_;
};

// Whether pattern (lower case, as validated) matches host, ignoring ASCII
// case and trailing dots of host. Linear-time in practice: at most
// pattern.size() * host.size() steps.
bool pattern_matches(std::string_view pattern, std::string_view host) noexcept;

// Why text is no valid provider row name, or nullopt.
std::optional<std::string> check_provider_name(std::string_view name);
// Why text is no valid pattern, or nullopt.
std::optional<std::string> check_pattern(std::string_view pattern);

// lower case, trailing dots removed.
std::string normalise_host(std::string_view host);

}  // namespace policyd
