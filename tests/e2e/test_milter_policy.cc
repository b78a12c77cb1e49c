// test_milter_policy.cc - local submissions and sendguard-policyd's quotas
//
// Mail submitted with Postfix's sendmail(1) goes through pickup and
// cleanup(8) to non_smtpd_milters, never through smtpd's
// check_policy_service. The real sendguard-milter (milter_policy_service)
// asks the real sendguard-policyd for it, with policy_context "local": a
// rule of 2 messages an hour keyed on policy_context lets two local
// messages through and tempfails the third at its end of message (cleanup
// logs milter-reject and pickup keeps it in the maildrop queue, to retry),
// while an smtpd login's mail, which policyd is asked about by smtpd with
// an empty policy_context, is not limited by that rule.
#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/sendguard_milter.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
namespace h = harness;

namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// sendguard-policyd with the rules given, its policy socket open to the
// postfix user (smtpd) and root (the milter).
struct Policyd {
    h::TempDir dir{"sg-e2e-mpolicy-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string rules = dir.sub("rate-rules");
    std::string sock = dir.sub("policy.sock");
    std::optional<h::Process> proc;

    explicit Policyd(const std::string& rule_lines) {
        ::chmod(dir.path().c_str(), 0755);
        h::write_file(rules, rule_lines);
        h::write_file(conf, "state_directory = " + dir.path() + "/lib\nrun_directory = " + dir.path() +
                                "\nlog_to_stderr = yes\npolicyd_socket_mode = 0666\npolicyd_rate_rules = " + rules +
                                "\ndns_servers = 127.0.0.1:9\ndns_lookup_timeout = 1s\n");
        proc.emplace(h::SpawnSpec{.argv = {h::sendguard_bin("sendguard-policyd"), "-c", conf, "-o",
                                           "policyd_user=root"}});
        BOOST_REQUIRE_MESSAGE(h::wait_for_unix(sock, 10s), "policyd did not listen: " << proc->err());
    }
    std::string endpoint() const { return "unix:" + sock; }
};

// "inet:PORT@127.0.0.1" (libmilter) as Postfix writes it.
std::string postfix_milter_endpoint(const std::string& spec) {
    const size_t colon = spec.find(':'), at = spec.find('@');
    return "inet:" + spec.substr(at + 1) + ":" + spec.substr(colon + 1, at - colon - 1);
}

size_t maildrop_files(const h::PostfixInstance& pf) {
    size_t n = 0;
    if (DIR* d = ::opendir((pf.queue_dir() + "/maildrop").c_str())) {
        while (const dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
    }
    return n;
}

std::vector<std::string> subjects(const h::SmtpSink& sink) {
    std::vector<std::string> s;
    for (const h::SinkMessage& m : sink.messages()) s.push_back(m.header("Subject"));
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_milter_policy)

BOOST_AUTO_TEST_CASE(local_quota_defers_the_third_local_message_not_smtpd_mail) {
    h::skip_if(h::PostfixInstance::unavailable());
    Policyd d("local key=policy_context count=messages 2/h\n");
    h::SendguardMilter milter({.inet = true,
                               .extra = "milter_local_senders = customer-a.example\nmilter_policy_service = " +
                                        d.endpoint() + "\nmilter_policy_context = local\n"
                                        "milter_policy_timeout = 5s\n"});
    milter.start();
    h::SmtpSink sink;
    h::PostfixInstance pf({.relayhost = sink.nexthop()});
    pf.enable_sasl("customer-a.example");
    pf.add_sasl_user("alice", "alice-pw");
    pf.add_milter(postfix_milter_endpoint(milter.spec()));
    pf.set("milter_protocol", "6");
    pf.set("milter_default_action", "tempfail");
    pf.add_policy_service(d.endpoint());
    pf.add_policy_service(d.endpoint(), "smtpd_end_of_data_restrictions");
    pf.start();

    for (int i = 1; i <= 2; ++i) {
        const std::string subject = "form " + std::to_string(i);
        auto r = pf.sendmail("www-data@customer-a.example", {"dest@remote.example"},
                             "From: www-data@customer-a.example\nSubject: " + subject + "\n\nbody\n");
        BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
        BOOST_REQUIRE_MESSAGE(sink.wait_for_messages(static_cast<size_t>(i), 20s),
                              "local message " << i << " not delivered\n"
                                               << pf.log_tail() << "\nmilter: " << milter.err());
    }
    const size_t mark = pf.log_mark();
    auto third = pf.sendmail("www-data@customer-a.example", {"dest@remote.example"},
                             "From: www-data@customer-a.example\nSubject: form 3\n\nbody\n");
    BOOST_REQUIRE_MESSAGE(third.ok(), third.describe());
    // cleanup(8) refuses it with the rule's text; pickup keeps it queued.
    const auto refused = pf.wait_for_log(
        [](std::string_view l) {
            return l.find("milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]") != std::string_view::npos;
        },
        20s, mark);
    BOOST_REQUIRE_MESSAGE(refused.has_value(), pf.log_tail() << "\nmilter: " << milter.err());
    BOOST_TEST(contains(*refused, "4.7.1 rule local: 2/h for local reached; try again in"), *refused);
    BOOST_TEST(h::wait_until([&] {
                   return contains(milter.err(), "milter: action=tempfail, stage=eom, client=localhost[127.0.0.1], "
                                                 "login=local, from=<www-data@customer-a.example>, "
                                                 "address=<dest@remote.example>, why=policy_defer");
               },
               5s),
               milter.err());
    BOOST_TEST(maildrop_files(pf) == 1u, pf.log_tail());
    ::sleep(2);  // a delivery would have reached the sink by now
    BOOST_TEST(sink.messages().size() == 2u);

    // A SASL login's mail through smtpd is not limited by the local rule.
    for (int i = 1; i <= 3; ++i) {
        auto t = pf.send({.auth_plain = std::make_pair(std::string("alice"), std::string("alice-pw")),
                          .mail_from = "news@customer-a.example",
                          .rcpt_to = {"dest@remote.example"},
                          .data = "From: news@customer-a.example\nSubject: news " + std::to_string(i) +
                                  "\n\nbody\n"});
        BOOST_TEST(t.accepted(), t.str());
    }
    BOOST_TEST(sink.wait_for_messages(5, 20s), pf.log_tail());
    const std::vector<std::string> got = subjects(sink);
    BOOST_TEST(std::count(got.begin(), got.end(), "form 3") == 0);
    BOOST_TEST(std::count(got.begin(), got.end(), "news 3") == 1);
    BOOST_TEST(sink.messages().size() == 5u);
}

BOOST_AUTO_TEST_SUITE_END()
