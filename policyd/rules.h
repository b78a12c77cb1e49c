// rules.h - the rate-rules table (policyd_rate_rules)
//
// One rule per logical line, '#' comments, a line starting with white space
// continues the previous one:
//     NAME  [key=PARTS] [provider=NAME|default] [count=messages|recipients]
//           [action=defer|hold|reject|filter:TRANSPORT:NEXTHOP]  LIMITS
//   NAME     1..kMaxRuleName of [A-Za-z0-9_.-], unique in the file
//   key=     '+'-joined sasl_username|sender_domain|client_address|
//            policy_context|provider, each at most once: what a bucket is
//            keyed on (no key=: one bucket for all requests); provider is
//            the recipient's provider after MX roll-up, or for a domain of
//            no provider (`default`) the recipient domain itself
//   provider= the rule applies only to recipients of that provider;
//            `default` = domains that match no provider row (without
//            provider=: every recipient)
//   count=   what one request costs: 1 (messages, the default) or the
//            recipient count (recipients)
//   action=  what the policy service answers when a limit is reached
//            (default defer); filter:TRANSPORT:NEXTHOP answers
//            FILTER TRANSPORT:NEXTHOP (NEXTHOP may be empty)
//   LIMITS   the first token without '=' and the rest of the line:
//            policyd/rate.h grammar, e.g. "600/h burst 20, 10000/day"
// Options are lower case and given at most once each.
//
//   std::vector<Rule> rules = load_rules(path);
//   if (rule_applies(rule, req)) if (auto key = rule_key(rule, req)) ...
//
// rule_key() joins the values of the rule's key parts with '|' in the
// rule's order ("" for no key=); '|' and '%' in a value are written %7C
// and %25 so that two requests never share a key by accident. A key over
// kMaxBucketKey bytes is cut and ends in '#' and the FNV-1a 64 hash (16 hex
// digits) of the whole key. nullopt (the rule does not apply to this
// request) when any part is empty: sasl_username (not authenticated),
// sender_domain (the null sender of bounces, or a sender without a
// domain), client_address, policy_context, or a provider part with no
// provider (no recipient yet).
// rule_applies(): provider= matches req.provider ("default" for a domain
// of no provider row); a rule without provider= applies to every request.
//
// check_rule_providers(): every provider=NAME must name a row of the
// provider table the rules run with (or be default); a typo would otherwise
// be a rule that silently never applies. The service calls it where it loads
// both tables (load_policy_tables).
//
// Errors: load_rules()/parse_rules() throw config::Error "path:line: rule
// NAME: ..." naming the field at fault (unknown option, bad key part,
// duplicate name or option, bad limits, ...), "path: ..." for the file.
// check_rule_providers() throws config::Error "origin:line: rule NAME:
// provider=: unknown provider ..." naming where the names come from
// (names_from) and listing them.
// At most kMaxRules rules, logical lines of kMaxRuleLine bytes.
// Thread safety: pure functions; rules are immutable values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policyd/rate.h"

namespace policyd {

inline constexpr size_t kMaxRules = 1000;
inline constexpr size_t kMaxRuleLine = 4096;
inline constexpr size_t kMaxRuleName = 64;
inline constexpr size_t kMaxBucketKey = 382;  // store::kThrottleMaxKey

enum class KeyPart { SaslUsername, SenderDomain, ClientAddress, PolicyContext, Provider };
std::string_view key_part_name(KeyPart p) noexcept;

struct Rule {
    enum class Count { Messages, Recipients };
    enum class Action { Defer, Hold, Reject, Filter };

    std::string name;
    std::vector<KeyPart> key;
    std::string provider;            // "" any; "default"; a provider name
    Count count = Count::Messages;
    Action action = Action::Defer;
    std::string filter;              // Filter: "TRANSPORT:NEXTHOP"
    std::vector<Window> limits;
    int line = 0;
};

std::string_view action_name(Rule::Action a) noexcept;  // "defer", "hold", "reject", "filter"
std::string_view count_name(Rule::Count c) noexcept;    // "messages", "recipients"

std::vector<Rule> load_rules(const std::string& path);
std::vector<Rule> parse_rules(std::string_view text, std::string_view origin);
// origin: the rules file as errors name it; names: the provider table's row
// names; names_from: where those come from, for the message.
void check_rule_providers(const std::vector<Rule>& rules, std::string_view origin,
                          const std::vector<std::string>& names, std::string_view names_from);

// The request's values a key is built from (views: the caller owns them).
struct RequestValues {
    std::string_view sasl_username;
    std::string_view sender_domain;     // lower case; "" for the null sender
    std::string_view client_address;
    std::string_view policy_context;
    std::string_view provider;          // provider name, "default", or "" (unknown)
    std::string_view recipient_domain;  // lower case; the bucket for "default"
};

bool rule_applies(const Rule& rule, const RequestValues& req) noexcept;
std::optional<std::string> rule_key(const Rule& rule, const RequestValues& req);

}  // namespace policyd
