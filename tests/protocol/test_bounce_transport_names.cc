// test_bounce_transport_names.cc - the real sendguard-bounce names the
// bounced message: Message-ID, original sender and queue id, and the
// campaign/subscriber headers the milter's send log kept, in the event
// line and in the suppression record ("sendguard suppress check/export")
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "common/address/verp.h"
#include "common/config/config.h"
#include "common/store/sendlog.h"
#include "common/store/setup.h"
#include "tests/support/process.h"
#include "tests/support/samples.h"
#include "tests/support/site.h"

namespace ts = testing_support;

namespace {

bool contains(const std::string& s, const std::string& p) { return s.find(p) != std::string::npos; }

std::chrono::sys_days today() { return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()); }

int64_t in_a_day() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
               .count() +
           86400;
}

// What the milter writes at end of message, into the site's store.
void record(const harness::Site& s, const std::string& key, const store::SendLogEntry& e) {
    const config::Config cfg = config::Config::load(s.conf);
    store::SendLog(store::open_suppression_store(cfg)).put(key, e);
}

store::SendLogEntry entry(std::vector<std::string> recipients, std::string message_id) {
    return {.expiry = in_a_day(),
            .sender = "news@example.org",
            .queue_id = "4XkQ0rig1nal",
            .recipients = std::move(recipients),
            .message_id = std::move(message_id),
            .headers = {{"Feedback-ID", "42:spring:esp"}, {"List-Id", "<news.example.org>"}}};
}

// The sample DSN returns the headers of <n1@example.org> for bob@example.net.
constexpr const char* kNames =
    "\"message_id\":\"<n1@example.org>\",\"original_sender\":\"news@example.org\","
    "\"original_queue_id\":\"4XkQ0rig1nal\",\"headers\":{\"Feedback-ID\":\"42:spring:esp\","
    "\"List-Id\":\"<news.example.org>\"},\"names_from\":\"sendlog\"";

}  // namespace

BOOST_AUTO_TEST_SUITE(bounce_transport_names)

// A token (a message with several recipients) and a form-"r" tag: the
// event and the record name the message the send log recorded.
BOOST_AUTO_TEST_CASE(event_and_record_name_the_message) {
    struct Case {
        std::string what;
        bool token;
    } cases[] = {{"token", true}, {"form r", false}};
    for (const Case& c : cases) {
        harness::Site s("sg-btn-");
        std::string to;
        if (c.token) {
            to = s.codec().encode_token("tok42", today())->address;
            record(s, "tok42", entry({"bob@example.net", "carol@example.net"}, "<n1@example.org>"));
        } else {
            to = s.verp("bob@example.net");
            record(s, store::recipient_key("bob@example.net", "bounces.example.org"),
                   entry({"bob@example.net"}, "<n1@example.org>"));
        }
        auto r = s.bounce(to, ts::make_dsn({}));
        BOOST_TEST(r.status.code == 0, c.what << ": " << r.describe());
        const std::string ev = harness::file_text(s.lib + "/events.jsonl");
        BOOST_TEST(contains(ev, kNames), c.what << ": " << ev);
        BOOST_TEST(contains(ev, "\"action\":\"suppress\""), c.what << ": " << ev);

        auto check = s.cli({"suppress", "check", "--json", "bob@example.net"});
        BOOST_TEST(check.ok(), c.what << ": " << check.describe());
        BOOST_TEST(contains(check.out, "\"message_id\":\"<n1@example.org>\",\"headers\":{\"Feedback-ID\":"
                                       "\"42:spring:esp\",\"List-Id\":\"<news.example.org>\"}"),
                   c.what << ": " << check.out);
        auto text = s.cli({"suppress", "check", "bob@example.net"});
        BOOST_TEST(contains(text.out, ", message_id=<n1@example.org>, headers={\"Feedback-ID\":\"42:spring:esp\""),
                   c.what << ": " << text.out);
        auto csv = s.cli({"suppress", "export", "--format", "csv"});
        BOOST_TEST(csv.ok(), csv.describe());
        BOOST_TEST(contains(csv.out, ",message_id,headers\n"), csv.out);
        BOOST_TEST(contains(csv.out, ",<n1@example.org>,\"{\"\"Feedback-ID\"\":\"\"42:spring:esp\"\",\"\"List-Id\"\":"
                                     "\"\"<news.example.org>\"\"}\"\n"),
                   c.what << ": " << csv.out);
    }
}

// A form-"r" entry is the newest message to its recipient: a report whose
// returned Message-ID is another's names that Message-ID only. Without an
// entry the returned Message-ID is all there is.
BOOST_AUTO_TEST_CASE(without_a_matching_entry_the_returned_message_id) {
    for (const bool other_entry : {true, false}) {
        harness::Site s("sg-btn-");
        if (other_entry)
            record(s, store::recipient_key("bob@example.net", "bounces.example.org"),
                   entry({"bob@example.net"}, "<newer@example.org>"));
        auto r = s.bounce(s.verp("bob@example.net"), ts::make_dsn({}));
        BOOST_TEST(r.status.code == 0, r.describe());
        const std::string ev = harness::file_text(s.lib + "/events.jsonl");
        BOOST_TEST(contains(ev, "\"message_id\":\"<n1@example.org>\",\"names_from\":\"report\""), ev);
        BOOST_TEST(!contains(ev, "Feedback-ID"), ev);
        BOOST_TEST(!contains(ev, "newer@"), ev);
        auto check = s.cli({"suppress", "check", "--json", "bob@example.net"});
        BOOST_TEST(contains(check.out, "\"message_id\":\"<n1@example.org>\",\"headers\":{}"), check.out);
    }
}

BOOST_AUTO_TEST_SUITE_END()
