// verp_cmd.cc - "sendguard verp encode|decode": signed VERP senders by hand
//
// encode signs with the first bounce domain, as the milter will; a recipient
// too long for a VERP local part gets a token, recorded in the send log (a
// write to the store) so that sendguard-bounce can resolve the bounce.
// decode checks an address with the codec of its own domain, when that is
// one of bounce_domains (listed or matching a pattern), and reads the send
// log read-only.
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "common/address/verp_setup.h"
#include "common/config/load.h"
#include "common/log/json.h"
#include "common/store/sendlog.h"

namespace cli {
namespace {

constexpr const char* kUsageText =
    "usage: sendguard [-c config] [-o name=value] verp encode [--json] address ...\n"
    "       sendguard [-c config] verp decode [--json] address ...\n";

void out(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
}

// The word sendguard(1) documents for each status.
std::string_view status_word(address::VerpStatus s) {
    switch (s) {
    case address::VerpStatus::Ok: return "valid";
    case address::VerpStatus::Expired: return "expired";
    case address::VerpStatus::BadMac: return "forged";
    case address::VerpStatus::Truncated: return "truncated";
    case address::VerpStatus::Malformed: return "malformed";
    case address::VerpStatus::NotVerp: return "not-verp";
    }
    return "not-verp";
}

int encode(const config::Config& cfg, const std::vector<address::VerpCodec>& codecs,
           const std::vector<std::string>& words, bool json) {
    const int64_t now = static_cast<int64_t>(std::time(nullptr));
    // A token stands for its recipient as long as a bounce to the tag is
    // accepted: verp_max_age, plus the day of clock skew the decoder allows.
    const int64_t token_expiry = now + cfg.duration("verp_max_age").count() + 86400;
    std::optional<store::SendLog> log;
    int status = 0;
    for (const auto& w : words) {
        auto rcpt = address::parse_path(w);
        if (!rcpt || rcpt->is_null()) {
            std::fprintf(stderr, "sendguard: verp encode: %s: %s\n", w.c_str(),
                         rcpt ? "the null sender has no VERP form" : std::string(address::to_string(rcpt.error())).c_str());
            status = kUsage;
            continue;
        }
        auto e = codecs.front().encode(*rcpt, address::make_random_token);
        if (!e) {
            std::fprintf(stderr, "sendguard: verp encode: %s: does not fit in a VERP address\n", w.c_str());
            status = kUsage;
            continue;
        }
        if (e->is_token) {
            if (!log) log.emplace(open_store(cfg, false));
            log->put(e->token, rcpt->normalised(), token_expiry);
        }
        if (json) {
            logging::JsonObject j;
            j.add("recipient", rcpt->normalised()).add("address", e->address)
                .add("form", e->is_token ? "token" : "recipient");
            if (e->is_token) j.add("token", e->token);
            out(j.str());
        } else {
            out(e->address);
        }
    }
    return status;
}

// The codec of the address's domain when it is one of bounce_domains
// (listed, or matching a LABEL.* pattern).
std::optional<address::VerpCodec> codec_for(const address::BounceDomains& domains, std::string_view word) {
    if (word.size() >= 2 && word.front() == '<' && word.back() == '>') word = word.substr(1, word.size() - 2);
    const size_t at = word.rfind('@');
    if (at == std::string_view::npos) return std::nullopt;
    const auto domain = address::normalise_domain(word.substr(at + 1));
    if (!domain) return std::nullopt;
    return domains.codec(*domain);
}

int decode(const config::Config& cfg, const address::BounceDomains& domains, const std::vector<std::string>& words,
           bool json) {
    const int64_t now = static_cast<int64_t>(std::time(nullptr));
    std::shared_ptr<store::Env> env;
    bool env_tried = false;
    int status = 0;
    for (const auto& w : words) {
        address::Decoded d;
        const std::optional<address::VerpCodec> by = codec_for(domains, w);
        if (by) d = by->decode(w);
        const bool authentic = d.status == address::VerpStatus::Ok || d.status == address::VerpStatus::Expired;
        std::string rcpt;
        bool in_log = false;
        if (authentic && !d.is_token) {
            rcpt = d.recipient.normalised();
        } else if (authentic) {
            if (!env_tried) {
                env = open_store(cfg, true);  // null: no store, no send log
                env_tried = true;
            }
            if (env) {
                try {
                    if (auto r = store::SendLog(env).get(d.token, now)) {
                        rcpt = *r;
                        in_log = true;
                    }
                } catch (const store::Error& e) {
                    if (e.kind() != store::Error::Kind::NotFound) throw;  // no send log yet
                }
            }
        }
        if (d.status != address::VerpStatus::Ok || rcpt.empty()) status = 1;
        if (json) {
            logging::JsonObject j;
            j.add("address", w).add("status", status_word(d.status));
            if (by) j.add("bounce_domain", by->bounce_domain().str());
            if (authentic) j.add("form", d.is_token ? "token" : "recipient");
            if (authentic && d.is_token) j.add("token", d.token);
            if (!rcpt.empty()) j.add("recipient", rcpt);
            else if (authentic) j.add_null("recipient");
            if (authentic) j.add("age_days", d.age_days);
            out(j.str());
            continue;
        }
        std::string line = w + ": " + std::string(status_word(d.status));
        if (authentic) {
            if (d.is_token) line += ", token=" + d.token;
            line += rcpt.empty() ? ", recipient unknown (token not in the send log)"
                                 : ", recipient=" + rcpt + (in_log ? " (send log)" : "");
            line += ", age=" + std::to_string(d.age_days) + "d";
        }
        out(line);
    }
    return status;
}

}  // namespace

int verp_command(const Global& g, const std::vector<std::string>& args) noexcept {
    if (wants_help(args)) {
        std::fputs(kUsageText, stdout);
        return 0;
    }
    if (args.empty() || (args[0] != "encode" && args[0] != "decode")) {
        std::fputs(kUsageText, stderr);
        return kUsage;
    }
    bool json = false;
    std::vector<std::string> words;
    for (size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--json") json = true;
        else if (args[i].size() > 1 && args[i][0] == '-' && args[i] != "-" &&
                 args[i].find('@') == std::string::npos) {
            std::fprintf(stderr, "sendguard: verp %s: unknown option %s\n", args[0].c_str(), args[i].c_str());
            return kUsage;
        } else words.push_back(args[i]);
    }
    if (words.empty()) {
        std::fprintf(stderr, "sendguard: verp %s: name an address\n", args[0].c_str());
        return kUsage;
    }
    try {
        config::Config cfg = config::load(g.config_path, g.overrides);
        std::vector<address::VerpCodec> codecs;
        try {
            codecs = address::verp_codecs(cfg);
        } catch (const address::KeyFileError& e) {
            std::fprintf(stderr, "sendguard: verp_key_file %s\n", e.what());
            return kFailure;
        }
        if (codecs.empty() && cfg.list("bounce_domains").empty()) {
            std::fprintf(stderr, "sendguard: verp %s: bounce_domains is empty (%s): set it and verp_key_file\n",
                         args[0].c_str(), cfg.origin_of("bounce_domains").c_str());
            return kFailure;
        }
        if (args[0] == "decode") return decode(cfg, address::BounceDomains::from(cfg), words, json);
        if (codecs.empty()) {  // the default bounces.*: no domain of its own to sign with
            std::fprintf(stderr,
                         "sendguard: verp %s: bounce_domains (%s) lists only LABEL.* patterns; add a bounce "
                         "domain to sign with, such as bounces.example.com\n",
                         args[0].c_str(), cfg.origin_of("bounce_domains").c_str());
            return kFailure;
        }
        return encode(cfg, codecs, words, json);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sendguard: verp %s: %s\n", args[0].c_str(), e.what());
        return kFailure;
    }
}

}  // namespace cli
