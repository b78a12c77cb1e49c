// resolver.h - DNS queries with a hard time bound, one res_state per query
//
// DESCRIPTION
//   Querier is what the rest of the library asks: query(name, type, budget)
//   returns an Answer (answer.h) within about budget. Resolver is the real
//   one: it builds the query with res_nmkquery, sends it with res_nsend and
//   parses the response with parse_answer, so the RCODE tells NXDOMAIN,
//   NODATA and SERVFAIL apart; no answer in time is Status::Timeout.
//
//   Each query has its own res_state from res_ninit: the name servers and
//   options of /etc/resolv.conf as usual, or the servers given in
//   ResolverOptions (IPv4 address and port; tests). Then:
//     - retrans and retry are set by plan_retries() so that glibc's own
//       schedule (send_dg: the first server waits retrans seconds, server i
//       waits max(1, (retrans << i) / nscount), each round of all servers
//       `retry` times) adds up to at most the budget; with less budget than
//       servers, only the first ones are asked;
//     - RES_ROTATE is cleared (the schedule depends on the order);
//     - RES_IGNTC is set: a truncated UDP answer is used as it is instead of
//       a retry over TCP, where glibc waits without a time limit;
//     - the query carries EDNS0 (RFC 6891) offering 1232 octets of UDP
//       answer, so TXT records (DKIM keys, SPF) rarely need TCP; a server
//       that answers FORMERR to it is asked again without.
//   Search lists and ndots play no part: names are asked as given (FQDN).
//
// ERRORS
//   Everything is a value: Status::Error for a name res_nmkquery refuses,
//   no reachable server or a bad packet. Only std::bad_alloc escapes.
//
// THREAD SAFETY
//   Resolver is immutable; query() may run on many threads at once (the
//   libmilter model: one thread per SMTP connection).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/dns/answer.h"

namespace dns {

class Querier {
public:
    virtual ~Querier() = default;
    // At most about budget (whole seconds, at least 1) of waiting.
    virtual Answer query(std::string_view name, Type type, std::chrono::seconds budget) const = 0;
};

struct Server {
    std::string ipv4;    // dotted quad
    uint16_t port = 53;
};

struct ResolverOptions {
    // Empty: the name servers of /etc/resolv.conf.
    std::vector<Server> servers{};
};

// glibc knows at most MAXNS (3) name servers.
inline constexpr int kMaxServers = 3;

// How glibc's resolver is told to spend a budget on servers name servers.
struct RetryPlan {
    int retrans = 1;  // seconds, res_state.retrans
    int retry = 1;    // rounds over the servers, res_state.retry
    int servers = 1;  // how many of the servers are asked
    bool operator==(const RetryPlan&) const = default;
};
// Two rounds when the budget allows each server at least a second in both
// (a lost UDP packet is retried), else one; the longest retrans that fits.
RetryPlan plan_retries(std::chrono::seconds budget, int servers);
// What that plan may take at most, by glibc's schedule.
std::chrono::seconds worst_case(const RetryPlan& plan);

class Resolver final : public Querier {
public:
    // Throws std::invalid_argument for a server that is not an IPv4 address
    // or more than kMaxServers servers.
    explicit Resolver(ResolverOptions options = {});
    Answer query(std::string_view name, Type type, std::chrono::seconds budget) const override;

private:
    ResolverOptions options_;
};

}  // namespace dns
