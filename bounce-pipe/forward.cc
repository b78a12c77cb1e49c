// forward.cc - see forward.h
#include "bounce-pipe/forward.h"

#include <cstdio>
#include <ctime>

#include "common/address/forward_seal.h"
#include "common/sys/ascii.h"

namespace bounce {
namespace {

// RFC 5322 3.3 date-time in UTC, with English names whatever the locale.
std::string rfc5322_date(std::chrono::sys_seconds now) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t t = static_cast<std::time_t>(now.time_since_epoch().count());
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7], tm.tm_mday,
                  kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

}  // namespace

bool is_null_sender(std::string_view s) noexcept {
    return s.empty() || s == "<>" || (s.size() == 13 && sys::to_lower_ascii(s) == "mailer-daemon");
}

std::string_view forward_refusal(const ForwardFacts& f) {
    if (!f.enabled) return "off";
    if (!f.signed_ok) return "unsigned";
    if (is_null_sender(f.envelope_sender)) return "null-sender";
    if (f.kind != dsn::Kind::None) return "report";
    if (!f.automatic.empty()) return "automatic";
    if (f.sealed) return "sealed";
    if (f.from_count != 1) return "no-from";
    // sendguard-milter reads a From: value up to address::kMaxHeaderInput
    // octets and refuses a longer one: such a forward would be refused
    // after sendmail(1) had taken it, with nobody to tell.
    if (f.from_size > address::kMaxHeaderInput) return "long-from";
    if (!f.original_sender || f.original_sender->empty()) return "no-sender";
    return {};
}

ReplyHeaders read_reply_headers(std::string_view m) {
    ReplyHeaders h;
    bool in_from = false;
    std::size_t pos = 0;
    while (pos < m.size()) {
        std::size_t nl = m.find('\n', pos);
        if (nl == std::string_view::npos) nl = m.size();
        std::string_view line = m.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;  // end of the header block
        if (line.front() == ' ' || line.front() == '\t') {
            if (in_from) {  // a folded From: (RFC 5322 2.2.3)
                h.from.append(" ").append(line);
                h.from_size += 2 + line.size();
            }
            continue;
        }
        in_from = false;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        if (sys::iequals(name, "From")) {
            if (++h.from_count == 1) {
                h.from = std::string(line.substr(colon + 1));
                h.from_size = h.from.size();
                in_from = true;
            }
        } else if (sys::iequals(name, address::kForwardSealHeader)) {
            h.sealed = true;
        }
    }
    h.from = address::canonical_from(h.from);
    return h;
}

std::string forward_message(std::string_view message, std::string_view seal, std::string_view bounce_address,
                            std::string_view original_sender, std::chrono::sys_seconds now) {
    std::string out;
    out.reserve(message.size() + 512);
    out.append(address::kForwardSealHeader).append(": ").append(seal).append("\n");
    out.append("Auto-Submitted: auto-forwarded\n");
    out.append("Resent-From: <").append(bounce_address).append(">\n");
    out.append("Resent-To: <").append(original_sender).append(">\n");
    out.append("Resent-Date: ").append(rfc5322_date(now)).append("\n");
    out.append(message);
    return out;
}

std::vector<std::string> forward_argv(const std::string& command, const std::string& original_sender) {
    return {command, "-G", "-i", "-f", "", "--", original_sender};
}

}  // namespace bounce
