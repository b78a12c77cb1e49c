// local_origin.cc - see local_origin.h
#include "bounce-pipe/local_origin.h"

#include <algorithm>

#include "bounce-pipe/evidence.h"
#include "common/sys/ascii.h"

namespace bounce {
namespace {

bool is_named(std::string_view host, const std::vector<std::string>& names) {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return sys::iequals(host, n); });
}

// The next word of s (split on blanks), removed from s.
std::string_view word(std::string_view& s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) {
        s = {};
        return {};
    }
    s.remove_prefix(b);
    size_t e = s.find_first_of(" \t\r\n;");
    std::string_view w = s.substr(0, e);
    s.remove_prefix(w.size());
    return w;
}

}  // namespace

bool is_local_report(std::string_view message, std::string_view reporting_mta,
                     const std::vector<std::string>& names, std::string_view queue_id) {
    // Without the queue id a message that local(8) forwarded (an alias to
    // the bounce address) would pass: its first Received field has the same
    // form, with the forwarded message's queue id.
    if (queue_id.empty() || names.empty() || !is_named(reporting_mta, names)) return false;
    const std::string received = first_header(message, "received");
    std::string_view s = received;
    if (!sys::iequals(word(s), "by") || !is_named(word(s), names)) return false;
    if (word(s) != "(Postfix)") return false;
    if (!sys::iequals(word(s), "id")) return false;
    std::string_view id = word(s);
    if (id != queue_id) return false;
    size_t b = s.find_first_not_of(" \t\r\n");
    return b != std::string_view::npos && s[b] == ';';
}

}  // namespace bounce
