// dns_harness.h - hermetic DNS for e2e tests: dnsmasq inside a NetNs
//
// DnsServer runs dnsmasq(8) on 127.0.0.1:53 inside a network namespace
// (netns.h), whose /etc/resolv.conf points there.  Everything started in
// that namespace (Postfix with smtp_host_lookup=dns, a milter using
// libspf2/OpenDMARC, getent) resolves only the records the test added;
// every other name is NXDOMAIN ("local=/#/"), and there is no route to any
// real server anyway.
//
//   auto ns = harness::make_netns_or_skip();
//   harness::DnsServer dns(*ns);
//   dns.records().mx("example.test", "mx1.example.test", 10);
//   dns.records().a("mx1.example.test", "127.0.0.2");
//   dns.records().txt("example.test", "v=spf1 ip4:192.0.2.0/24 -all");
//   dns.start();                 // after a change: dns.restart()
//   auto r = harness::dns_query(*ns, "example.test", harness::DnsType::MX);
//   // r.status == DnsStatus::Ok, r.records == {"10 mx1.example.test"}
//
// Records map to dnsmasq options: A/AAAA -> host-record (which also answers
// the PTR), MX -> mx-host, TXT -> txt-record (split into 255-byte strings),
// CNAME -> cname, PTR -> ptr-record, a null MX -> dns-rr (type 15, "0 .").
// Names and texts are checked: no commas/quotes/backslashes/line breaks
// that would change the option.
//
// dns_query() asks the namespace's server directly (res_nquery with the
// server forced to 127.0.0.1:53, run on a thread inside the namespace) and
// parses the answer section itself: A/AAAA as addresses, MX as
// "<pref> <host>", TXT as the concatenated strings, CNAME/PTR as names.
//
// Errors: bad record values throw std::invalid_argument; a server that does
// not come up throws std::runtime_error with dnsmasq's log.  Lookup results
// are values (DnsStatus).
// Thread safety: DnsServer belongs to one test; dns_query is reentrant.
#pragma once

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace harness {

class NetNs;

enum class DnsType { A = 1, CNAME = 5, PTR = 12, MX = 15, TXT = 16, AAAA = 28 };

class DnsRecords {
public:
    DnsRecords& a(const std::string& name, const std::string& ipv4);
    DnsRecords& aaaa(const std::string& name, const std::string& ipv6);
    DnsRecords& mx(const std::string& domain, const std::string& host, int preference = 10);
    DnsRecords& txt(const std::string& name, const std::string& text);
    DnsRecords& cname(const std::string& alias, const std::string& target);
    DnsRecords& ptr(const std::string& reverse_name, const std::string& target);
    // RFC 7505 null MX ("0 ."), as a raw record (dns-rr: mx-host cannot name the root).
    DnsRecords& null_mx(const std::string& domain);
    // The TTL of the records dnsmasq answers from its configuration
    // (local-ttl; dnsmasq's default is 0).
    DnsRecords& ttl(int seconds);
    void clear() { lines_.clear(); }
    // The dnsmasq configuration lines for these records.
    std::string dnsmasq_conf() const;

private:
    std::vector<std::string> lines_;
};

class DnsServer {
public:
    // Why dnsmasq cannot be used (not installed), or nullopt.
    static std::optional<std::string> unavailable();

    explicit DnsServer(const NetNs& ns);
    ~DnsServer();
    DnsServer(const DnsServer&) = delete;
    DnsServer& operator=(const DnsServer&) = delete;

    DnsRecords& records() noexcept { return records_; }
    void start();
    void restart();  // picks up changed records
    void stop();
    bool running();
    std::string log() const;  // dnsmasq's query log (--log-queries)

private:
    const NetNs& ns_;
    DnsRecords records_;
    TempDir dir_;
    std::unique_ptr<Process> proc_;
};

enum class DnsStatus { Ok, NxDomain, NoData, Error };
const char* to_string(DnsStatus s) noexcept;
std::ostream& operator<<(std::ostream& os, DnsStatus s);  // for BOOST_TEST

struct DnsResult {
    DnsStatus status = DnsStatus::Error;
    std::vector<std::string> records{};
    std::string error{};  // for Error
};

// Queries 127.0.0.1:53 inside ns (the DnsServer there).
DnsResult dns_query(const NetNs& ns, const std::string& name, DnsType type);

}  // namespace harness
