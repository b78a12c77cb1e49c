// reply_class.cc - status-key parser and throttling classifier (see reply_class.h)
#include "policyd/reply_class.h"

#include <algorithm>
#include <array>

#include "common/config/error.h"
#include "common/config/table_file.h"
#include "common/policy/answer.h"
#include "common/sys/ascii.h"
#include "policyd/reply_patterns.h"

namespace policyd {

namespace {

bool starts(std::string_view s, std::string_view p) noexcept { return s.substr(0, p.size()) == p; }


// "host[ip]" at the start of s: sets host and ip, returns the length, 0 if
// s does not start so.
size_t host_ip(std::string_view s, StatusKey& k) {
    const size_t open = s.find('[');
    if (open == 0 || open == std::string_view::npos) return 0;
    const size_t close = s.find(']', open);
    if (close == std::string_view::npos) return 0;
    const std::string_view host = s.substr(0, open);
    if (host.find(' ') != std::string_view::npos) return 0;
    std::string_view ip = s.substr(open + 1, close - open - 1);
    if (sys::istarts_with(ip, "ipv6:")) ip.remove_prefix(5);
    k.host = sys::to_lower_ascii(host);
    k.ip = std::string(ip);
    return close + 1;
}

// A remote reply "451 4.7.1 text": sets reply_code and text.
void remote_reply(std::string_view r, StatusKey& k) {
    r = sys::trim(r);
    // Postfix appends the SMTP command the reply answered.
    const size_t tail = r.rfind(" (in reply to ");
    if (tail != std::string_view::npos && r.back() == ')') r = sys::trim(r.substr(0, tail));
    if (r.size() >= 3 && sys::is_digit(r[0]) && sys::is_digit(r[1]) && sys::is_digit(r[2]) &&
        (r.size() == 3 || r[3] == ' ' || r[3] == '-')) {
        k.reply_code = std::string(r.substr(0, 3));
        r = sys::trim(r.substr(std::min<size_t>(4, r.size())));
    }
    k.text = std::string(r);
}

}  // namespace

std::optional<StatusKey> parse_status_key(std::string_view key) {
    if (key.size() > kMaxStatusKey) return std::nullopt;
    const size_t n = policy::status_code_length(key);
    if (n == 0 || (n < key.size() && key[n] != ' ')) return std::nullopt;
    StatusKey k;
    k.enhanced = std::string(key.substr(0, n));
    k.success = key[0] == '2';
    std::string_view rest = sys::trim(key.substr(n));
    // Postfix's wording when a destination was marked dead before this try.
    if (sys::istarts_with(rest, "delivery temporarily suspended: "))
        rest.remove_prefix(std::string_view("delivery temporarily suspended: ").size());

    if (starts(rest, "host ")) {
        const std::string_view after = rest.substr(5);
        const size_t len = host_ip(after, k);
        // "host H[IP] said: REPLY", and for a greeting "host H[IP] refused
        // to talk to me: REPLY" (Postfix smtp_proto.c wording).
        for (std::string_view verb : {" said: ", " refused to talk to me: "}) {
            if (len != 0 && after.substr(len, verb.size()) == verb) {
                remote_reply(after.substr(len + verb.size()), k);
                return k;
            }
        }
        k.host.clear();
        k.ip.clear();
    }
    for (std::string_view lead : {"connect to ", "lost connection with ", "conversation with "}) {
        if (!starts(rest, lead)) continue;
        std::string_view after = rest.substr(lead.size());
        const size_t len = host_ip(after, k);
        if (len == 0) break;
        after.remove_prefix(len);
        if (lead == "connect to ") {  // ":25: Connection refused"
            const size_t colon = after.find(": ");
            after = colon == std::string_view::npos ? std::string_view{} : after.substr(colon + 2);
        }
        k.text = std::string(sys::trim(after));
        return k;
    }
    remote_reply(rest, k);
    return k;
}

std::string_view signal_name(Signal s) noexcept {
    switch (s) {
    case Signal::Success: return "success";
    case Signal::RateLimit: return "ratelimit";
    case Signal::Ordinary: return "ordinary";
    case Signal::Permanent: return "permanent";
    case Signal::Other: break;
    }
    return "other";
}

std::string_view kind_name(RateKind k) noexcept {
    switch (k) {
    case RateKind::Rate: return "rate";
    case RateKind::Connections: return "connections";
    case RateKind::Reputation: return "reputation";
    case RateKind::None: break;
    }
    return "none";
}

namespace {

bool row_matches(const ReplyPattern& p, std::string_view lowered, std::string_view enhanced) noexcept {
    if (!p.status.empty() && p.status != enhanced) return false;
    return p.text.empty() || lowered.find(p.text) != std::string_view::npos;
}

constexpr config::TableLimits kPatternLimits{.max_line = kMaxPatternText + 64,
                                             .max_key = 32,
                                             .max_entries = kMaxPatternRows,
                                             .max_bytes = 1u << 20,
                                             .duplicate_keys = true};

}  // namespace

const ReplyPattern* ReplyPatterns::match(std::string_view lowered, std::string_view enhanced) const noexcept {
    for (const ReplyPattern& p : rows_)
        if (row_matches(p, lowered, enhanced)) return &p;
    return nullptr;
}

ReplyPatterns ReplyPatterns::load(const std::string& path) {
    return from_table(config::TableFile::load(path, kPatternLimits));
}

ReplyPatterns ReplyPatterns::parse(std::string_view text, std::string_view origin) {
    return from_table(config::TableFile::parse(text, origin, kPatternLimits));
}

ReplyPatterns ReplyPatterns::from_table(const config::TableFile& t) {
    ReplyPatterns r;
    r.texts_.reserve(t.entries().size());
    for (const auto& e : t.entries()) {
        const std::string_view key = e.key;
        const size_t colon = key.find(':');
        const std::string cls = sys::to_lower_ascii(key.substr(0, colon));
        const std::string kind =
            colon == std::string_view::npos ? std::string() : sys::to_lower_ascii(key.substr(colon + 1));
        ReplyPattern p{PatternClass::Ordinary, RateKind::None, {}, {}};
        if (cls == "ratelimit") {
            p.cls = PatternClass::RateLimit;
            p.kind = RateKind::Rate;
        } else if (cls == "ordinary") {
            p.cls = PatternClass::Ordinary;
        } else if (cls == "permanent") {
            p.cls = PatternClass::Permanent;
        } else {
            throw config::Error(t.where(e) + ": unknown class \"" + cls +
                                "\" (expected ratelimit, ordinary or permanent, then the reply text)");
        }
        if (colon != std::string_view::npos) {
            if (p.cls == PatternClass::Ordinary)
                throw config::Error(t.where(e) + ": an ordinary row has no kind (\"" + std::string(key) + "\")");
            if (kind == "rate")
                p.kind = RateKind::Rate;
            else if (kind == "connections")
                p.kind = RateKind::Connections;
            else if (kind == "reputation")
                p.kind = RateKind::Reputation;
            else
                throw config::Error(t.where(e) + ": unknown kind \"" + kind +
                                    "\" (expected rate, connections or reputation)");
        }
        if (e.value.size() > kMaxPatternText)
            throw config::Error(t.where(e) + ": reply text longer than " + std::to_string(kMaxPatternText) +
                                " bytes");
        // One space for each run of white space (continuation lines).
        std::string text;
        for (char ch : e.value) {
            if (sys::is_space(ch)) {
                if (!text.empty() && text.back() != ' ') text += ' ';
            } else {
                text += sys::ascii_lower(ch);
            }
        }
        r.texts_.push_back(std::move(text));
        r.rows_.push_back(p);
    }
    r.point();
    return r;
}

void ReplyPatterns::point() noexcept {
    for (size_t i = 0; i < rows_.size(); ++i) rows_[i].text = texts_[i];
}

ReplyPatterns::ReplyPatterns(const ReplyPatterns& o) : texts_(o.texts_), rows_(o.rows_) { point(); }

ReplyPatterns& ReplyPatterns::operator=(const ReplyPatterns& o) {
    if (this != &o) {
        texts_ = o.texts_;
        rows_ = o.rows_;
        point();
    }
    return *this;
}

Classification classify(const StatusKey& key, const ReplyPatterns* extra) {
    Classification c;
    if (key.success) {
        c.signal = Signal::Success;
        return c;
    }
    const bool permanent = !key.enhanced.empty() && key.enhanced[0] == '5';
    std::string lowered = key.reply_code;
    if (!lowered.empty()) lowered += ' ';
    lowered += sys::to_lower_ascii(key.text);
    const ReplyPattern* row = extra ? extra->match(lowered, key.enhanced) : nullptr;
    c.from_extra = row != nullptr;
    if (!row)
        for (const ReplyPattern& p : kReplyPatterns)
            if (row_matches(p, lowered, key.enhanced)) {
                row = &p;
                break;
            }
    c.signal = permanent ? Signal::Permanent : Signal::Ordinary;
    if (row) {
        c.pattern = row->text.empty() ? row->status : row->text;
        switch (row->cls) {
        case PatternClass::RateLimit:
            c.kind = row->kind;
            if (!permanent) c.signal = Signal::RateLimit;
            break;
        case PatternClass::Permanent:
            c.kind = row->kind;
            c.signal = Signal::Permanent;
            break;
        case PatternClass::Ordinary:
            break;
        }
    }
    if (c.signal == Signal::RateLimit || c.signal == Signal::Permanent) c.retry_after_us = retry_after(lowered);
    return c;
}

Classification classify_key(std::string_view key, const ReplyPatterns* extra) {
    const std::optional<StatusKey> k = parse_status_key(key);
    if (!k) return Classification{};
    return classify(*k, extra);
}

namespace {

struct RetryUnit {
    std::string_view word;
    int64_t seconds;
};
constexpr RetryUnit kRetryUnits[] = {
    {"s", 1},          {"sec", 1},         {"secs", 1},        {"second", 1},    {"seconds", 1},
    {"sekunde", 1},    {"sekunden", 1},    {"seconde", 1},     {"secondes", 1},  {"m", 60},
    {"min", 60},       {"mins", 60},       {"minute", 60},     {"minutes", 60},  {"minuten", 60},
    {"h", 3600},       {"hr", 3600},       {"hrs", 3600},      {"hour", 3600},   {"hours", 3600},
    {"stunde", 3600},  {"stunden", 3600},  {"heure", 3600},    {"heures", 3600}, {"d", 86400},
    {"day", 86400},    {"days", 86400},    {"tag", 86400},     {"tagen", 86400}, {"jour", 86400},
    {"jours", 86400},
};
constexpr std::string_view kRetryLeads[] = {"in", "after", "wait", "dans", "nach", "apr\xc3\xa8s", "apres"};
constexpr std::string_view kOne[] = {"a", "an", "one", "einer", "eine", "un", "une"};

// Words of a lower-cased text: runs of letters, digits and UTF-8 bytes; a
// run of digits followed by letters ("60s") is two words.
std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size() && out.size() < 512) {
        auto word_char = [](char c) { return sys::is_alnum(c) || static_cast<unsigned char>(c) >= 0x80; };
        if (!word_char(s[i])) {
            ++i;
            continue;
        }
        const size_t start = i;
        if (sys::is_digit(s[i])) {
            while (i < s.size() && sys::is_digit(s[i])) ++i;
        } else {
            while (i < s.size() && word_char(s[i])) ++i;
        }
        out.push_back(s.substr(start, i - start));
    }
    return out;
}

}  // namespace

std::optional<int64_t> retry_after(std::string_view text) {
    const std::string lowered = sys::to_lower_ascii(text.substr(0, kMaxStatusKey));
    const std::vector<std::string_view> w = words(lowered);
    for (size_t i = 0; i + 2 < w.size(); ++i) {
        if (std::find(std::begin(kRetryLeads), std::end(kRetryLeads), w[i]) == std::end(kRetryLeads)) continue;
        int64_t n = 0;
        const std::string_view num = w[i + 1];
        if (sys::is_digit(num[0])) {
            if (num.size() > 9) continue;
            for (char c : num) n = n * 10 + (c - '0');
        } else if (std::find(std::begin(kOne), std::end(kOne), num) != std::end(kOne)) {
            n = 1;
        } else {
            continue;
        }
        for (const RetryUnit& u : kRetryUnits) {
            if (u.word != w[i + 2]) continue;
            if (n <= 0) return std::nullopt;
            const int64_t us = std::min<int64_t>(n * u.seconds, kMaxRetryAfterUs / 1'000'000) * 1'000'000;
            return us;
        }
    }
    return std::nullopt;
}

}  // namespace policyd
