// preflight.cc - see preflight.h
#include "common/mailauth/preflight.h"

#include "common/mailauth/align.h"

namespace mailauth {

std::string_view to_string(Verdict v) noexcept {
    switch (v) {
    case Verdict::WillPass: return "will_pass";
    case Verdict::WillFail: return "will_fail";
    case Verdict::NoPolicy: return "no_policy";
    case Verdict::Unknown: break;
    }
    return "unknown";
}

PreflightResult preflight(const dns::Querier& querier, const Psl& psl, const Relay& relay,
                          const PreflightInput& in, const Deadline& deadline) {
    PreflightResult r;
    const std::string& from = in.from_domain;
    r.dmarc = fetch_dmarc(querier, from, psl, deadline);
    switch (r.dmarc.status) {
    case DmarcStatus::TempError:
        r.verdict = Verdict::Unknown;
        r.detail = "cannot check DMARC for " + from + ": " + r.dmarc.detail;
        return r;
    case DmarcStatus::None:
        r.verdict = Verdict::NoPolicy;
        r.detail = "no DMARC record for " + from;
        return r;
    case DmarcStatus::Broken:
        r.verdict = Verdict::NoPolicy;
        r.detail = r.dmarc.detail;
        return r;
    case DmarcStatus::Found: break;
    }
    const DmarcRecord& rec = *r.dmarc.record;
    r.policy = effective_policy(rec, from);
    if (r.policy == DmarcPolicy::None) {
        r.verdict = Verdict::NoPolicy;
        r.detail = "DMARC policy of " + from + " is none";
        return r;
    }
    r.dkim_aligned = aligned(rec.adkim, in.dkim.signing_domain, from, psl);
    if (r.dkim_aligned) {
        r.verdict = Verdict::WillPass;
        r.detail = "dmarc=pass by dkim d=" + in.dkim.signing_domain;
        return r;
    }
    r.spf_aligned = aligned(rec.aspf, in.envelope_domain, from, psl);
    if (r.spf_aligned) {
        for (const std::string& ip : relay.addresses) {
            SpfResult s = evaluate(querier, ip, in.envelope_domain, relay.helo, deadline);
            const Spf result = s.result;
            r.spf = std::move(s);
            if (result == Spf::TempError) {
                r.verdict = Verdict::Unknown;
                r.failing_address = ip;
                r.detail = "cannot check SPF of " + in.envelope_domain + " for " + ip + ": " + r.spf->explanation;
                return r;
            }
            if (result != Spf::Pass) {
                r.failing_address = ip;
                break;
            }
        }
        if (r.spf && r.failing_address.empty() && !relay.addresses.empty()) {
            r.verdict = Verdict::WillPass;
            r.detail = "dmarc=pass by spf " + in.envelope_domain;
            return r;
        }
    }
    r.verdict = Verdict::WillFail;
    FixItFacts f;
    f.from_domain = from;
    f.envelope_domain = in.envelope_domain;
    f.aspf = rec.aspf;
    f.envelope_aligns = r.spf_aligned;
    if (r.spf) f.spf = r.spf->result;
    f.relay_mechanisms = relay_mechanisms(relay);
    f.dkim_domain = in.dkim.signing_domain;
    f.unpublished = in.dkim.unpublished;
    r.fix_it = fix_it_text(f);
    r.detail = "dmarc=fail, p=" + std::string(to_string(r.policy)) + ", spf=" +
               (r.spf ? std::string(to_string(r.spf->result)) + " for " + r.failing_address
                      : std::string(r.spf_aligned ? "unchecked" : "unaligned")) +
               ", dkim=" + (in.dkim.signing_domain.empty() ? "none" : "unaligned");
    return r;
}

}  // namespace mailauth
