// resolver.cc - see resolver.h
#include "common/dns/resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dns {
namespace {

// glibc send_dg(): how long server i of n is waited for in one round.
long long wait_of(int retrans, int i, int n) {
    long long s = static_cast<long long>(retrans) << i;
    if (i > 0) s /= n;
    return std::max(s, 1LL);
}

long long round_of(int retrans, int n) {
    long long total = 0;
    for (int i = 0; i < n; ++i) total += wait_of(retrans, i, n);
    return total;
}

// The longest retrans for which `retry` rounds over n servers fit, or 0.
int longest_retrans(long long budget, int retry, int n) {
    int best = 0;
    for (int r = 1; r <= budget; ++r)
        if (retry * round_of(r, n) <= budget) best = r;
    return best;
}

// One res_state, closed on every path.
class ResState {
public:
    ResState() { std::memset(&st_, 0, sizeof st_); ok_ = ::res_ninit(&st_) == 0; }
    ~ResState() { ::res_nclose(&st_); }
    ResState(const ResState&) = delete;
    ResState& operator=(const ResState&) = delete;
    bool ok() const noexcept { return ok_; }
    res_state get() noexcept { return &st_; }

private:
    struct __res_state st_;
    bool ok_ = false;
};

// EDNS0 (RFC 6891 §6.1.2): an OPT record in the additional section offers
// kEdnsPayload octets of UDP answer, so TXT answers (a 2048-bit DKIM key,
// a long SPF record) come whole over UDP; 1232 is the size DNS operators
// agreed on to avoid IP fragmentation.
constexpr int kOptSize = 11;
constexpr unsigned kEdnsPayload = 1232;

// Appends the OPT record to a query of len octets; returns the new length.
int add_edns0(unsigned char* query, int len) {
    unsigned char* p = query + len;
    const unsigned char opt[kOptSize] = {
        0,                                            // owner: the root
        0, 41,                                        // TYPE OPT
        kEdnsPayload >> 8, kEdnsPayload & 0xFF,       // CLASS: UDP payload size
        0, 0, 0, 0,                                   // extended RCODE, version 0, flags
        0, 0};                                        // RDLEN
    std::memcpy(p, opt, sizeof opt);
    query[11] = 1;  // ARCOUNT (res_nmkquery leaves it 0)
    return len + kOptSize;
}

void drop_edns0(unsigned char* query) { query[11] = 0; }

}  // namespace

RetryPlan plan_retries(std::chrono::seconds budget, int servers) {
    const long long b = std::clamp<long long>(budget.count(), 1, 3600);
    const int n = std::clamp(servers, 1, kMaxServers);
    if (const int r = longest_retrans(b, 2, n)) return {r, 2, n};
    for (int m = n; m >= 1; --m)
        if (const int r = longest_retrans(b, 1, m)) return {r, 1, m};
    return {1, 1, 1};  // not reached: one server and one second always fit
}

std::chrono::seconds worst_case(const RetryPlan& plan) {
    return std::chrono::seconds(plan.retry * round_of(plan.retrans, plan.servers));
}

Resolver::Resolver(ResolverOptions options) : options_(std::move(options)) {
    if (options_.servers.size() > static_cast<size_t>(kMaxServers))
        throw std::invalid_argument("dns: at most " + std::to_string(kMaxServers) + " name servers");
    for (const Server& s : options_.servers) {
        in_addr a;
        if (::inet_pton(AF_INET, s.ipv4.c_str(), &a) != 1)
            throw std::invalid_argument("dns: name server is not an IPv4 address: " + s.ipv4);
    }
}

Answer Resolver::query(std::string_view name, Type type, std::chrono::seconds budget) const {
    ResState rs;
    if (!rs.ok()) return {Status::Error};
    res_state st = rs.get();
    if (!options_.servers.empty()) {
        st->nscount = static_cast<int>(options_.servers.size());
        for (size_t i = 0; i < options_.servers.size(); ++i) {
            sockaddr_in& sa = st->nsaddr_list[i];
            std::memset(&sa, 0, sizeof sa);
            sa.sin_family = AF_INET;
            sa.sin_port = htons(options_.servers[i].port);
            ::inet_pton(AF_INET, options_.servers[i].ipv4.c_str(), &sa.sin_addr);
        }
    }
    const RetryPlan plan = plan_retries(budget, st->nscount);
    st->nscount = plan.servers;
    st->retrans = plan.retrans;
    st->retry = plan.retry;
    st->options &= ~static_cast<decltype(st->options)>(RES_ROTATE);
    st->options |= RES_IGNTC;
    // Without this, res_nsend takes a SERVFAIL (or REFUSED) answer as "try
    // the next server" and, when none is left, reports ETIMEDOUT: the same
    // as a server that never answered. Set, it returns the answer itself
    // (glibc's "don't retry if called from dig"; the field is otherwise only
    // read by the RES_DEBUG printer), so the RCODE reaches parse_answer.
    st->pfcode = RES_PRF_HEAD1;

    const std::string qname(name);
    unsigned char query[NS_PACKETSZ + kOptSize];
    const int plain = ::res_nmkquery(st, ns_o_query, qname.c_str(), ns_c_in, static_cast<int>(type), nullptr, 0,
                                     nullptr, query, NS_PACKETSZ);
    if (plain < 0) return {Status::Error};
    const int with_edns = add_edns0(query, plain);
    unsigned char answer[8192];
    errno = 0;
    int n = ::res_nsend(st, query, with_edns, answer, sizeof answer);
    if (n >= NS_HFIXEDSZ && (answer[3] & 0x0F) == ns_r_formerr) {
        // A server that does not know EDNS0 (RFC 6891 §7): ask it again
        // without, as glibc's own res_nquery does.
        drop_edns0(query);
        errno = 0;
        n = ::res_nsend(st, query, plain, answer, sizeof answer);
    }
    if (n < 0) return {errno == ETIMEDOUT ? Status::Timeout : Status::Error};
    return parse_answer(std::span<const unsigned char>(answer, std::min<size_t>(n, sizeof answer)), name, type);
}

}  // namespace dns
