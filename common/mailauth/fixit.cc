// fixit.cc - see fixit.h
#include "common/mailauth/fixit.h"

namespace mailauth {
namespace {

std::string spf_part(const FixItFacts& f) {
    const std::string& e = f.envelope_domain;
    if (!f.envelope_aligns && f.aspf == AlignMode::Strict)
        return "aspf=s: the envelope domain " + e + " cannot align; relax aspf in the DMARC record of " +
               f.from_domain;
    if (!f.envelope_aligns)
        return "the envelope domain " + e + " is not in the organisational domain of " + f.from_domain +
               ": use a bounce domain below " + f.from_domain;
    if (f.spf == Spf::None) return "publish \"v=spf1 " + f.relay_mechanisms + " -all\" at " + e;
    if (f.spf == Spf::PermError)
        return "repair the SPF record of " + e + " (permerror) and add " + f.relay_mechanisms + " to it";
    return "add " + f.relay_mechanisms + " to the SPF record of " + e;
}

std::string dkim_part(const FixItFacts& f) {
    if (!f.unpublished.empty()) {
        std::string s = "publish DKIM selector ";
        for (std::size_t i = 0; i < f.unpublished.size(); ++i)
            s += (i ? " or selector " : "") + f.unpublished[i].selector + " for " + f.unpublished[i].domain;
        return s;
    }
    if (!f.dkim_domain.empty())
        return "sign with a DKIM key of " + f.from_domain + " (d=" + f.dkim_domain + " does not align)";
    return "set up DKIM signing for " + f.from_domain;
}

}  // namespace

std::string relay_mechanisms(const Relay& relay) {
    if (!relay.spf_include.empty()) return relay.spf_include;
    std::string s;
    for (const std::string& a : relay.addresses)
        s += (s.empty() ? "" : " ") + std::string(a.find(':') == std::string::npos ? "ip4:" : "ip6:") + a;
    return s;
}

std::string fix_it_text(const FixItFacts& f) {
    return "DMARC for " + f.from_domain + " will fail: " + spf_part(f) + ", or " + dkim_part(f);
}

}  // namespace mailauth
