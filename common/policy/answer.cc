// answer.cc - see answer.h
#include "common/policy/answer.h"

#include "common/sys/ascii.h"

namespace policy {
namespace {

bool blank(char c) noexcept { return c == ' ' || c == '\t'; }


// The length of the enhanced status code of class klass s starts with,
// followed by a blank or the end; 0 otherwise.
size_t enhanced_code(std::string_view s, char klass) noexcept {
    if (s.empty() || s[0] != klass) return 0;
    const size_t n = status_code_length(s);
    return n != 0 && (n == s.size() || blank(s[n])) ? n : 0;
}

Answer refusal(Verdict v, std::string_view code, std::string_view text, std::string_view fallback) {
    const char klass = v == Verdict::Tempfail ? '4' : '5';
    Answer a{v, std::string(code), std::string(1, klass) + ".7.1", {}};
    text = sys::trim(text);
    if (const size_t n = enhanced_code(text, klass)) {
        a.xcode = std::string(text.substr(0, n));
        text = sys::trim(text.substr(n));
    }
    a.text = std::string(text.empty() ? fallback : text);
    return a;
}

}  // namespace

Answer classify_action(std::string_view action) {
    action = sys::trim(action);
    size_t end = 0;
    while (end < action.size() && !blank(action[end])) ++end;
    const std::string word = sys::to_lower_ascii(action.substr(0, end));
    const std::string_view rest = action.substr(end);
    if (word == "ok" || word == "dunno" || word == "permit") return {};
    if (!word.empty() && word.find_first_not_of("0123456789") == std::string::npos) {
        // access(5): all-numeric is OK, but "450 text" is a reply code.
        if (word.size() == 3 && (word[0] == '4' || word[0] == '5'))
            return refusal(word[0] == '4' ? Verdict::Tempfail : Verdict::Reject, word, rest,
                           word[0] == '4' ? "Service unavailable" : "Access denied");
        if (sys::trim(rest).empty()) return {};
    }
    if (word == "defer_if_permit" || word == "defer") return refusal(Verdict::Tempfail, "450", rest, "Service unavailable");
    if (word == "reject") return refusal(Verdict::Reject, "554", rest, "Access denied");
    if (word == "hold") {
        const std::string_view why = sys::trim(rest);
        return {Verdict::Hold, {}, {}, std::string(why.empty() ? "held by the policy service" : why)};
    }
    return {Verdict::Other, {}, {}, std::string(action)};
}

std::string_view to_string(Verdict v) noexcept {
    switch (v) {
        case Verdict::Continue: return "continue";
        case Verdict::Tempfail: return "tempfail";
        case Verdict::Reject: return "reject";
        case Verdict::Hold: return "hold";
        case Verdict::Other: return "other";
    }
    return "other";
}

size_t status_code_length(std::string_view s) noexcept {
    if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return 0;
    size_t i = 2;
    for (int part = 0; part < 2; ++part) {
        const size_t start = i;
        while (i < s.size() && sys::is_digit(s[i]) && i - start < 4) ++i;
        if (i == start || i - start > 3) return 0;
        if (part == 0) {
            if (i >= s.size() || s[i] != '.') return 0;
            ++i;
        }
    }
    return i;
}

}  // namespace policy
