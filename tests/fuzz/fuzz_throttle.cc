// fuzz_throttle.cc - sendguard-policyd's throttling parsers over arbitrary text
//
// The same input is read as rate limits, as a delivery-status-filter key,
// as retry-after wording, as a rate-rules file and as a reply-pattern file.
// Limits must either parse or return an error; parsed limits must format and
// parse back equal, and GCRA over them must keep its bounds. Files must
// either parse or throw config::Error. Anything else (a crash, a sanitizer
// report, another exception) is a bug.
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/error.h"
#include "policyd/rate.h"
#include "policyd/reply_class.h"
#include "policyd/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    const policyd::LimitsParse lp = policyd::parse_limits(text);
    if (lp) {
        const policyd::LimitsParse back = policyd::parse_limits(policyd::format_limits(lp.windows));
        if (!back || back.windows != lp.windows) std::abort();
        std::vector<policyd::GcraState> states(lp.windows.size());
        const int64_t nows[] = {0, 1'780'000'000'000'000, std::numeric_limits<int64_t>::max()};
        for (int64_t now : nows)
            for (uint64_t cost : {uint64_t{1}, uint64_t{size}}) {
                const policyd::Verdict v = policyd::consume(lp.windows, states, now, cost);
                if (!v.allowed && v.window >= lp.windows.size()) std::abort();
                if (v.retry_after_us < 0) std::abort();
                for (size_t i = 0; i < lp.windows.size(); ++i)
                    if (policyd::used(lp.windows[i], states[i], now) > lp.windows[i].burst) std::abort();
                policyd::refund(lp.windows, states, now, cost);
            }
    } else if (lp.error.empty() || !lp.windows.empty()) {
        std::abort();
    }

    if (const auto key = policyd::parse_status_key(text)) {
        if (key->enhanced.empty() || key->success != (key->enhanced[0] == '2')) std::abort();
    }
    const policyd::Classification c = policyd::classify_key(text);
    if (c.retry_after_us && (*c.retry_after_us <= 0 || *c.retry_after_us > policyd::kMaxRetryAfterUs)) std::abort();
    const auto r = policyd::retry_after(text);
    if (r && (*r <= 0 || *r > policyd::kMaxRetryAfterUs)) std::abort();

    try {
        const std::vector<policyd::Rule> rules = policyd::parse_rules(text, "fuzz");
        const policyd::RequestValues req{.sasl_username = text.substr(0, 300),
                                         .sender_domain = "example.org",
                                         .client_address = "192.0.2.1",
                                         .policy_context = "",
                                         .provider = "default",
                                         .recipient_domain = text.substr(0, 100)};
        for (const policyd::Rule& rule : rules) {
            if (rule.limits.empty() || rule.limits.size() > policyd::kMaxWindows) std::abort();
            const auto k = policyd::rule_key(rule, req);
            if (k && k->size() > policyd::kMaxBucketKey) std::abort();
        }
    } catch (const config::Error&) {
    }
    try {
        const policyd::ReplyPatterns p = policyd::ReplyPatterns::parse(text, "fuzz");
        policyd::classify_key("4.7.0 host mx.example[192.0.2.4] said: 421 4.7.0 rate limit", &p);
    } catch (const config::Error&) {
    }
    return 0;
}
