// test_milter_dkim.cc - DKIM signing in a real Postfix, checked by an
// independent verifier against keys published in real DNS
//
// Part of e2e_milter (the test_milter* glob); the suite carries the label
// dnsmasq and runs as e2e.milter.dnsmasq. One site serves every case (the
// suite's fixture): a network namespace whose 127.0.0.1:53 is dnsmasq
// (dns_harness.h), the real sendguard-milter started inside it (dns_servers
// = 127.0.0.1:53; Postfix reaches it over its UNIX socket, which no network
// namespace hides), a real Postfix (smtpd_milters and non_smtpd_milters)
// relaying to an smtp-sink that keeps every message. The verifier is
// Debian's opendkim-testmsg (libopendkim's verify mode, no code of ours),
// run inside the namespace, where /etc/resolv.conf names that dnsmasq: it
// fetches the key records itself.
//
// Keys are made at test time with openssl(1), mode 0600, owned by the
// sendguard user the milter runs as. Their records are written from
// openssl's own output (the DER SubjectPublicKeyInfo for RSA, its last 32
// octets for Ed25519, RFC 8463 4), not by the code under test.
//
//   key table (customer-a.example)   published at SELECTOR._domainkey
//     s1   RSA-2048                  its own key
//     ed1  Ed25519                   its own key
//     s2   Ed25519                   nothing (NXDOMAIN); one case publishes it
//     s3   Ed25519                   ed1's key: a mismatch
//   signing table
//     customer-a.example             customer-a.example:s1,ed1
//     rotate@customer-a.example      customer-a.example:s1,s2,s3
//   customer-b.example: allowed to send (login bob), no signing row.
//
// The zone also has what a sending domain publishes beside DKIM: MX (the
// milter's reply-ability check, milter_reply_check, asks for it), SPF and
// DMARC, and the relay's address 192.0.2.10 with its PTR.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address/forward_seal.h"
#include "common/address/verp.h"
#include "common/daemon/users.h"
#include "tests/support/cleanup.h"
#include "tests/support/dns_harness.h"
#include "tests/support/net_wait.h"
#include "tests/support/netns.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/require.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

bool contains(std::string_view s, std::string_view sub) {
    return s.find(sub) != std::string_view::npos;
}

long long ms(std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

harness::RunResult sh(const std::string& script) {
    harness::RunResult r = harness::run({"sh", "-c", script}, 60s);
    if (!r.ok()) throw std::runtime_error(r.describe());
    return r;
}

// A key file as an operator makes it, and its record as openssl sees it.
struct KeyFile {
    std::string path;
    std::string record;  // "v=DKIM1; k=...; p=..."
};

KeyFile make_key(const harness::TempDir& dir, const std::string& name, bool ed25519) {
    KeyFile k{dir.sub("keys/" + name + ".pem"), {}};
    const std::string gen = ed25519
                                ? "openssl genpkey -algorithm ed25519"
                                : "openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048";
    sh("umask 077 && " + gen + " -out '" + k.path + "' 2>/dev/null");
    const std::string der = "openssl pkey -in '" + k.path + "' -pubout -outform DER";
    const std::string p = sh(der + (ed25519 ? " | tail -c 32" : "") + " | base64 -w0").out;
    if (p.empty()) throw std::runtime_error("no public key from " + k.path);
    ::chmod(k.path.c_str(), 0600);
    harness::chown_to(k.path, "sendguard", true);
    k.record = std::string("v=DKIM1; k=") + (ed25519 ? "ed25519" : "rsa") + "; p=" + p;
    return k;
}

// The header fields of a message, each with its continuation lines, and
// the body (after the empty line).
struct Parsed {
    std::vector<std::string> fields;
    std::string body;
};

Parsed split(const std::string& content) {
    Parsed m;
    size_t pos = 0;
    while (pos < content.size()) {
        size_t eol = content.find('\n', pos);
        if (eol == std::string::npos) eol = content.size();
        std::string line = content.substr(pos, eol - pos);
        pos = std::min(eol + 1, content.size());
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
            m.body = content.substr(pos);
            return m;
        }
        if ((line[0] == ' ' || line[0] == '\t') && !m.fields.empty())
            m.fields.back() += "\n" + line;
        else
            m.fields.push_back(line);
    }
    return m;
}

bool named(const std::string& field, std::string_view name) {
    return field.size() > name.size() && field[name.size()] == ':' &&
           lower(field.substr(0, name.size())) == lower(std::string(name));
}

std::vector<std::string> dkim_signatures(const std::string& content) {
    std::vector<std::string> out;
    for (const std::string& f : split(content).fields)
        if (named(f, "DKIM-Signature")) out.push_back(f);
    return out;
}

// The tags of a DKIM-Signature field (RFC 6376 3.2), white space removed.
std::map<std::string, std::string> tags(const std::string& field) {
    std::string v;
    for (char c : field.substr(field.find(':') + 1))
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') v += c;
    std::map<std::string, std::string> t;
    size_t pos = 0;
    while (pos < v.size()) {
        size_t end = v.find(';', pos);
        if (end == std::string::npos) end = v.size();
        const std::string tag = v.substr(pos, end - pos);
        const size_t eq = tag.find('=');
        if (eq != std::string::npos) t[tag.substr(0, eq)] = tag.substr(eq + 1);
        pos = end + 1;
    }
    return t;
}

// The message without its DKIM-Signature fields other than keep: what a
// verifier sees of one signature alone. No h= lists DKIM-Signature.
std::string with_only(const std::string& content, const std::string& keep) {
    const Parsed m = split(content);
    std::string out;
    for (const std::string& f : m.fields)
        if (!named(f, "DKIM-Signature") || f == keep) out += f + "\n";
    return out + "\n" + m.body;
}

size_t count_in_list(const std::string& colon_list, const std::string& name) {
    size_t n = 0, pos = 0;
    const std::string l = lower(colon_list) + ":";
    while (pos < l.size()) {
        const size_t end = l.find(':', pos);
        if (l.substr(pos, end - pos) == name) ++n;
        pos = end + 1;
    }
    return n;
}

// The line the milter logged with all of the given parts, or "".
std::string log_line(const std::string& log, const std::vector<std::string>& parts) {
    size_t pos = 0;
    while (pos < log.size()) {
        size_t eol = log.find('\n', pos);
        if (eol == std::string::npos) eol = log.size();
        const std::string line = log.substr(pos, eol - pos);
        if (std::all_of(parts.begin(), parts.end(),
                        [&](const std::string& p) { return contains(line, p); }))
            return line;
        pos = eol + 1;
    }
    return {};
}

struct Verdict {
    bool pass = false;
    std::string text;  // the verifier's words
};

// The whole site; built once for the suite (see the file comment).
struct DkimSite {
    static DkimSite* current;

    std::unique_ptr<harness::NetNs> ns;
    std::optional<harness::DnsServer> dns;
    harness::TempDir dir{"sg-e2e-dkim-"};
    KeyFile s1, ed1, s2, s3;
    std::string conf = dir.sub("sendguard.conf");
    std::string sock = dir.sub("run/milter.sock");
    std::optional<harness::Process> milter;
    std::optional<harness::SmtpSink> sink;
    std::optional<harness::PostfixInstance> pf;

    DkimSite() {
        harness::skip_if(harness::PostfixInstance::unavailable());
        harness::skip_if(harness::DnsServer::unavailable());
        harness::require(harness::have_program("opendkim-testmsg"),
                         "opendkim-testmsg (apt-get install opendkim-tools)");
        harness::require(harness::have_program("openssl"), "openssl (apt-get install openssl)");
        ns = harness::make_netns_or_skip();
        const auto t0 = std::chrono::steady_clock::now();
        make_files();
        const auto t1 = std::chrono::steady_clock::now();
        serve_zone();
        start_milter();
        sink.emplace();
        pf.emplace(harness::PostfixOptions{.relayhost = sink->nexthop()});
        pf->add_sasl_user("alice", "alice-pw", "customer-a.example");
        pf->add_sasl_user("bob", "bob-pw", "customer-b.example");
        pf->add_milter("unix:" + sock);
        pf->set("milter_protocol", "6");
        pf->set("milter_default_action", "tempfail");
        pf->start();
        current = this;
        BOOST_TEST_MESSAGE("DKIM site: 1 RSA-2048 and 3 Ed25519 keys made in "
                           << ms(t1 - t0) << " ms, DNS, milter and Postfix up in "
                           << ms(std::chrono::steady_clock::now() - t1) << " ms");
    }
    ~DkimSite() {
        current = nullptr;
        const auto t0 = std::chrono::steady_clock::now();
        pf.reset();
        sink.reset();
        const auto t1 = std::chrono::steady_clock::now();
        milter.reset();
        BOOST_TEST_MESSAGE("DKIM site: Postfix stopped in "
                           << ms(t1 - t0) << " ms, milter in "
                           << ms(std::chrono::steady_clock::now() - t1) << " ms");
    }

    void make_files() {
        ::chmod(dir.path().c_str(), 0755);
        dir.mkdir("run", 0755);
        dir.mkdir("lib", 0750);
        dir.mkdir("keys", 0750);
        for (const char* d : {"run", "lib", "keys"})
            harness::chown_to(dir.sub(d), "sendguard", true);
        s1 = make_key(dir, "s1", false);
        ed1 = make_key(dir, "ed1", true);
        s2 = make_key(dir, "s2", true);
        s3 = make_key(dir, "s3", true);
        harness::write_file(dir.sub("verp.keys"), "0123456789abcdef0123456789abcdef\n", 0640);
        if (::chown(dir.sub("verp.keys").c_str(), 0, daemons::gid_of("sendguard").value()) != 0)
            throw std::runtime_error("chown verp.keys");
        harness::write_file(dir.sub("dkim-keys"),
                            "# DOMAIN  SELECTOR  KEYFILE\n"
                            "customer-a.example  s1   " +
                                s1.path +
                                "\n"
                                "customer-a.example  ed1  " +
                                ed1.path +
                                "\n"
                                "customer-a.example  s2   " +
                                s2.path +
                                "\n"
                                "customer-a.example  s3   " +
                                s3.path + "\n",
                            0644);
        harness::write_file(dir.sub("dkim-signing"),
                            "# FROM  KEYDOMAIN:SELECTORS\n"
                            "customer-a.example         customer-a.example:s1,ed1\n"
                            "rotate@customer-a.example  customer-a.example:s1,s2,s3\n",
                            0644);
        write_config("");
    }

    // bounce_domains: the default, bounces.*
    void write_config(const std::string& extra) const {
        harness::write_file(conf,
                            "config_directory = " + dir.path() + "\nstate_directory = " +
                                dir.sub("lib") + "\nrun_directory = " + dir.sub("run") +
                                "\ndns_servers = 127.0.0.1:53\n"
                                "milter_local_senders = customer-a.example\n"
                                "dkim_key_table = " +
                                dir.sub("dkim-keys") +
                                "\ndkim_signing_table = " + dir.sub("dkim-signing") + "\n" + extra,
                            0644);
    }

    // The configuration with extra lines, applied by SIGHUP: the milter
    // reads it, the tables and the key files again as the sendguard user.
    void reload(const std::string& extra) {
        const auto count = [&] {
            const std::string l = log();
            size_t n = 0;
            for (size_t at = l.find("reload=ok"); at != std::string::npos;
                 at = l.find("reload=ok", at + 1))
                ++n;
            return n;
        };
        const size_t before = count();
        write_config(extra);
        BOOST_REQUIRE(::kill(milter->pid(), SIGHUP) == 0);
        BOOST_REQUIRE_MESSAGE(harness::wait_until([&] { return count() > before; }, 10000ms),
                              log());
    }

    void serve_zone() {
        dns.emplace(*ns);
        publish(false);
    }

    // The zone, with s2's record when s2 is published (a rotation's next
    // step); dnsmasq is (re)started with it.
    void publish(bool s2_published) {
        harness::DnsRecords& r = dns->records();
        r.clear();
        for (const char* d : {"customer-a.example", "customer-b.example"}) {
            const std::string domain = d;
            r.mx(domain, "mx." + domain, 10)
                .mx("bounces." + domain, "mx." + domain, 10)
                .a("mx." + domain, "192.0.2.25")
                .txt(domain, "v=spf1 ip4:192.0.2.10 -all")
                .txt("bounces." + domain, "v=spf1 ip4:192.0.2.10 -all")
                .txt("_dmarc." + domain, "v=DMARC1; p=reject; rua=mailto:dmarc@" + domain);
        }
        r.a("mta.relay.example", "192.0.2.10")  // and its PTR
            .txt("s1._domainkey.customer-a.example", s1.record)
            .txt("ed1._domainkey.customer-a.example", ed1.record)
            .txt("s3._domainkey.customer-a.example", ed1.record)  // another key than s3's
            .ttl(60);
        if (s2_published) r.txt("s2._domainkey.customer-a.example", s2.record);
        if (dns->running())
            dns->restart();
        else
            dns->start();
    }

    void start_milter() {
        milter.emplace(harness::SpawnSpec{
            .argv = ns->wrap({harness::sendguard_bin("sendguard-milter"), "-f", "-c", conf})});
        BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(sock, 10s),
                              "milter did not listen: " << milter->err());
    }

    std::string log() const { return milter->err(); }
    std::string why(const harness::SmtpTranscript& t) const {
        return t.str() + "\nmilter: " + log() + "\npostfix: " + pf->log_tail();
    }

    // A message from login (alice or bob) as from, with header From: from
    // and a Message-ID naming id.
    harness::SmtpTranscript send(const std::string& login, const std::string& from,
                                 const std::string& id) const {
        const std::string pw = login.substr(0, login.find('@')) + "-pw";
        return pf->send({.auth_plain = std::make_pair(login, pw),
                         .mail_from = from,
                         .rcpt_to = {"dest@remote.example"},
                         .data = message(from, id)});
    }
    static std::string message(const std::string& from, const std::string& id) {
        return "From: Sender <" + from + ">\nTo: <dest@remote.example>\nSubject: dkim " + id +
               "\nDate: Wed, 02 Dec 2026 06:00:00 +0000\nMessage-ID: <" + id +
               "@customer.example>\n\nfirst line of the body\n  two spaces  and a tab\there\nend "
               "of body\n";
    }

    // The message the sink received with Message-ID <id@...>, once its dump
    // is complete.
    std::optional<harness::SinkMessage> received(const std::string& id) const {
        return received_where([&](const harness::SinkMessage& m) {
            return contains(m.header("Message-ID"), "<" + id + "@") &&
                   contains(m.content, "end of body");
        });
    }
    std::optional<harness::SinkMessage> received_where(
        const std::function<bool(const harness::SinkMessage&)>& want) const {
        std::optional<harness::SinkMessage> found;
        harness::wait_until(
            [&] {
                for (const harness::SinkMessage& m : sink->messages())
                    if (want(m)) {
                        found = m;
                        return true;
                    }
                return false;
            },
            15000ms);
        return found;
    }

    // opendkim-testmsg on a message, inside the namespace (its DNS).
    Verdict verify(const std::string& content) const {
        const harness::RunResult r =
            harness::run({.argv = ns->wrap({"opendkim-testmsg"}), .stdin_data = content}, 30s);
        return {r.ok(), r.status.str() + " " + r.err + r.out};
    }
};
DkimSite* DkimSite::current = nullptr;

// Puts back what a case changed on the shared site, also when it failed
// (a failed REQUIRE inside is recorded, and ends nothing else).
struct Restore {
    std::function<void()> undo;
    ~Restore() {
        try {
            undo();
        } catch (...) {
            BOOST_ERROR("the site could not be restored for the next cases");
        }
    }
};

DkimSite& site() {
    BOOST_TEST_REQUIRE(DkimSite::current != nullptr);
    return *DkimSite::current;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_milter_dkim,
                      *boost::unit_test::label("dnsmasq") * boost::unit_test::fixture<DkimSite>())

// An allowed sender's mail leaves with an RSA and an Ed25519 signature of
// its own domain (c=relaxed/relaxed, From oversigned), each verified on its
// own against the published record; the envelope still got its VERP form.
BOOST_AUTO_TEST_CASE(allowed_mail_is_signed_rsa_and_ed25519_and_verifies) {
    DkimSite& s = site();
    const auto t = s.send("alice@customer-a.example", "news@customer-a.example", "both");
    BOOST_REQUIRE_MESSAGE(t.accepted(), s.why(t));
    const auto m = s.received("both");
    BOOST_REQUIRE_MESSAGE(m, s.why(t));
    BOOST_TEST(m->mail_from().starts_with("bounce+"), m->mail_args);
    BOOST_TEST(m->mail_from().ends_with("@bounces.customer-a.example"), m->mail_args);

    const std::vector<std::string> sigs = dkim_signatures(m->content);
    BOOST_REQUIRE_MESSAGE(sigs.size() == 2u, "got " << sigs.size()
                                                    << " DKIM-Signature fields, want 2:\n"
                                                    << m->content);
    std::vector<std::string> algorithms;
    for (const std::string& sig : sigs) {
        const auto tg = tags(sig);
        algorithms.push_back(tg.at("a"));
        BOOST_TEST(tg.at("d") == "customer-a.example", sig);
        BOOST_TEST(tg.at("c") == "relaxed/relaxed", sig);
        BOOST_TEST(count_in_list(tg.at("h"), "from") == 2u, "h= lists From twice: " << sig);
        BOOST_TEST(tg.at("s") == (tg.at("a") == "rsa-sha256" ? "s1" : "ed1"), sig);
        const Verdict v = s.verify(with_only(m->content, sig));
        BOOST_TEST(v.pass, "a=" << tg.at("a") << ": " << v.text << "\n" << sig);
    }
    std::sort(algorithms.begin(), algorithms.end());
    BOOST_TEST((algorithms == std::vector<std::string>{"ed25519-sha256", "rsa-sha256"}));
    // Both at once, as a receiver gets them.
    BOOST_TEST(s.verify(m->content).pass, s.verify(m->content).text);

    const std::string line =
        log_line(s.log(), {t.queue_id() + ": milter: action=signed", "why=signing_table"});
    BOOST_TEST(contains(line, "d=customer-a.example s=s1 a=rsa-sha256"), s.log());
    BOOST_TEST(contains(line, "d=customer-a.example s=ed1 a=ed25519-sha256"), s.log());
    BOOST_TEST(contains(s.log(), t.queue_id() + ": milter: action=verp, stage=eom"), s.log());
}

// A large message reaches the milter in several body chunks (libmilter
// sends at most 64 KiB at a time) and has folded, spaced header fields:
// both signatures still verify (relaxed/relaxed over what Postfix relays).
BOOST_AUTO_TEST_CASE(a_large_message_with_folded_fields_verifies) {
    DkimSite& s = site();
    std::string body;
    for (int i = 0; body.size() < 300 * 1024; ++i)
        body += "line " + std::to_string(i) + (i % 3 ? "  with  spaces \t\n" : "\n") +
                (i % 50 ? "" : "\n");
    const std::string data =
        "From: Sender <news@customer-a.example>\nTo: "
        "<dest@remote.example>,\n\t<other@remote.example>\n"
        "Subject: a subject   folded\n  over two lines  \nDate: Wed, 02 Dec 2026 06:00:00 +0000\n"
        "Message-ID: <large@customer.example>\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n" +
        body + "end of body\n";
    const auto t = s.pf->send({.auth_plain = std::make_pair("alice@customer-a.example", "alice-pw"),
                               .mail_from = "news@customer-a.example",
                               .rcpt_to = {"dest@remote.example"},
                               .data = data});
    BOOST_REQUIRE_MESSAGE(t.accepted(), s.why(t));
    const auto m = s.received("large");
    BOOST_REQUIRE_MESSAGE(m, s.why(t));
    BOOST_TEST(m->content.size() > 300u * 1024u);
    const std::vector<std::string> sigs = dkim_signatures(m->content);
    BOOST_REQUIRE_EQUAL(sigs.size(), 2u);
    for (const std::string& sig : sigs) {
        const Verdict v = s.verify(with_only(m->content, sig));
        BOOST_TEST(v.pass, v.text << "\n" << sig);
        BOOST_TEST(count_in_list(tags(sig).at("h"), "mime-version") == 1u, sig);
        BOOST_TEST(count_in_list(tags(sig).at("h"), "content-type") == 1u, sig);
    }
}

// What Postfix adds or leaves out: a sendmail(1) message without Date: and
// Message-ID: (cleanup(8) adds them before non_smtpd_milters see the
// header, so they are signed), and a message with an empty body.
BOOST_AUTO_TEST_CASE(added_fields_and_an_empty_body_still_verify) {
    DkimSite& s = site();
    const auto r =
        s.pf->sendmail("www-data@customer-a.example", {"dest@remote.example"},
                       "From: www-data@customer-a.example\nSubject: no date\n\nend of body\n");
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    const auto local = s.received_where([](const harness::SinkMessage& m) {
        return m.header("Subject") == "no date" && contains(m.content, "end of body");
    });
    BOOST_REQUIRE_MESSAGE(local, s.pf->log_tail() << "\nmilter: " << s.log());
    BOOST_TEST(!local->header("Date").empty(), local->content);
    BOOST_TEST(!local->header("Message-ID").empty(), local->content);
    const std::vector<std::string> sigs = dkim_signatures(local->content);
    BOOST_TEST(sigs.size() == 2u, local->content);
    for (const std::string& sig : sigs) {
        const Verdict v = s.verify(with_only(local->content, sig));
        BOOST_TEST(v.pass, v.text << "\n" << local->content);
        BOOST_TEST(count_in_list(tags(sig).at("h"), "date") == 1u, sig);
        BOOST_TEST(count_in_list(tags(sig).at("h"), "message-id") == 1u, sig);
    }

    const auto t = s.pf->send(
        {.auth_plain = std::make_pair("alice@customer-a.example", "alice-pw"),
         .mail_from = "news@customer-a.example",
         .rcpt_to = {"dest@remote.example"},
         .data = "From: news@customer-a.example\nSubject: empty body\n"
                 "Date: Wed, 02 Dec 2026 06:00:00 +0000\nMessage-ID: <empty@customer.example>\n"});
    BOOST_REQUIRE_MESSAGE(t.accepted(), s.why(t));
    const auto d = s.pf->wait_for_delivery(t.queue_id(), 15s);
    BOOST_REQUIRE_MESSAGE(d && d->status == "sent", s.why(t));
    const auto empty = s.received_where(
        [](const harness::SinkMessage& m) { return m.header("Subject") == "empty body"; });
    BOOST_REQUIRE_MESSAGE(empty, s.why(t));
    const std::vector<std::string> esigs = dkim_signatures(empty->content);
    BOOST_TEST(esigs.size() == 2u, empty->content);
    for (const std::string& sig : esigs) {
        const Verdict v = s.verify(with_only(empty->content, sig));
        BOOST_TEST(v.pass, v.text << "\n" << empty->content);
    }
}

// The verifier can say no: the same message with its body changed after
// signing fails, for each signature.
BOOST_AUTO_TEST_CASE(a_message_changed_after_signing_fails_verification) {
    DkimSite& s = site();
    const auto t = s.send("alice@customer-a.example", "news@customer-a.example", "tamper");
    BOOST_REQUIRE_MESSAGE(t.accepted(), s.why(t));
    const auto m = s.received("tamper");
    BOOST_REQUIRE_MESSAGE(m, s.why(t));
    const std::vector<std::string> sigs = dkim_signatures(m->content);
    BOOST_REQUIRE_EQUAL(sigs.size(), 2u);

    std::string changed = m->content;
    const size_t at = changed.find("first line of the body");
    BOOST_REQUIRE(at != std::string::npos);
    changed.replace(at, 5, "FIRST");
    for (const std::string& sig : sigs) {
        BOOST_TEST(s.verify(with_only(m->content, sig)).pass,
                   "unchanged: " << s.verify(with_only(m->content, sig)).text);
        const Verdict v = s.verify(with_only(changed, sig));
        BOOST_TEST(!v.pass, "a changed body verified: " << sig);
        BOOST_TEST(contains(v.text, "Bad signature"), v.text);
    }
    // A signed header field changed is caught too.
    std::string subject = m->content;
    const size_t sub = subject.find("Subject: dkim tamper");
    BOOST_REQUIRE(sub != std::string::npos);
    subject.replace(sub, 20, "Subject: dkim TAMPER");
    for (const std::string& sig : sigs) BOOST_TEST(!s.verify(with_only(subject, sig)).pass, sig);
}

// Rotation: of s1 (published), s2 (not published) and s3 (published with
// another key) only s1 signs; the log line names s2 and s3 with the reason.
BOOST_AUTO_TEST_CASE(an_unpublished_or_mismatched_selector_never_signs) {
    DkimSite& s = site();
    const auto t = s.send("alice@customer-a.example", "rotate@customer-a.example", "rotate");
    BOOST_REQUIRE_MESSAGE(t.accepted(), s.why(t));
    const auto m = s.received("rotate");
    BOOST_REQUIRE_MESSAGE(m, s.why(t));
    const std::vector<std::string> sigs = dkim_signatures(m->content);
    BOOST_REQUIRE_MESSAGE(sigs.size() == 1u, "got " << sigs.size()
                                                    << " signatures, want s1's only:\n"
                                                    << m->content);
    BOOST_TEST(tags(sigs.front()).at("s") == "s1", sigs.front());
    BOOST_TEST(tags(sigs.front()).at("a") == "rsa-sha256", sigs.front());
    BOOST_TEST(s.verify(m->content).pass, s.verify(m->content).text);

    const std::string line = log_line(s.log(), {t.queue_id() + ": milter: action=signed"});
    BOOST_TEST(contains(line, "address=<rotate@customer-a.example>"), s.log());
    BOOST_TEST(contains(line, "s=s1 a=rsa-sha256"), line);
    BOOST_TEST(contains(line, "s2._domainkey.customer-a.example=missing"), line);
    BOOST_TEST(contains(line, "s3._domainkey.customer-a.example=mismatch"), line);
    BOOST_TEST(!contains(line, "s=s2"), line);
    BOOST_TEST(!contains(line, "s=s3"), line);
    // And each is warned about once, with the record to publish.
    BOOST_TEST(contains(s.log(), "s2._domainkey.customer-a.example"), s.log());
    BOOST_TEST(contains(s.log(), s.s2.record), "the warning names the record to publish for s2");
}

// The rotation's next step: once s2 is published (and the milter told by
// SIGHUP, or after dkim_key_check_interval), s1 and s2 both sign and both
// verify; s3 still does not.
BOOST_AUTO_TEST_CASE(a_selector_signs_once_it_is_published) {
    DkimSite& s = site();
    s.publish(true);
    s.reload("");
    const Restore restore{[&] {
        s.publish(false);
        s.reload("");
    }};
    const auto t = s.send("alice@customer-a.example", "rotate@customer-a.example", "rotate2");
    BOOST_REQUIRE_MESSAGE(t.accepted(), s.why(t));
    const auto m = s.received("rotate2");
    BOOST_REQUIRE_MESSAGE(m, s.why(t));
    const std::vector<std::string> sigs = dkim_signatures(m->content);
    BOOST_REQUIRE_MESSAGE(sigs.size() == 2u, "got " << sigs.size() << ", want s1 and s2:\n"
                                                    << m->content);
    std::vector<std::string> selectors;
    for (const std::string& sig : sigs) {
        selectors.push_back(tags(sig).at("s"));
        const Verdict v = s.verify(with_only(m->content, sig));
        BOOST_TEST(v.pass, v.text << "\n" << sig);
    }
    std::sort(selectors.begin(), selectors.end());
    BOOST_TEST((selectors == std::vector<std::string>{"s1", "s2"}));
    const std::string line = log_line(s.log(), {t.queue_id() + ": milter: action=signed"});
    BOOST_TEST(contains(line, "not used: s3._domainkey.customer-a.example=mismatch"), line);
}

// A customer allowed to send but without a signing row, and a message with
// two From: mailboxes: relayed unsigned, and the log says why.
BOOST_AUTO_TEST_CASE(
    mail_without_a_signing_row_or_with_two_authors_is_relayed_unsigned_with_a_why) {
    DkimSite& s = site();
    const auto t = s.send("bob@customer-b.example", "bob@customer-b.example", "nokeys");
    BOOST_REQUIRE_MESSAGE(t.accepted(), s.why(t));
    const auto m = s.received("nokeys");
    BOOST_REQUIRE_MESSAGE(m, s.why(t));
    BOOST_TEST(dkim_signatures(m->content).empty(), m->content);
    BOOST_TEST(m->mail_from().ends_with("@bounces.customer-b.example"), m->mail_args);
    const std::string line = log_line(s.log(), {t.queue_id() + ": milter: action=unsigned"});
    BOOST_TEST(contains(line, "stage=eom"), s.log());
    BOOST_TEST(contains(line, "login=bob@customer-b.example"), line);
    BOOST_TEST(contains(line, "address=<bob@customer-b.example>"), line);
    BOOST_TEST(contains(line, "why=no_signing_rule"), line);

    // Two author mailboxes, both alice's to use: relayed, but a DKIM
    // signature speaks for one author domain, so none is made.
    const auto two =
        s.pf->send({.auth_plain = std::make_pair("alice@customer-a.example", "alice-pw"),
                    .mail_from = "news@customer-a.example",
                    .rcpt_to = {"dest@remote.example"},
                    .data = "From: news@customer-a.example, info@customer-a.example\n"
                            "Sender: news@customer-a.example\nSubject: two authors\n"
                            "Message-ID: <two@customer.example>\n\nend of body\n"});
    BOOST_REQUIRE_MESSAGE(two.accepted(), s.why(two));
    const auto m2 = s.received("two");
    BOOST_REQUIRE_MESSAGE(m2, s.why(two));
    BOOST_TEST(dkim_signatures(m2->content).empty(), m2->content);
    BOOST_TEST(contains(log_line(s.log(), {two.queue_id() + ": milter: action=unsigned"}),
                        "why=several_from"),
               s.log());
}

// sendmail(1) through non_smtpd_milters: a local sender of
// milter_local_senders is signed; a forward sealed by sendguard-bounce
// (null sender, the replier's From:) passes unsigned, why=sealed_forward.
BOOST_AUTO_TEST_CASE(local_submission_is_signed_a_sealed_forward_is_not) {
    DkimSite& s = site();
    const auto r = s.pf->sendmail("www-data@customer-a.example", {"dest@remote.example"},
                                  DkimSite::message("www-data@customer-a.example", "local"));
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    const auto m = s.received("local");
    BOOST_REQUIRE_MESSAGE(m, s.pf->log_tail() << "\nmilter: " << s.log());
    const std::vector<std::string> sigs = dkim_signatures(m->content);
    BOOST_TEST(sigs.size() == 2u, m->content);
    for (const std::string& sig : sigs) BOOST_TEST(s.verify(with_only(m->content, sig)).pass, sig);
    BOOST_TEST(contains(log_line(s.log(), {"action=signed", "login=local",
                                           "address=<www-data@customer-a.example>"}),
                        "why=signing_table"),
               s.log());

    const std::string replier = "Replier <someone@elsewhere.example>";
    const std::string seal = address::seal_forward(
        address::VerpKeys::load_file(s.dir.sub("verp.keys")), "news@customer-a.example", replier,
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
    const auto f =
        s.pf->sendmail("<>", {"news@customer-a.example"},
                       "From: " + replier + "\nTo: news@customer-a.example\nSubject: Re: news\n" +
                           std::string(address::kForwardSealHeader) + ": " + seal +
                           "\nMessage-ID: <forward@elsewhere.example>\n\nthanks\nend of body\n");
    BOOST_REQUIRE_MESSAGE(f.ok(), f.describe());
    const auto fwd = s.received("forward");
    BOOST_REQUIRE_MESSAGE(fwd, s.pf->log_tail() << "\nmilter: " << s.log());
    BOOST_TEST(dkim_signatures(fwd->content).empty(), fwd->content);
    BOOST_TEST(!log_line(s.log(), {"action=unsigned", "why=sealed_forward"}).empty(), s.log());
}

// Mail from a client that may not use the From: domain is never signed:
// with milter_dry_run its refusal is only logged and the message leaves,
// unsigned (why=dry_run_refused), although customer-a.example has keys.
BOOST_AUTO_TEST_CASE(mail_from_outside_with_a_signed_from_domain_is_never_signed) {
    DkimSite& s = site();
    const auto refused =
        s.pf->send({.mail_from = "someone@elsewhere.example",
                    .rcpt_to = {"dest@remote.example"},
                    .data = DkimSite::message("news@customer-a.example", "outside1")});
    BOOST_TEST(!refused.accepted(), s.why(refused));

    s.reload("milter_dry_run = yes\n");
    const Restore restore{[&] { s.reload(""); }};
    const auto t = s.pf->send({.mail_from = "someone@elsewhere.example",
                               .rcpt_to = {"dest@remote.example"},
                               .data = DkimSite::message("news@customer-a.example", "outside2")});
    BOOST_REQUIRE_MESSAGE(t.accepted(), s.why(t));
    const auto m = s.received("outside2");
    BOOST_REQUIRE_MESSAGE(m, s.why(t));
    BOOST_TEST(dkim_signatures(m->content).empty(), m->content);
    // At MAIL smtpd has no queue id yet: NOQUEUE.
    BOOST_TEST(
        !log_line(s.log(), {"action=would_refuse, stage=mail", "from=<someone@elsewhere.example>"})
             .empty(),
        s.log());
    BOOST_TEST(!log_line(s.log(), {t.queue_id() + ": milter: action=would_refuse, stage=header",
                                   "address=<news@customer-a.example>"})
                    .empty(),
               s.log());
    const std::string line = log_line(s.log(), {t.queue_id() + ": milter: action=unsigned"});
    BOOST_TEST(contains(line, "login=-"), s.log());
    BOOST_TEST(contains(line, "why=dry_run_refused"), line);
}

BOOST_AUTO_TEST_SUITE_END()
