// doctor_report.h - the outcome of `sendguard doctor`: checks, text, JSON, exit
//
// A Check is one line of the report: what was checked (check "ptr",
// subject "192.0.2.10"), its Status, what was found and, unless it passed,
// the record to publish or the change to make (fix). The checks themselves
// are made elsewhere (doctor_checks.h); this module only reports them:
//
//   text_line(c)      "FAIL  spf customer-c.example: ...  ->  fix"
//   json_report(r)    one JSON object (sendguard(1) DOCTOR, "JSON")
//   exit_status(cs)   0 every check passed or warned, 1 some check failed,
//                     75 (EX_TEMPFAIL) none failed but some could not be
//                     made (DNS time-out or SERVFAIL): running it again
//                     later may pass
//
// Texts from DNS (records, names) are untrusted: they go through
// logging::printable() before they are shown.
// Errors: none (values); only std::bad_alloc escapes.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cli::doctor {

// Warn: works, but not as well as it should (DMARC p=none, no DMARC record);
// Temp: the check could not be made (DNS failure).
enum class Status { Pass, Warn, Fail, Temp };

struct Check {
    std::string check;    // "ptr", "spf", "mx", "dkim", "dmarc", "reply"
    std::string subject;  // the address or DNS name checked
    Status status = Status::Fail;
    std::string found;    // what was found, in a few words
    std::string fix;      // what to publish or change; empty when nothing to do
    bool operator==(const Check&) const = default;
};

struct Report {
    std::string domain;
    std::optional<std::string> bounce_domain;  // nullopt: the domain has none
    std::vector<Check> checks;
};

// "PASS", "WARN", "FAIL", "TEMP" (text); "pass", ... (JSON).
std::string_view to_string(Status s) noexcept;
std::string_view json_word(Status s) noexcept;

std::string text_line(const Check& c);
std::string json_report(const Report& r);
int exit_status(const std::vector<Check>& checks) noexcept;

inline constexpr int kExitFailed = 1;
inline constexpr int kExitTempFail = 75;  // EX_TEMPFAIL

}  // namespace cli::doctor
