// dns_harness.cc - see dns_harness.h
#include "tests/support/dns_harness.h"

#include "tests/support/net_wait.h"
#include "tests/support/netns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <cstring>
#include <ostream>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdexcept>

namespace harness {
namespace {

void check_name(const std::string& n) {
    if (n.empty() || n.size() > 253 || n.find_first_of(",\"\\/ \t\r\n#") != std::string::npos)
        throw std::invalid_argument("dns: bad name: " + n);
}

void check_ip(const std::string& ip, int family) {
    unsigned char buf[16];
    if (::inet_pton(family, ip.c_str(), buf) != 1)
        throw std::invalid_argument("dns: bad address: " + ip);
}

uint16_t get16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// Parses the answer section of a DNS response (RFC 1035 §4.1).
DnsResult parse_answer(const unsigned char* msg, int len, DnsType want) {
    DnsResult r;
    r.status = DnsStatus::Ok;
    const unsigned char* end = msg + len;
    if (len < 12) return {DnsStatus::Error, {}, "short response"};
    int qd = get16(msg + 4), an = get16(msg + 6);
    const unsigned char* p = msg + 12;
    for (int i = 0; i < qd; ++i) {
        int n = ::dn_skipname(p, end);
        if (n < 0 || p + n + 4 > end) return {DnsStatus::Error, {}, "bad question"};
        p += n + 4;
    }
    char name[NS_MAXDNAME];
    for (int i = 0; i < an; ++i) {
        int n = ::dn_skipname(p, end);
        if (n < 0 || p + n + 10 > end) return {DnsStatus::Error, {}, "bad answer"};
        p += n;
        int type = get16(p), rdlen = get16(p + 8);
        p += 10;
        if (p + rdlen > end) return {DnsStatus::Error, {}, "bad rdata length"};
        const unsigned char* rd = p;
        p += rdlen;
        if (type != static_cast<int>(want)) continue;  // e.g. a CNAME before the A
        char buf[INET6_ADDRSTRLEN];
        switch (want) {
        case DnsType::A:
            if (rdlen == 4 && ::inet_ntop(AF_INET, rd, buf, sizeof buf)) r.records.push_back(buf);
            break;
        case DnsType::AAAA:
            if (rdlen == 16 && ::inet_ntop(AF_INET6, rd, buf, sizeof buf))
                r.records.push_back(buf);
            break;
        case DnsType::MX:
            if (rdlen > 2 && ::dn_expand(msg, end, rd + 2, name, sizeof name) > 0)
                r.records.push_back(std::to_string(get16(rd)) + " " + name);
            break;
        case DnsType::CNAME:
        case DnsType::PTR:
            if (::dn_expand(msg, end, rd, name, sizeof name) > 0) r.records.push_back(name);
            break;
        case DnsType::TXT: {
            std::string text;
            for (const unsigned char* q = rd; q < rd + rdlen;) {
                size_t l = *q++;
                if (q + l > rd + rdlen) break;
                text.append(reinterpret_cast<const char*>(q), l);
                q += l;
            }
            r.records.push_back(text);
            break;
        }
        }
    }
    if (r.records.empty()) r.status = DnsStatus::NoData;
    return r;
}

DnsResult query_here(const std::string& name, DnsType type) {
    struct __res_state st;
    std::memset(&st, 0, sizeof st);
    if (::res_ninit(&st) != 0) return {DnsStatus::Error, {}, "res_ninit failed"};
    // The thread is in the namespace's network, but /etc/resolv.conf is the
    // host's: name the server explicitly.
    st.nscount = 1;
    std::memset(&st.nsaddr_list[0], 0, sizeof st.nsaddr_list[0]);
    st.nsaddr_list[0].sin_family = AF_INET;
    st.nsaddr_list[0].sin_port = htons(53);
    st.nsaddr_list[0].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    st.retrans = 1;
    st.retry = 2;
    unsigned char answer[8192];
    int n = ::res_nquery(&st, name.c_str(), ns_c_in, static_cast<int>(type), answer,
                         sizeof answer);
    int herr = st.res_h_errno;
    DnsResult r;
    if (n < 0) {
        if (herr == HOST_NOT_FOUND)
            r.status = DnsStatus::NxDomain;
        else if (herr == NO_DATA)
            r.status = DnsStatus::NoData;
        else
            r = {DnsStatus::Error, {}, std::string("res_nquery: ") + ::hstrerror(herr)};
    } else {
        r = parse_answer(answer, n, type);
    }
    ::res_nclose(&st);
    return r;
}

}  // namespace

const char* to_string(DnsStatus s) noexcept {
    switch (s) {
    case DnsStatus::Ok: return "ok";
    case DnsStatus::NxDomain: return "nxdomain";
    case DnsStatus::NoData: return "nodata";
    case DnsStatus::Error: return "error";
    }
    return "?";
}

std::ostream& operator<<(std::ostream& os, DnsStatus s) { return os << to_string(s); }

DnsRecords& DnsRecords::a(const std::string& name, const std::string& ipv4) {
    check_name(name);
    check_ip(ipv4, AF_INET);
    lines_.push_back("host-record=" + name + "," + ipv4);
    return *this;
}

DnsRecords& DnsRecords::aaaa(const std::string& name, const std::string& ipv6) {
    check_name(name);
    check_ip(ipv6, AF_INET6);
    lines_.push_back("host-record=" + name + "," + ipv6);
    return *this;
}

DnsRecords& DnsRecords::mx(const std::string& domain, const std::string& host, int preference) {
    check_name(domain);
    check_name(host);
    if (preference < 0 || preference > 65535) throw std::invalid_argument("dns: bad MX preference");
    lines_.push_back("mx-host=" + domain + "," + host + "," + std::to_string(preference));
    return *this;
}

DnsRecords& DnsRecords::txt(const std::string& name, const std::string& text) {
    check_name(name);
    if (text.size() > 4000 || text.find_first_of("\"\\\r\n") != std::string::npos)
        throw std::invalid_argument("dns: TXT text must not contain quotes, backslashes or "
                                    "line breaks: " + text);
    std::string line = "txt-record=" + name;
    for (size_t i = 0; i == 0 || i < text.size(); i += 255)  // RFC 1035 character-strings
        line += ",\"" + text.substr(i, 255) + "\"";
    lines_.push_back(line);
    return *this;
}

DnsRecords& DnsRecords::cname(const std::string& alias, const std::string& target) {
    check_name(alias);
    check_name(target);
    lines_.push_back("cname=" + alias + "," + target);
    return *this;
}

DnsRecords& DnsRecords::ptr(const std::string& reverse_name, const std::string& target) {
    check_name(reverse_name);
    check_name(target);
    lines_.push_back("ptr-record=" + reverse_name + "," + target);
    return *this;
}

DnsRecords& DnsRecords::null_mx(const std::string& domain) {
    check_name(domain);
    lines_.push_back("dns-rr=" + domain + ",15,000000");  // preference 0, the root name
    return *this;
}

DnsRecords& DnsRecords::ttl(int seconds) {
    if (seconds < 0) throw std::invalid_argument("dns: bad TTL");
    lines_.push_back("local-ttl=" + std::to_string(seconds));
    return *this;
}

std::string DnsRecords::dnsmasq_conf() const {
    std::string s = "# written by the sendguard test harness (tests/support/dns_harness.cc)\n";
    for (const auto& l : lines_) s += l + "\n";
    s += "# every other name is answered here, with NXDOMAIN\nlocal=/#/\n";
    return s;
}

std::optional<std::string> DnsServer::unavailable() {
    if (!have_program("dnsmasq")) return "dnsmasq is not installed (dnsmasq-base)";
    return std::nullopt;
}

DnsServer::DnsServer(const NetNs& ns) : ns_(ns), dir_("sg-dns-") {}

DnsServer::~DnsServer() { stop(); }

void DnsServer::start() {
    if (proc_ && proc_->running()) return;
    std::string conf = dir_.sub("dnsmasq.conf");
    write_file(conf, records_.dnsmasq_conf());
    std::string log_path = dir_.sub("dnsmasq.log");
    append_file(log_path, "--- start\n");
    proc_ = std::make_unique<Process>(SpawnSpec{
        .argv = ns_.wrap({"dnsmasq", "--keep-in-foreground", "--log-facility=-",
                          "--log-queries", "--no-resolv", "--no-hosts", "--no-poll",
                          "--listen-address=127.0.0.1", "--bind-interfaces", "--port=53",
                          "--cache-size=0", "--user=nobody", "--group=nogroup",
                          "--pid-file=" + dir_.sub("dnsmasq.pid"), "--conf-file=" + conf}),
        .stdout_path = log_path,
        .stderr_path = log_path});
    bool up = wait_until(
        [&] {
            return !proc_->running() ||
                   bool(connect_tcp("127.0.0.1", 53, Millis(200), &ns_));
        },
        Millis(5000));
    if (!up || !proc_->running())
        throw std::runtime_error("dnsmasq did not start in netns " + ns_.name() + ": " + log());
}

void DnsServer::restart() {
    stop();
    start();
}

void DnsServer::stop() {
    if (proc_) proc_->stop(Millis(2000));
    proc_.reset();
}

bool DnsServer::running() { return proc_ && proc_->running(); }

std::string DnsServer::log() const { return file_text(dir_.sub("dnsmasq.log")); }

DnsResult dns_query(const NetNs& ns, const std::string& name, DnsType type) {
    return ns.run_in([&] { return query_here(name, type); });
}

}  // namespace harness
