// dmarc.cc - see dmarc.h
#include "common/mailauth/dmarc.h"

#include <sys/socket.h>
#include <netinet/in.h>

extern "C" {
#include <opendmarc/dmarc.h>
}

#include <mutex>
#include <vector>

#include "common/sys/ascii.h"

namespace mailauth {
namespace {

std::mutex& opendmarc_mutex() {
    static std::mutex mu;
    return mu;
}

// Called with the mutex held. Without a TLD file: organisational domains
// are libpsl's (psl.h), OpenDMARC only parses.
void init_opendmarc_locked() {
    static bool done = false;
    if (done) return;
    static OPENDMARC_LIB_T lib{};
    lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
    opendmarc_policy_library_init(&lib);
    done = true;
}

DmarcPolicy policy_of(int v) {
    if (v == DMARC_RECORD_P_REJECT) return DmarcPolicy::Reject;
    if (v == DMARC_RECORD_P_QUARANTINE) return DmarcPolicy::Quarantine;
    return DmarcPolicy::None;
}

bool is_dmarc_record(std::string_view txt) {
    // RFC 7489 §6.4: "v=DMARC1" first, exactly; white space may follow.
    if (txt.substr(0, 8) != "v=DMARC1") return false;
    std::string_view rest = txt.substr(8);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    return rest.empty() || rest.front() == ';';
}

struct Fetched {
    dns::Status status;
    std::vector<std::string> records;  // DMARC records at the name
};

Fetched fetch_at(const dns::Querier& q, const std::string& domain, const Deadline& deadline) {
    const std::chrono::seconds left = deadline.left();
    if (left.count() < 1) return {dns::Status::Timeout, {}};
    const dns::Answer a = q.query("_dmarc." + domain, dns::Type::TXT, left);
    Fetched f{a.status, {}};
    if (a.status == dns::Status::Ok)
        for (const dns::Record& r : a.records)
            if (is_dmarc_record(r.value)) f.records.push_back(r.value);
    return f;
}

}  // namespace

std::string_view to_string(DmarcPolicy p) noexcept {
    switch (p) {
    case DmarcPolicy::Quarantine: return "quarantine";
    case DmarcPolicy::Reject: return "reject";
    case DmarcPolicy::None: break;
    }
    return "none";
}

std::string_view to_string(DmarcStatus s) noexcept {
    switch (s) {
    case DmarcStatus::Found: return "found";
    case DmarcStatus::None: return "none";
    case DmarcStatus::Broken: return "broken";
    case DmarcStatus::TempError: break;
    }
    return "temperror";
}

std::optional<DmarcRecord> parse_dmarc(std::string_view text, std::string_view domain, std::string* error) {
    const auto fail = [&](std::string why) -> std::optional<DmarcRecord> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    if (text.size() > kMaxDmarcRecord)
        return fail("the record is longer than " + std::to_string(kMaxDmarcRecord) + " octets");
    if (text.find('\0') != std::string_view::npos) return fail("the record holds a NUL");
    std::string t(text), d = sys::to_lower_ascii(domain);
    const std::lock_guard g(opendmarc_mutex());
    init_opendmarc_locked();
    unsigned char ip[] = "192.0.2.1";  // required by connect_init, unused for parsing
    DMARC_POLICY_T* ctx = opendmarc_policy_connect_init(ip, DMARC_POLICY_IP_TYPE_IPV4);
    if (!ctx) throw std::bad_alloc();
    const int st = opendmarc_policy_parse_dmarc(ctx, reinterpret_cast<u_char*>(d.data()),
                                                reinterpret_cast<u_char*>(t.data()));
    if (st != DMARC_PARSE_OKAY) {
        opendmarc_policy_connect_shutdown(ctx);
        switch (st) {
        case DMARC_PARSE_ERROR_BAD_VERSION: return fail("the record does not start with v=DMARC1");
        case DMARC_PARSE_ERROR_NO_REQUIRED_P: return fail("the record has no valid p= tag");
        case DMARC_PARSE_ERROR_BAD_VALUE: return fail("the record has a tag with a bad value");
        case DMARC_PARSE_ERROR_EMPTY: return fail("the record is empty");
        default: return fail("OpenDMARC cannot parse the record (status " + std::to_string(st) + ")");
        }
    }
    int p = 0, sp = 0, adkim = 0, aspf = 0, pct = 100;
    opendmarc_policy_fetch_p(ctx, &p);
    opendmarc_policy_fetch_sp(ctx, &sp);
    opendmarc_policy_fetch_adkim(ctx, &adkim);
    opendmarc_policy_fetch_aspf(ctx, &aspf);
    opendmarc_policy_fetch_pct(ctx, &pct);
    opendmarc_policy_connect_shutdown(ctx);
    DmarcRecord r;
    r.p = policy_of(p);
    r.sp = sp == DMARC_RECORD_P_UNSPECIFIED ? r.p : policy_of(sp);
    r.adkim = adkim == DMARC_RECORD_A_STRICT ? AlignMode::Strict : AlignMode::Relaxed;
    r.aspf = aspf == DMARC_RECORD_A_STRICT ? AlignMode::Strict : AlignMode::Relaxed;
    r.pct = pct < 0 || pct > 100 ? 100 : pct;
    r.text = std::string(text);
    r.domain = d;
    return r;
}

DmarcLookup fetch_dmarc(const dns::Querier& querier, std::string_view from_domain, const Psl& psl,
                        const Deadline& deadline) {
    std::string from = sys::to_lower_ascii(from_domain);
    if (!from.empty() && from.back() == '.') from.pop_back();
    const std::string org = psl.organisational_domain(from);
    for (const std::string& at : {from, org}) {
        if (&at == &org && org == from) break;
        const Fetched f = fetch_at(querier, at, deadline);
        if (!dns::Answer{f.status}.is_definite())
            return {DmarcStatus::TempError, std::nullopt,
                    "the DNS lookup of TXT _dmarc." + at + " failed (" + std::string(dns::to_string(f.status)) + ")"};
        if (f.records.size() != 1) continue;  // none, or several: none here (§6.6.3)
        std::string why;
        if (auto r = parse_dmarc(f.records.front(), at, &why)) return {DmarcStatus::Found, std::move(r), ""};
        return {DmarcStatus::Broken, std::nullopt, "the DMARC record at _dmarc." + at + " is broken: " + why};
    }
    return {DmarcStatus::None, std::nullopt, ""};
}

DmarcPolicy effective_policy(const DmarcRecord& r, std::string_view from_domain) noexcept {
    std::string_view f = from_domain;
    if (!f.empty() && f.back() == '.') f.remove_suffix(1);
    return sys::iequals(f, r.domain) ? r.p : r.sp;
}

}  // namespace mailauth
