// spf.cc - see spf.h
#include "common/mailauth/spf.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

extern "C" {
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>
}

#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/sys/ascii.h"
#include "common/sys/c_handle.h"

namespace mailauth {
namespace {

using SpfServer = sys::CHandle<SPF_server_t, SPF_server_free>;
using SpfRequest = sys::CHandle<SPF_request_t, SPF_request_free>;
using SpfResponse = sys::CHandle<SPF_response_t, SPF_response_free>;

// What one evaluation's DNS layer saw.
struct LayerState {
    const dns::Querier& querier;
    const Deadline& deadline;
    std::string top;            // the domain evaluated (lower case)
    int queries = 0;
    int voids = 0;              // answers without records, the first query not counted
    std::optional<std::string> failure{};  // "the DNS lookup of TXT x timed out"
    std::optional<std::string> limit{};    // a bound of spf.h was hit
    std::string record_text{};
};

std::optional<dns::Type> our_type(ns_type t) {
    switch (t) {
    case ns_t_a: return dns::Type::A;
    case ns_t_aaaa: return dns::Type::AAAA;
    case ns_t_mx: return dns::Type::MX;
    case ns_t_txt: return dns::Type::TXT;
    case ns_t_ptr: return dns::Type::PTR;
    default: return std::nullopt;  // type SPF (99) and others: not asked
    }
}

bool is_spf_record(std::string_view txt) {
    return sys::istarts_with(txt, "v=spf1") && (txt.size() == 6 || txt[6] == ' ');
}

SPF_dns_rr_t* empty_rr(SPF_dns_server_t* server, const char* domain, ns_type type, SPF_dns_stat_t herrno) {
    return SPF_dns_rr_new_init(server, domain, type, 0, herrno);
}

// Fills one libspf2 RR from a Record; false for data libspf2 must not see.
bool put(SPF_dns_rr_t* rr, int i, ns_type type, const dns::Record& r) {
    if (type == ns_t_a || type == ns_t_aaaa) {
        const std::size_t len = type == ns_t_a ? sizeof(in_addr) : sizeof(in6_addr);
        unsigned char buf[sizeof(in6_addr)];
        if (::inet_pton(type == ns_t_a ? AF_INET : AF_INET6, r.value.c_str(), buf) != 1) return false;
        if (SPF_dns_rr_buf_realloc(rr, i, len) != SPF_E_SUCCESS) return false;
        std::memcpy(rr->rr[i], buf, len);
        return true;
    }
    if (r.value.find('\0') != std::string::npos) return false;
    if (SPF_dns_rr_buf_realloc(rr, i, r.value.size() + 1) != SPF_E_SUCCESS) return false;
    std::memcpy(rr->rr[i], r.value.c_str(), r.value.size() + 1);
    return true;
}

SPF_dns_rr_t* lookup(LayerState& st, SPF_dns_server_t* server, const char* domain, ns_type type) {
    const std::string name = sys::to_lower_ascii(domain ? domain : "");
    const bool first = st.queries == 0;
    const auto t = our_type(type);
    if (!t || name.empty() || name.size() > 253) return empty_rr(server, domain, type, NO_DATA);
    if (st.failure || st.limit) return empty_rr(server, domain, type, TRY_AGAIN);
    if (++st.queries > kMaxQueries) {
        st.limit = "more than " + std::to_string(kMaxQueries) + " DNS queries";
        return empty_rr(server, domain, type, TRY_AGAIN);
    }
    const std::chrono::seconds left = st.deadline.left();
    if (left.count() < 1) {
        st.failure = "the DNS lookups took longer than allowed";
        return empty_rr(server, domain, type, TRY_AGAIN);
    }
    const dns::Answer a = st.querier.query(name, *t, left);
    switch (a.status) {
    case dns::Status::Ok: break;
    case dns::Status::NxDomain:
    case dns::Status::NoData:
        if (!first && ++st.voids > kMaxVoidLookups)
            st.limit = "more than " + std::to_string(kMaxVoidLookups) + " DNS lookups without an answer";
        return empty_rr(server, domain, type, a.status == dns::Status::NxDomain ? HOST_NOT_FOUND : NO_DATA);
    default:
        st.failure = "the DNS lookup of " + std::string(dns::to_string(*t)) + " " + name + " failed (" +
                     std::string(dns::to_string(a.status)) + ")";
        return empty_rr(server, domain, type, TRY_AGAIN);
    }
    SPF_dns_rr_t* rr = SPF_dns_rr_new_init(server, domain, type, static_cast<int>(a.ttl.count()), NETDB_SUCCESS);
    if (!rr) return nullptr;
    int n = 0;
    for (const dns::Record& r : a.records) {
        if (type == ns_t_txt) {
            const bool spf = is_spf_record(r.value);
            if (r.value.size() > kMaxTxtRecord || r.value.find('\0') != std::string::npos) {
                if (spf) st.limit = "the SPF record of " + name + " is longer than " +
                                    std::to_string(kMaxTxtRecord) + " octets or holds a NUL";
                continue;
            }
            if (spf && name == st.top && st.record_text.empty()) st.record_text = r.value;
        }
        if (put(rr, n, type, r)) ++n;
    }
    rr->num_rr = n;
    if (n == 0) rr->herrno = NO_DATA;
    return rr;
}

SPF_dns_rr_t* layer_lookup(SPF_dns_server_t* server, const char* domain, ns_type type, int) noexcept {
    try {
        return lookup(*static_cast<LayerState*>(server->hook), server, domain, type);
    } catch (...) {
        auto* st = static_cast<LayerState*>(server->hook);
        try {
            st->failure = "out of memory";
        } catch (...) {
        }
        return empty_rr(server, domain, type, TRY_AGAIN);
    }
}

void quiet(const char*, int, const char*) {}

void init_libspf2_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        // libspf2 prints warnings and debug output to stdout/stderr by
        // default; the milter's stdout is nobody's. SPF_error_handler (its
        // assertion failures, which abort) is left as it is.
        SPF_warning_handler = quiet;
        SPF_info_handler = quiet;
        SPF_debug_handler = quiet;
    });
}

Spf ours(SPF_result_t r) {
    switch (r) {
    case SPF_RESULT_PASS: return Spf::Pass;
    case SPF_RESULT_FAIL: return Spf::Fail;
    case SPF_RESULT_SOFTFAIL: return Spf::SoftFail;
    case SPF_RESULT_NEUTRAL: return Spf::Neutral;
    case SPF_RESULT_NONE: return Spf::None;
    case SPF_RESULT_PERMERROR: return Spf::PermError;
    case SPF_RESULT_TEMPERROR:
    case SPF_RESULT_INVALID: break;
    }
    return Spf::TempError;
}

bool is_loopback(std::string_view ip) {
    in_addr v4{};
    in6_addr v6{};
    const std::string s(ip);
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
        // ::ffff:127.x.y.z: libspf2 looks at the embedded IPv4 address.
        return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
    }
    return false;
}

}  // namespace

std::string_view to_string(Spf s) noexcept {
    switch (s) {
    case Spf::Pass: return "pass";
    case Spf::Fail: return "fail";
    case Spf::SoftFail: return "softfail";
    case Spf::Neutral: return "neutral";
    case Spf::None: return "none";
    case Spf::PermError: return "permerror";
    case Spf::TempError: break;
    }
    return "temperror";
}

SpfResult evaluate(const dns::Querier& querier, std::string_view ip, std::string_view domain, std::string_view helo,
                   const Deadline& deadline) {
    init_libspf2_once();
    const std::string ip_text(ip);
    in_addr v4{};
    in6_addr v6{};
    const bool is_v4 = ::inet_pton(AF_INET, ip_text.c_str(), &v4) == 1;
    const bool is_v6 = !is_v4 && ::inet_pton(AF_INET6, ip_text.c_str(), &v6) == 1;
    if (!is_v4 && !is_v6) return {Spf::PermError, "", "not an IP address: " + ip_text};
    if (is_loopback(ip)) return {Spf::PermError, "", "a loopback address cannot be checked: " + ip_text};

    LayerState st{querier, deadline, sys::to_lower_ascii(domain)};
    SPF_dns_server_t layer{};
    layer.destroy = nullptr;  // ours: the server does not free it
    layer.lookup = layer_lookup;
    layer.name = "sendguard";
    layer.hook = &st;

    SpfServer server(SPF_server_new_dns(&layer, 0));
    if (!server) throw std::bad_alloc();
    SpfRequest req(SPF_request_new(server.get()));
    if (!req) throw std::bad_alloc();
    const std::string env_from = "postmaster@" + st.top;
    const std::string helo_text(helo);
    if ((is_v4 ? SPF_request_set_ipv4(req.get(), v4) : SPF_request_set_ipv6(req.get(), v6)) != SPF_E_SUCCESS ||
        (!helo_text.empty() && SPF_request_set_helo_dom(req.get(), helo_text.c_str()) != SPF_E_SUCCESS) ||
        SPF_request_set_env_from(req.get(), env_from.c_str()) != 0)
        return {Spf::PermError, "", "not a domain libspf2 can check: " + st.top};

    SPF_response_t* raw = nullptr;
    SPF_request_query_mailfrom(req.get(), &raw);
    SpfResponse resp(raw);
    SpfResult r;
    r.result = resp ? ours(SPF_response_result(resp.get())) : Spf::TempError;
    r.record_text = st.record_text;
    // Our bounds first: a DNS failure or a limit means libspf2's verdict
    // rests on answers it did not get.
    if (st.failure) return {Spf::TempError, st.record_text, *st.failure};
    if (st.limit) return {Spf::PermError, st.record_text, *st.limit};
    // libspf2 gives temperror only for DNS errors, which our layer saw;
    // without one, its temperror or "invalid" is a record it could not
    // compile (a syntax error: permerror, RFC 7208 §4.6).
    if (r.result == Spf::TempError) r.result = Spf::PermError;
    switch (r.result) {
    case Spf::None: r.explanation = "no SPF record at " + st.top; break;
    case Spf::Pass: r.explanation = ip_text + " is authorised by " + st.top; break;
    case Spf::PermError: {
        const char* c = resp ? SPF_strerror(SPF_response_errcode(resp.get())) : nullptr;
        r.explanation = "the SPF record of " + st.top + " is broken" + (c ? std::string(" (") + c + ")" : "");
        break;
    }
    case Spf::TempError: r.explanation = "the SPF check of " + st.top + " failed temporarily"; break;
    default:
        r.explanation = st.top + " does not authorise " + ip_text + " (" + std::string(to_string(r.result)) + ")";
    }
    return r;
}

}  // namespace mailauth
