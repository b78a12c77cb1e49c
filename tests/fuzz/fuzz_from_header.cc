// fuzz_from_header.cc - libFuzzer target: the milter's From:/Sender: check
//
// What sendguard-milter does with header values, end to end without
// libmilter: milter::Session::header() keeps From: and Sender:,
// end_of_headers() parses them (address::extract_all_from_header) and asks
// the sender rules (authorise(), common/senders) about every mailbox.
//
// Input: the first byte picks the client and the field layout, the rest is
// split at NUL bytes into header values (at most 8; a value may hold the
// "\n " of a folded field, as the MTA passes it):
//   byte % 4:  0  login alice@customer-a.example   2  client 192.0.2.9 (network table)
//              1  login carol (sender table)       3  local submission
//   byte / 4 % 4:  0  every value a From:          2  values alternate From:, Sender:
//                  1  From: news@..., the rest Sender:   3  one From: with the values
//                                                        joined by ", "
// Besides "no crash, no sanitizer report", it traps when:
//   - a decision is neither continue nor 550 with 5.6.0 / 5.7.1;
//   - a reply text is empty, over 512 octets or holds a control character;
//   - a log line holds a control character (untrusted text is cleaned);
//   - the message passes while a mailbox of a From: or Sender: value
//     (the parser's, up to 1000) is one the rules refuse for this client:
//     the check must see every mailbox, or refuse the field.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/address/address.h"
#include "common/config/config.h"
#include "common/log/log.h"
#include "milter/authorise.h"
#include "milter/session.h"
#include "milter/settings.h"

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

std::string g_dir;

void remove_dir() { std::filesystem::remove_all(g_dir); }

// A configuration with real files (key, sender and network tables) in a
// private directory, made once and removed at exit.
const milter::Settings& settings() {
    static const milter::Settings s = [] {
        char tmpl[] = "/tmp/sg-fuzz-from-XXXXXX";
        const std::string dir = g_dir = ::mkdtemp(tmpl);
        std::atexit(remove_dir);
        const auto write = [&](const std::string& name, const std::string& text) {
            const std::string path = dir + "/" + name;
            FILE* f = std::fopen(path.c_str(), "w");
            std::fputs(text.c_str(), f);
            std::fclose(f);
            ::chmod(path.c_str(), 0600);  // the key file must not be readable by others
        };
        write("verp.keys", "0123456789abcdef0123456789abcdef\n");
        write("senders", "carol customer-c.example, *.customer-c.example, @bücher.example\n");
        write("networks", "192.0.2.0/24 customer-n.example\n");
        const std::string text = "config_directory = " + dir + "\nstate_directory = " + dir +
                                 "/state\nmilter_user = root\nmilter_socket_group =\nbounce_domains = bounces.*\nmilter_reply_check = no\n"
                                 "milter_local_senders = customer-a.example\nmilter_sender_tables = " + dir +
                                 "/senders\nmilter_network_tables = " + dir + "/networks\n";
        logging::open("fuzz", logging::Sink::None);
        return milter::Settings::from(config::Config::parse(text, "fuzz.conf"));
    }();
    return s;
}

milter::Services services() {
    milter::Services s;
    s.now = [] { return std::chrono::sys_seconds{std::chrono::seconds(1796126400)}; };
    s.make_token = [] { return std::string("fuzztoken"); };
    s.record = [](const std::string&, const store::SendLogEntry&) {};
    return s;
}

struct Client {
    milter::ConnectInfo info;
    std::string login, sender;
};

Client client(int which) {
    const milter::ConnectInfo smtp{.client_name = "client.example", .client_addr = "192.0.2.9", .client_port = 4000, .daemon_name = "mx"};
    switch (which) {
    case 0: return {smtp, "alice@customer-a.example", "<news@customer-a.example>"};
    case 1: return {smtp, "carol", "<x@customer-c.example>"};
    case 2: return {smtp, "", "<x@customer-n.example>"};
    default: return {{.client_name = "localhost", .client_addr = "127.0.0.1", .client_port = 0, .daemon_name = "mx"}, "",
                     "<www@customer-a.example>"};
    }
}

bool clean(std::string_view s) {
    for (const char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
}

void check_reply(const milter::Reply& r) {
    if (r.kind == milter::Reply::Kind::Continue) return;
    check(r.kind == milter::Reply::Kind::Reject);
    check(r.code == "550");
    check(r.xcode == "5.6.0" || r.xcode == "5.7.1");
    check(!r.text.empty() && r.text.size() <= 512 && clean(r.text));
}

void check_log() {
    const std::string text = logging::captured();
    std::string_view log = text;
    while (!log.empty()) {
        const size_t nl = log.find('\n');
        check(clean(log.substr(0, nl)));
        log.remove_prefix(nl == std::string_view::npos ? log.size() : nl + 1);
    }
    logging::clear_captured();
}

// Some mailbox of value is refused for this client.
bool refused_mailbox(const milter::Policy& p, const milter::Identity& who, std::string_view value) {
    const auto all = address::extract_all_from_header(value, 1000);
    if (!all) return false;  // the session refuses it as unparseable anyway
    for (const address::Address& a : *all)
        if (!milter::authorise(p, who, a).allowed) return true;
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const milter::Settings& s = settings();
    const Client c = client(data[0] % 4);
    const int layout = (data[0] / 4) % 4;
    std::vector<std::string_view> values;
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    while (values.size() < 8) {
        const size_t nl = rest.find('\0');
        values.push_back(rest.substr(0, nl));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
    }

    std::vector<std::pair<std::string, std::string>> headers;
    switch (layout) {
    case 0:
        for (auto v : values) headers.emplace_back("From", v);
        break;
    case 1:
        headers.emplace_back("From", "news@customer-a.example");
        for (auto v : values) headers.emplace_back("Sender", v);
        break;
    case 2:
        for (size_t i = 0; i < values.size(); ++i) headers.emplace_back(i % 2 ? "Sender" : "FROM", values[i]);
        break;
    default: {
        std::string joined;
        for (auto v : values) joined += (joined.empty() ? "" : ", ") + std::string(v);
        headers.emplace_back("From", joined);
    }
    }

    milter::Session session(s.policy, services());
    session.connect(c.info);
    const milter::Decision mail = session.mail(c.sender, {"RET=HDRS"}, c.login, "QFUZZ");
    check(mail.reply.kind == milter::Reply::Kind::Continue);
    for (const auto& [name, value] : headers) session.header(name, value);
    const milter::Decision eoh = session.end_of_headers("QFUZZ");
    check_reply(eoh.reply);
    check_log();

    if (eoh.reply.kind == milter::Reply::Kind::Continue) {
        const milter::Identity who{.login = c.login, .client_addr = c.info.client_addr,
                                   .local = milter::is_local_submission(c.info)};
        for (const auto& [name, value] : headers) check(!refused_mailbox(*s.policy, who, value));
        session.rcpt("<dest@remote.example>", "smtp");
        const milter::Decision eom = session.end_of_message("QFUZZ");
        check(eom.reply.kind == milter::Reply::Kind::Continue);
        check_log();
    }
    session.abort();
    return 0;
}
