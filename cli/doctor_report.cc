// doctor_report.cc - see doctor_report.h
#include "cli/doctor_report.h"

#include "common/log/json.h"
#include "common/log/log.h"

namespace cli::doctor {
namespace {

// Long enough for a 4096-bit DKIM record to publish (about 750 octets).
constexpr size_t kMaxShown = 2048;

std::string shown(std::string_view s) { return logging::printable(s, kMaxShown); }

}  // namespace

std::string_view to_string(Status s) noexcept {
    switch (s) {
    case Status::Pass: return "PASS";
    case Status::Warn: return "WARN";
    case Status::Fail: return "FAIL";
    case Status::Temp: return "TEMP";
    }
    return "FAIL";
}

std::string_view json_word(Status s) noexcept {
    switch (s) {
    case Status::Pass: return "pass";
    case Status::Warn: return "warn";
    case Status::Fail: return "fail";
    case Status::Temp: return "temp";
    }
    return "fail";
}

std::string text_line(const Check& c) {
    std::string line(to_string(c.status));
    line += "  " + c.check + " " + shown(c.subject) + ": " + shown(c.found);
    if (!c.fix.empty()) line += "  ->  " + shown(c.fix);
    return line;
}

std::string json_report(const Report& r) {
    logging::JsonArray checks;
    for (const Check& c : r.checks) {
        logging::JsonObject o;
        o.add("check", c.check).add("subject", c.subject).add("status", json_word(c.status)).add("found", c.found);
        if (c.fix.empty()) o.add_null("fix");
        else o.add("fix", c.fix);
        checks.add_raw(o.str());
    }
    logging::JsonObject o;
    o.add("domain", r.domain);
    if (r.bounce_domain) o.add("bounce_domain", *r.bounce_domain);
    else o.add_null("bounce_domain");
    o.add("exit_status", exit_status(r.checks)).add_raw("checks", checks.str());
    return o.str();
}

int exit_status(const std::vector<Check>& checks) noexcept {
    bool temp = false;
    for (const Check& c : checks) {
        if (c.status == Status::Fail) return kExitFailed;
        if (c.status == Status::Temp) temp = true;
    }
    return temp ? kExitTempFail : 0;
}

}  // namespace cli::doctor
