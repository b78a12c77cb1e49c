// doctor_cmd.cc - "sendguard doctor DOMAIN [--json]": onboarding a domain
//
// Reads the configuration, runs the checks of doctor.h for DOMAIN and
// prints one line per check (doctor_report.h), or with --json one object.
// The exit status is the report's (0, 1 or 75); 2 for a usage error, 3 for
// a configuration or key file error.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/doctor.h"
#include "common/config/load.h"

namespace cli {
namespace {

constexpr const char* kUsageText = "usage: sendguard [-c config] [-o name=value] doctor [--json] domain\n";

void out(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
}

}  // namespace

int doctor_command(const Global& g, const std::vector<std::string>& args) noexcept {
    if (wants_help(args)) {
        std::fputs(kUsageText, stdout);
        return 0;
    }
    bool json = false;
    std::vector<std::string> words;
    for (const std::string& a : args) {
        if (a == "--json") json = true;
        else if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "sendguard: doctor: unknown option %s\n%s", a.c_str(), kUsageText);
            return kUsage;
        } else words.push_back(a);
    }
    if (words.size() != 1) {
        std::fprintf(stderr, "sendguard: doctor: name one domain\n%s", kUsageText);
        return kUsage;
    }
    const auto domain = address::normalise_domain(words.front());
    if (!domain || domain->is_literal()) {
        std::fprintf(stderr, "sendguard: doctor: %s: not a domain name\n", words.front().c_str());
        return kUsage;
    }
    try {
        const config::Config cfg = config::load(g.config_path, g.overrides);
        for (const auto& w : cfg.warnings()) std::fprintf(stderr, "sendguard: warning: %s\n", w.c_str());
        const doctor::Settings settings = doctor::Settings::from(cfg);
        const doctor::Report report = doctor::diagnose(settings, *domain);
        if (json) {
            out(doctor::json_report(report));
        } else {
            for (const doctor::Check& c : report.checks) out(doctor::text_line(c));
        }
        return doctor::exit_status(report.checks);
    } catch (const address::KeyFileError& e) {
        std::fprintf(stderr, "sendguard: doctor: verp_key_file %s\n", e.what());
        return kFailure;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sendguard: doctor: %s\n", e.what());
        return kFailure;
    }
}

}  // namespace cli
