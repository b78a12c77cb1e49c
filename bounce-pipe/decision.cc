// decision.cc - see decision.h
#include "bounce-pipe/decision.h"

namespace bounce {

logging::Line decision_line(const Decision& d, std::string_view verp, std::string_view signed_ok) {
    logging::Line l("bounce");
    l.kv("action", d.action)
        .kv("rcpt", "<" + d.rcpt + ">")
        .kv("verp", "<" + std::string(verp) + ">")
        .kv("signed", signed_ok)
        .kv("status", d.status.empty() ? "-" : d.status)
        .kv("class", d.klass.empty() ? "-" : d.klass)
        .kv("reason", d.reason.empty() ? "-" : d.reason);
    if (d.count >= 0) l.kv("count", d.count).kv("threshold", d.threshold);
    if (!d.domain.empty()) l.kv("domain", d.domain);
    if (d.repeat) l.kv("repeat", "yes");
    if (!d.why.empty()) l.kv("why", d.why);
    if (!d.file.empty()) l.kv("file", d.file);
    if (d.size >= 0) l.kv("size", d.size);
    if (!d.detail.empty()) l.kv("detail", d.detail);
    return l;
}

std::string decision_json(const Decision& d) {
    logging::JsonObject o;
    o.add("address", d.rcpt).add("action", d.action).add("status", d.status).add("class", d.klass)
        .add("reason", d.reason);
    if (d.count >= 0) o.add("count", d.count).add("threshold", d.threshold);
    if (!d.domain.empty()) o.add("domain", d.domain);
    if (d.repeat) o.add("repeat", true);
    if (!d.why.empty()) o.add("why", d.why);
    return o.str();
}

int action_rank(std::string_view a) noexcept {
    if (a == "suppress") return 3;
    if (a == "count") return 2;
    if (a == "block") return 1;
    return 0;
}

}  // namespace bounce
