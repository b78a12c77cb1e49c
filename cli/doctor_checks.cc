// doctor_checks.cc - see doctor_checks.h
#include "cli/doctor_checks.h"

#include <algorithm>

#include "common/dns/reverse.h"
#include "common/sys/ascii.h"

namespace cli::doctor {
namespace {

bool is_failure(dns::Status s) {
    return s != dns::Status::Ok && s != dns::Status::NxDomain && s != dns::Status::NoData;
}

// "the DNS lookup timed out", as dns::describe() says it.
std::string failure_text(dns::Status s) {
    switch (s) {
    case dns::Status::Timeout: return "the DNS lookup timed out";
    case dns::Status::ServFail: return "DNS server failure (SERVFAIL)";
    default: return "the DNS lookup failed";
    }
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string helo_or_placeholder(const Relay& relay) {
    return relay.helo.empty() ? "RELAY-HOST-NAME" : relay.helo;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::string without_dot(std::string name) {
    if (name.size() > 1 && name.back() == '.') name.pop_back();
    return sys::to_lower_ascii(name);
}

}  // namespace

std::vector<Check> check_relay(const Relay& relay) {
    std::vector<Check> out;
    if (relay.addresses.empty())
        out.push_back({"relay", "relay_public_addresses", Status::Fail, "not set: the relay's public addresses are unknown",
                       "set relay_public_addresses in sendguard.conf to the addresses the relay sends from"});
    if (relay.helo.empty())
        out.push_back({"relay", "relay_helo_name", Status::Fail, "not set: the relay's HELO name is unknown",
                       "set relay_helo_name in sendguard.conf to Postfix's smtp_helo_name (default $myhostname)"});
    return out;
}

Check check_ptr(const dns::Querier& q, const Relay& relay, const std::string& address, const Budget& b) {
    Check c{"ptr", address, Status::Fail, "", ""};
    const std::string helo = helo_or_placeholder(relay);
    const std::string fix = "set the PTR of " + address + " to " + helo +
                            " (your hosting provider's reverse DNS panel), and publish " + helo + ". " +
                            (address.find(':') == std::string::npos ? "A " : "AAAA ") + address;
    const auto deadline = b.clock() + b.per_check;
    const dns::ForwardConfirmed fc = dns::forward_confirmed(q, address, b.per_check, b.clock);
    if (is_failure(fc.status)) {
        c.status = Status::Temp;
        c.found = "cannot check the PTR of " + address + ": " + failure_text(fc.status);
        return c;
    }
    if (fc.names.empty()) {
        c.found = "no PTR record";
        c.fix = fix;
        return c;
    }
    if (fc.confirmed.empty()) {
        c.found = "PTR " + joined(fc.names) + " does not resolve back to " + address + " (no FCrDNS)";
        c.fix = fix;
        return c;
    }
    if (contains(fc.confirmed, relay.helo)) {
        c.status = Status::Pass;
        c.found = "PTR " + relay.helo + ", resolves back (FCrDNS), is relay_helo_name";
        return c;
    }
    // The HELO name need not be the PTR name as long as it is the address's.
    const auto left = std::chrono::floor<std::chrono::seconds>(deadline - b.clock());
    if (!relay.helo.empty() && left >= std::chrono::seconds(1)) {
        const dns::HostAddresses h = dns::host_addresses(q, relay.helo, left, b.clock);
        if (contains(h.addresses, address)) {
            c.status = Status::Pass;
            c.found = "PTR " + joined(fc.confirmed) + " (FCrDNS); relay_helo_name " + relay.helo +
                      " resolves to " + address;
            return c;
        }
        if (is_failure(h.status)) {
            c.status = Status::Temp;
            c.found = "PTR " + joined(fc.confirmed) + " (FCrDNS); cannot check relay_helo_name " + relay.helo +
                      ": " + failure_text(h.status);
            return c;
        }
    } else if (!relay.helo.empty()) {
        c.status = Status::Temp;
        c.found = "PTR " + joined(fc.confirmed) + " (FCrDNS); cannot check relay_helo_name " + relay.helo +
                  ": " + failure_text(dns::Status::Timeout);
        return c;
    }
    c.found = "PTR " + joined(fc.confirmed) + " (FCrDNS) is not relay_helo_name " + helo + ", which does not resolve to " +
              address;
    c.fix = fix;
    return c;
}

Check check_bounce_mx(const dns::Querier& q, const Relay& relay, const std::optional<address::Domain>& bounce_domain,
                      const Budget& b) {
    if (!bounce_domain)
        return {"mx", "bounce domain", Status::Fail,
                "the domain has no bounce domain (bounce_domains, milter_bounce_domain_maps): its mail keeps "
                "the customer's envelope sender and bounces do not come here",
                "add bounces.* to bounce_domains, or a line to milter_bounce_domain_maps"};
    const std::string& bd = bounce_domain->str();
    const std::string helo = helo_or_placeholder(relay);
    Check c{"mx", bd, Status::Fail, "", bd + ". MX 10 " + helo + "."};
    const auto deadline = b.clock() + b.per_check;
    const dns::Answer mx = q.query(bd, dns::Type::MX, b.per_check);
    if (is_failure(mx.status)) {
        c.status = Status::Temp;
        c.found = "cannot check the MX of " + bd + ": " + failure_text(mx.status);
        c.fix.clear();
        return c;
    }
    std::vector<std::string> hosts;
    for (const dns::Record& r : mx.records)
        if (r.value != ".") hosts.push_back(without_dot(r.value));
    if (hosts.empty()) {
        c.found = mx.status == dns::Status::Ok ? "a null MX: the bounce domain accepts no mail"
                  : mx.status == dns::Status::NxDomain ? "the bounce domain does not exist (NXDOMAIN)"
                                                        : "no MX record";
        return c;
    }
    if (!relay.helo.empty() && contains(hosts, relay.helo)) {
        c.status = Status::Pass;
        c.found = "MX " + relay.helo + " is relay_helo_name";
        c.fix.clear();
        return c;
    }
    std::vector<std::string> seen;
    dns::Status failure = dns::Status::Ok;
    for (const std::string& h : hosts) {
        const auto left = std::chrono::floor<std::chrono::seconds>(deadline - b.clock());
        if (left < std::chrono::seconds(1)) {
            failure = dns::Status::Timeout;
            break;
        }
        const dns::HostAddresses a = dns::host_addresses(q, h, left, b.clock);
        for (const std::string& addr : a.addresses) {
            if (contains(relay.addresses, addr)) {
                c.status = Status::Pass;
                c.found = "MX " + h + " resolves to " + addr + ", a relay_public_addresses address";
                c.fix.clear();
                return c;
            }
        }
        if (is_failure(a.status)) failure = a.status;
        seen.push_back(h + (a.addresses.empty() ? " (no address)" : " (" + joined(a.addresses) + ")"));
    }
    if (failure != dns::Status::Ok) {
        c.status = Status::Temp;
        c.found = "MX " + joined(seen) + "; cannot check the rest: " + failure_text(failure);
        c.fix.clear();
        return c;
    }
    c.found = "MX " + joined(seen) + " is not this relay: bounces go elsewhere";
    return c;
}

Check check_reply(const dns::Querier& q, const address::Domain& domain, const Budget& b) {
    const dns::Reachability r = dns::mail_reachability(q, domain, b.per_check, b.clock);
    Check c{"reply", domain.str(), Status::Pass, dns::describe(r, domain), ""};
    switch (r.outcome) {
    case dns::Reach::Reachable: break;
    case dns::Reach::TempFail: c.status = Status::Temp; break;
    case dns::Reach::NullMx:
        c.status = Status::Fail;
        c.fix = "replace the null MX of " + domain.str() + " with the MX of the mail server that receives its mail, "
                "e.g. " + domain.str() + ". MX 10 MAIL-SERVER.";
        break;
    default:
        c.status = Status::Fail;
        c.fix = "publish the MX of the mail server that receives mail for " + domain.str() + ", e.g. " +
                domain.str() + ". MX 10 MAIL-SERVER.";
        break;
    }
    return c;
}

std::string txt_record(const std::string& name, const std::string& text) {
    std::string out = name + ". TXT";
    for (size_t at = 0; at < text.size() || at == 0; at += 255) {
        out += " \"" + text.substr(at, 255) + "\"";
        if (text.empty()) break;
    }
    return out;
}

namespace {

Check key_check(const dns::Querier& q, const dkim::Key& key, const Budget& b) {
    const dkim::KeyCheck kc = dkim::check_published(q, key, b.per_check);
    Check c{"dkim", key.dns_name(), Status::Fail, "", ""};
    switch (kc.outcome) {
    case dkim::Outcome::Match:
        c.status = Status::Pass;
        c.found = kc.detail + ", matches " + key.file;
        return c;
    case dkim::Outcome::TempFail:
        c.status = Status::Temp;
        c.found = "cannot check the public key of " + key.file + ": " + kc.detail;
        return c;
    default:
        c.found = kc.detail + (kc.found_text.empty() ? "" : ": \"" + kc.found_text + "\"") + "; the key file is " +
                  key.file + " (not signing with it)";
        c.fix = txt_record(key.dns_name(), kc.expected_record);
        return c;
    }
}

}  // namespace

DkimChecks check_dkim(const dns::Querier& q, const dkim::Signing* signing, const address::Domain& domain,
                      const Budget& b) {
    const std::string& d = domain.str();
    DkimChecks out;
    if (!signing) {
        out.checks = {{"dkim", d, Status::Fail, "DKIM signing is off (dkim_signing_table is empty)",
                 "set dkim_key_table and dkim_signing_table, and add the line \"" + d + " " + d +
                     "\" to the signing table"}};
        return out;
    }
    // The row a message From: someone at the domain would use.
    const auto probe = address::parse_mailbox("postmaster@" + d);
    const dkim::Rule* rule = probe ? signing->rules.find(*probe) : nullptr;
    if (!rule) {
        const bool has_keys = !signing->keys.of(d).empty();
        out.checks = {{"dkim", d, Status::Fail, "no signing table row: mail from " + d + " is not signed",
                 has_keys ? "add the line \"" + d + " " + d + "\" to dkim_signing_table"
                          : "add a key for " + d + " to dkim_key_table (\"" + d +
                                " SELECTOR /path/key.pem\") and the line \"" + d + " " + d +
                                "\" to dkim_signing_table"}};
        return out;
    }
    for (const auto& key : rule->keys) {
        out.checks.push_back(key_check(q, *key, b));
        if (out.checks.back().status == Status::Pass) {
            if (out.outlook.signing_domain.empty()) out.outlook.signing_domain = key->domain;
        } else if (out.checks.back().status == Status::Fail) {
            out.outlook.unpublished.push_back({key->selector, key->domain});
        }
    }
    for (const auto& key : signing->provider) out.checks.push_back(key_check(q, *key, b));
    return out;
}

std::string relay_spf_record(const Relay& relay) { return "v=spf1 " + mailauth::relay_mechanisms(relay) + " -all"; }

namespace {

// RFC 7208 4.5: "v=spf1" alone or followed by a space, in any case.
bool is_spf_record(const std::string& txt) {
    return txt.size() >= 6 && sys::to_lower_ascii(txt.substr(0, 6)) == "v=spf1" && (txt.size() == 6 || txt[6] == ' ');
}

}  // namespace

namespace {

// libspf2's words for its limit of 10 DNS-querying mechanisms (RFC 7208 4.6.4).
bool is_lookup_limit(const std::string& why) {
    const std::string w = sys::to_lower_ascii(why);
    return w.find("too many") != std::string::npos || w.find("dns mechanism") != std::string::npos ||
           w.find("max dns") != std::string::npos;
}

// The record with the relay's mechanisms put in front of its terms.
std::string with_relay(const std::string& record, const Relay& relay) {
    return "v=spf1 " + mailauth::relay_mechanisms(relay) + record.substr(6);
}

}  // namespace

Check check_spf(const dns::Querier& q, const Relay& relay, const std::string& name, const Budget& b) {
    Check c{"spf", name, Status::Fail, "", ""};
    const dns::Answer a = q.query(name, dns::Type::TXT, b.per_check);
    if (is_failure(a.status)) {
        c.status = Status::Temp;
        c.found = "cannot check the SPF record of " + name + ": " + failure_text(a.status);
        return c;
    }
    std::vector<std::string> spf;
    for (const dns::Record& r : a.records)
        if (is_spf_record(r.value)) spf.push_back("\"" + r.value + "\"");
    if (spf.empty()) {
        c.found = a.status == dns::Status::NxDomain ? "the name does not exist (NXDOMAIN): no SPF record"
                                                    : "no SPF record (v=spf1)";
        c.fix = txt_record(name, relay_spf_record(relay));
        return c;
    }
    if (spf.size() > 1) {
        std::sort(spf.begin(), spf.end());  // the same report whatever order the server answers in
        std::string list;
        for (const auto& s : spf) list += (list.empty() ? "" : " and ") + s;
        c.found = std::to_string(spf.size()) + " SPF records, a permerror (RFC 7208 4.5): " + list;
        c.fix = "publish one: " + txt_record(name, relay_spf_record(relay)) + " (merge the others into it)";
        return c;
    }
    const std::string record = spf.front().substr(1, spf.front().size() - 2);
    if (relay.addresses.empty()) {
        c.status = Status::Warn;
        c.found = "one SPF record: " + spf.front() + "; not evaluated: relay_public_addresses is empty";
        return c;
    }
    const mailauth::Deadline deadline(b.per_check, b.clock);
    for (const std::string& a : relay.addresses) {
        const mailauth::SpfResult r = mailauth::evaluate(q, a, name, relay.helo, deadline);
        switch (r.result) {
        case mailauth::Spf::Pass: continue;
        case mailauth::Spf::TempError:
            c.status = Status::Temp;
            c.found = "cannot evaluate " + spf.front() + ": " + r.explanation;
            return c;
        case mailauth::Spf::PermError:
            c.found = spf.front() + (is_lookup_limit(r.explanation)
                                         ? " needs more than 10 DNS lookups, a permerror (RFC 7208 4.6.4)"
                                         : " is broken, a permerror: " + r.explanation);
            c.fix = "repair it and authorise the relay: " + txt_record(name, with_relay(record, relay));
            return c;
        default:
            c.found = spf.front() + " does not authorise the relay's " + a + " (" +
                      std::string(mailauth::to_string(r.result)) + ")";
            c.fix = txt_record(name, with_relay(record, relay));
            return c;
        }
    }
    c.status = Status::Pass;
    c.found = spf.front() + " authorises " + joined(relay.addresses);
    return c;
}

namespace {

std::string where_found(const mailauth::DmarcRecord& r, const std::string& domain) {
    return r.domain == domain ? "at _dmarc." + r.domain : "at _dmarc." + r.domain + " (the organisational domain)";
}

// "DKIM aligns (adkim=r, d=customer-c.example); SPF does not (aspf=s, ...)"
std::string alignment(const mailauth::DmarcRecord& r, const mailauth::Psl& psl, const std::string& domain,
                      const std::string& envelope, bool spf_passes, const mailauth::DkimOutlook& dkim) {
    std::string s;
    const std::string ad = "adkim=" + std::string(mailauth::to_string(r.adkim));
    if (dkim.signing_domain.empty()) s = "DKIM does not align (" + ad + ": no published key signs)";
    else if (mailauth::aligned(r.adkim, dkim.signing_domain, domain, psl))
        s = "DKIM aligns (" + ad + ", d=" + dkim.signing_domain + ")";
    else s = "DKIM does not align (" + ad + ", d=" + dkim.signing_domain + ")";
    const std::string as = "aspf=" + std::string(mailauth::to_string(r.aspf));
    if (!mailauth::aligned(r.aspf, envelope, domain, psl))
        s += "; SPF does not align (" + as + ", envelope " + envelope + ")";
    else if (!spf_passes) s += "; SPF would align (" + as + ", envelope " + envelope + ") but does not pass";
    else s += "; SPF aligns (" + as + ", envelope " + envelope + ")";
    return s;
}

}  // namespace

Check check_dmarc(const dns::Querier& q, const mailauth::Psl& psl, const Relay& relay, const address::Domain& domain,
                  const std::string& envelope, bool spf_passes, const mailauth::DkimOutlook& dkim, const Budget& b) {
    const std::string& d = domain.str();
    Check c{"dmarc", d, Status::Fail, "", ""};
    const mailauth::Deadline deadline(b.per_check, b.clock);
    const mailauth::PreflightResult pf = mailauth::preflight(q, psl, relay, {d, envelope, dkim}, deadline);
    const std::string publish = txt_record("_dmarc." + d, "v=DMARC1; p=none");
    if (pf.verdict == mailauth::Verdict::Unknown) {
        c.status = Status::Temp;
        c.found = "cannot check DMARC for " + d + ": " + (pf.dmarc.detail.empty() ? pf.detail : pf.dmarc.detail);
        return c;
    }
    switch (pf.dmarc.status) {
    case mailauth::DmarcStatus::None:
        c.status = Status::Warn;
        c.found = "no DMARC record: receivers apply no policy to mail from " + d;
        c.fix = publish + " (then p=quarantine once its reports show mail aligns)";
        return c;
    case mailauth::DmarcStatus::Broken:
        c.found = "a DMARC record receivers ignore: " + pf.dmarc.detail;
        c.fix = "replace it with a valid one, e.g. " + publish;
        return c;
    case mailauth::DmarcStatus::TempError:  // Unknown above
    case mailauth::DmarcStatus::Found: break;
    }
    const mailauth::DmarcRecord& r = *pf.dmarc.record;
    const mailauth::DmarcPolicy policy = mailauth::effective_policy(r, d);
    c.found = "p=" + std::string(mailauth::to_string(policy)) + " " + where_found(r, d) + "; " +
              alignment(r, psl, d, envelope, spf_passes, dkim);
    switch (pf.verdict) {
    case mailauth::Verdict::WillPass: c.status = Status::Pass; break;
    case mailauth::Verdict::WillFail:
        c.status = Status::Fail;
        c.fix = pf.fix_it;
        break;
    default:  // NoPolicy: p=none
        c.status = Status::Warn;
        c.found += "; p=none: receivers act on nothing";
        break;
    }
    return c;
}

}  // namespace cli::doctor
