// log_setup.cc - see log_setup.h
#include "common/daemon/log_setup.h"

#include "common/log/log.h"

namespace daemons {

config::Error invalid(const config::Config& cfg, config::AnyKey key, std::string_view value,
                      std::string_view why) {
    // A default has no line of its own; say so instead of naming a line.
    const std::string what =
        "invalid " + std::string(key.name()) + ": " + std::string(value) + " (";
    if (cfg.is_default(key)) return config::Error(what + "the default; " + std::string(why) + ")");
    return config::Error(cfg.origin_of(key) + ": " + what + std::string(why) + ")");
}

LogSettings LogSettings::from(const config::Config& cfg, std::string_view log_name) {
    LogSettings s;
    s.ident = cfg.str("syslog_name") + "/" + std::string(log_name);
    s.facility_name = cfg.str("syslog_facility");
    auto f = logging::facility_from_name(s.facility_name);
    if (!f)
        throw invalid(cfg, "syslog_facility", s.facility_name,
                      "expected one of " + logging::facility_names());
    s.facility = *f;
    s.to_stderr = cfg.boolean("log_to_stderr");
    return s;
}

void open_log(const LogSettings& s, bool foreground) noexcept {
    logging::open(s.ident.c_str(),
                  foreground || s.to_stderr ? logging::Sink::Stderr : logging::Sink::Syslog,
                  s.facility);
}

}  // namespace daemons
