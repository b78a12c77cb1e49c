// test_dsn.cc - dsn_test::parse() on hand-written samples of each format family,
// and the small public helpers (names, class_for, limits).
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/unit/test_dsn_support.h"
#include "common/dsn/dsn.h"
#include "common/sys/fd.h"

namespace {

std::string sample(const std::string& name) {
    return sys::read_file(std::string(SENDGUARD_SOURCE_DIR) + "/tests/unit/samples/dsn/" + name);
}

struct WantRcpt {
    const char* address;
    const char* status;
    dsn::Class klass;
    dsn::Reason reason;
};

struct Case {
    const char* file;
    dsn::Kind kind;
    bool is_bounce;
    std::vector<WantRcpt> rcpts;
};

using dsn::Class;
using dsn::Kind;
using dsn::Reason;

const std::vector<Case> kCases = {
    {"postfix-dsn.eml", Kind::Dsn, true, {{"Bob@example.net", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"postfix-delayed.eml", Kind::Dsn, true, {{"carol@example.com", "4.4.1", Class::Soft, Reason::NetworkError}}},
    {"global-dsn.eml", Kind::Dsn, true,
     {{"jürgen@xn--mller-kva.example", "5.2.2", Class::Soft, Reason::MailboxFull},
      {"anna@example.de", "5.1.2", Class::Hard, Reason::HostUnknown}}},
    {"arf.eml", Kind::Arf, true, {{"Dave@example.net", "", Class::Complaint, Reason::Feedback}}},
    {"arf-no-rcpt.eml", Kind::Arf, true, {{"erin@example.com", "", Class::Complaint, Reason::Feedback}}},
    {"qmail.eml", Kind::Ndr, true,
     {{"frank@example.com", "5.1.1", Class::Hard, Reason::UserUnknown},
      {"grace@example.net", "5.2.2", Class::Soft, Reason::MailboxFull}}},
    {"exim.eml", Kind::Ndr, true, {{"heidi@example.com", "5.7.1", Class::Soft, Reason::Blocked}}},
    {"sendmail-old.eml", Kind::Ndr, true, {{"ivan@example.com", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"office365.eml", Kind::Ndr, true,
     {{"judy@contoso.example.com", "5.1.10", Class::Hard, Reason::UserUnknown}}},
    {"domino.eml", Kind::Ndr, true, {{"ken@notes.example.com", "", Class::Hard, Reason::UserUnknown}}},
    {"gmail.eml", Kind::Ndr, true, {{"laura@example.com", "5.2.2", Class::Soft, Reason::MailboxFull}}},
    {"yahoo.eml", Kind::Ndr, true, {{"mallory@example.net", "", Class::Hard, Reason::UserUnknown}}},
    {"ses-json.eml", Kind::Dsn, true, {{"nina@example.com", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"gmx.eml", Kind::Ndr, true, {{"oscar@example.de", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"webde-german.eml", Kind::Ndr, true, {{"peter@example.de", "", Class::Hard, Reason::UserUnknown}}},
    {"tonline.eml", Kind::Ndr, true,
     {{"quinn@t-online.example.de", "", Class::Soft, Reason::MailboxFull}}},
    {"autoreply-en.eml", Kind::AutoReply, false, {{"rita@example.com", "", Class::AutoReply, Reason::Vacation}}},
    {"autoreply-de.eml", Kind::AutoReply, false,
     {{"stefan@example.de", "", Class::AutoReply, Reason::Vacation}}},
    {"ordinary.eml", Kind::None, false, {}},
    // 1&1 runs Exim with a German trailer; Strato writes German only.
    {"einsundeins.eml", Kind::Ndr, true,
     {{"ute@einsundeins.example.de", "", Class::Hard, Reason::UserUnknown}}},
    {"strato.eml", Kind::Ndr, true,
     {{"vera@strato-kunde.example.de", "5.2.2", Class::Soft, Reason::MailboxFull}}},
    // RFC 3834 §3.1.8 Precedence alone, no Auto-Submitted
    {"autoreply-precedence.eml", Kind::AutoReply, false,
     {{"walter@example.at", "", Class::AutoReply, Reason::Vacation}}},
    // Postfix marks its reports Auto-Submitted: auto-replied; one whose only
    // recipient is unusable is still a report (kept for a human), not a
    // vacation notice from MAILER-DAEMON.
    {"postfix-unusable-rcpt.eml", Kind::Dsn, false, {}},
    {"broken-boundary.eml", Kind::Dsn, true, {{"wendy@example.com", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"bad-base64.eml", Kind::Dsn, true, {{"xavier@example.com", "5.2.2", Class::Soft, Reason::MailboxFull}}},
    // A generic Status (x.0.0, x.y.0) gives way to the remote reply's own
    // code; X.2.1 "mailbox disabled" outranks "user unknown" not said at RCPT.
    {"wrapped-status.eml", Kind::Dsn, true,
     {{"yolanda@example.net", "5.2.2", Class::Soft, Reason::MailboxFull},
      {"zack@example.net", "5.2.1", Class::Soft, Reason::Suspend},
      {"abby@example.net", "5.1.0", Class::Hard, Reason::UserUnknown}}},
    // RFC 3464 §2.3.1/§2.3.2: a Final-Recipient on a host of its own (no
    // dot, no domain, or a host inside the Original-Recipient's domain)
    // names where the mail went, Original-Recipient what we sent to.
    {"dsn-host-local-final.eml", Kind::Dsn, true,
     {{"john.doe@example.com", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"dsn-alias-target.eml", Kind::Dsn, true,
     {{"kim.lee@example.net", "5.2.2", Class::Soft, Reason::MailboxFull}}},
    // No Original-Recipient: the one To: of the returned headers.
    {"dsn-final-no-domain.eml", Kind::Dsn, true,
     {{"sam.jones@example.edu", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // Several addresses under one Sendmail heading; the returned message's
    // To: (a list) and Cc: are no recipients.
    {"sendmail-multi.eml", Kind::Ndr, true,
     {{"ann@example.com", "5.1.1", Class::Hard, Reason::UserUnknown},
      {"ben.w@example.com", "5.1.1", Class::Hard, Reason::UserUnknown},
      {"cho@example.com", "5.2.2", Class::Soft, Reason::MailboxFull}}},
    {"exim-failed-recipients.eml", Kind::Ndr, true,
     {{"dora@example.co.uk", "5.1.1", Class::Hard, Reason::UserUnknown},
      {"eli@example.co.uk", "5.2.2", Class::Soft, Reason::MailboxFull}}},
    // "(expanded from <list>)": the list address is never the recipient.
    {"postfix-plain.eml", Kind::Ndr, true, {{"greta@example.de", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"qmail-multi.eml", Kind::Ndr, true,
     {{"hal@example.net", "5.1.1", Class::Hard, Reason::UserUnknown},
      {"ivy@example.net", "5.2.2", Class::Soft, Reason::MailboxFull},
      {"jon@example.net", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"groupwise.eml", Kind::Ndr, true,
     {{"lena.berg@example.at", "", Class::Hard, Reason::UserUnknown},
      {"mo@example.at", "", Class::Soft, Reason::MailboxFull}}},
    {"aol.eml", Kind::Ndr, true, {{"nellyreads@aol.com", "", Class::Hard, Reason::UserUnknown}}},
    {"exchange-legacy.eml", Kind::Ndr, true,
     {{"otto.vos@example.nl", "5.1.1", Class::Hard, Reason::UserUnknown},
      {"piet@example.nl", "5.2.2", Class::Soft, Reason::MailboxFull}}},
    {"exchange-legacy-nodate.eml", Kind::Ndr, true,
     {{"quinten@example.be", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"domino-plain.eml", Kind::Ndr, true, {{"rosa.keller@example.ch", "", Class::Hard, Reason::UserUnknown}}},
    {"courier.eml", Kind::Ndr, true, {{"sven@example.org.nz", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // The sender appears in the transcript ("From:", "MAIL From:").
    {"mdaemon.eml", Kind::Ndr, true, {{"tina@example.it", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"mirapoint.eml", Kind::Ndr, true, {{"ugo@example.us", "", Class::Soft, Reason::Suspend}}},
    // "contact postmaster@..." is no recipient.
    {"imail.eml", Kind::Ndr, true, {{"val@example.ca", "", Class::Hard, Reason::UserUnknown}}},
    {"kerio.eml", Kind::Ndr, true, {{"wanda@example.cz", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    {"yahoo-old.eml", Kind::Ndr, true, {{"xena_r@yahoo.com", "", Class::Hard, Reason::UserUnknown}}},
    {"university-reason.eml", Kind::Ndr, true,
     {{"zoe.h@uni.example.ac.uk", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // The returned message starts at its Received: line, without a marker;
    // none of its addresses (From, Sender, To, Cc, Reply-To, body) count.
    {"returned-headers-only.eml", Kind::Ndr, true,
     {{"abel@example.fr", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // "'SMTP:a@b' on <date>": the type prefix is no label; an entry that
    // names only a person ("Otto Vos on ...") gives no address to guess.
    {"exchange-smtp-prefix.eml", Kind::Ndr, true,
     {{"piet@example.nl", "5.2.2", Class::Soft, Reason::MailboxFull}}},
    {"sendmail-display-name.eml", Kind::Ndr, true,
     {{"ann@example.com", "5.1.1", Class::Hard, Reason::UserUnknown},
      {"ben.w@example.com", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // Message ids on the folded lines of a quoted References: field.
    {"notice-references.eml", Kind::Ndr, true,
     {{"carl@example.com", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // An address only in a sentence; the Outlook-style quoted original
    // below "-----Original Message-----" names another.
    {"sentence-only.eml", Kind::Ndr, true, {{"jane@example.edu", "", Class::Hard, Reason::UserUnknown}}},
    // Nothing names the recipient, and the returned message went to a list:
    // its To: is the list, which is never suppressed.
    {"list-returned.eml", Kind::None, false, {}},
    // Several addresses on the line that opens with one.
    {"sendmail-one-line.eml", Kind::Ndr, true,
     {{"gina@example.com", "5.1.1", Class::Hard, Reason::UserUnknown},
      {"hank@example.com", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // Exim's "(generated from <alias>)" line names what the address came
    // from, not another recipient.
    {"exim-generated-from.eml", Kind::Ndr, true,
     {{"ivan@example.co.uk", "", Class::Hard, Reason::UserUnknown}}},
    // X-Failed-Recipients narrows the addresses that open a line: the help
    // desk in the provider's footer is none.
    {"exim-isp-footer.eml", Kind::Ndr, true,
     {{"lou@isp.example.co.uk", "", Class::Soft, Reason::MailboxFull}}},
    // The returned message's header block without a marker: its To: (and
    // the folded line under it) are no recipients.
    {"unmarked-original.eml", Kind::Ndr, true,
     {{"marek@example.pl", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // "Name <addr> on <date>" is a list entry; "Your Message <id> was
    // kept" is a sentence, and its message id no recipient.
    {"exchange-display-name.eml", Kind::Ndr, true,
     {{"otto.vos@example.nl", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // GroupWise names the mailbox by its local part only: the returned
    // message's To: says which of its addresses that is.
    {"groupwise-local.eml", Kind::Ndr, true,
     {{"lena.berg@example.at", "", Class::Hard, Reason::UserUnknown}}},
    // A text part after the notice is the returned message's body: its
    // line-opening addresses are no recipients.
    {"body-part-after-notice.eml", Kind::Ndr, true,
     {{"ole@example.dk", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // AOL names the screen name only, in any case; the returned To: has the
    // address. "Not accepting mail from <sender>" is the member's filter.
    {"aol-screenname.eml", Kind::Ndr, true,
     {{"QuietReader77@aol.com", "", Class::Soft, Reason::Filtered}}},
    // Legacy Exchange reports its own X.500 name wrapped as an address; the
    // returned message's one To: is the address we sent to.
    {"exchange-imceaex.eml", Kind::Dsn, true,
     {{"jan.smit@example.be", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // Message ids (the returned message's, the notice's own) opening a
    // line look like addresses and are none.
    {"message-id-in-text.eml", Kind::Ndr, true,
     {{"per@example.no", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // A failed program delivery "expanded from" the address we sent to:
    // that address is the recipient; the alias line belongs to its entry.
    {"sendmail-program.eml", Kind::Ndr, true,
     {{"rita@example.com", "5.1.1", Class::Hard, Reason::UserUnknown},
      {"sam@example.com", "", Class::Soft, Reason::Undefined}}},
    // An auto-reply whose subject quotes ours ("Out of Office: Your parcel
    // could not be delivered") and the original below "-----Original
    // Message-----": its author is no failed recipient.
    {"autoreply-quoting-subject.eml", Kind::AutoReply, false,
     {{"petra.lind@example.com", "", Class::AutoReply, Reason::Vacation}}},
    // Auto-Submitted: auto-replied, a gateway's own sender and a plain
    // subject: the wording and the returned headers make it a notice.
    {"gateway-auto-replied.eml", Kind::Ndr, true,
     {{"k.grad@alumni.uni.example.edu", "", Class::Hard, Reason::UserUnknown}}},
    // The reporting site's support and abuse desks in the notice's footer.
    {"site-role-footer.eml", Kind::Ndr, true, {{"bob@isp.example.net", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // The delivery-status part relabelled text/plain by a gateway.
    {"status-as-text-plain.eml", Kind::Dsn, true, {{"bob@example.com", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // Only the subject names the recipient; the returned message went to two.
    {"subject-only.eml", Kind::Ndr, true, {{"bob@example.com", "", Class::Hard, Reason::UserUnknown}}},
    // A list manager passes on a notice it could not read, attached: the
    // attached notice is read, and its To: (the list's bounce address) is
    // no recipient.
    {"attached-notice.eml", Kind::Ndr, true, {{"member9@example.com", "5.1.1", Class::Hard, Reason::UserUnknown}}},
    // Exim names a failed pipe by the address it was "generated by".
    {"exim-pipe.eml", Kind::Ndr, true, {{"support-desk@example.ie", "", Class::Soft, Reason::SystemError}}},
};

}  // namespace

BOOST_AUTO_TEST_CASE(dsn_samples) {
    for (const auto& c : kCases) {
        BOOST_TEST_CONTEXT(c.file) {
            const dsn::Report r = dsn_test::parse(sample(c.file));
            BOOST_TEST((r.kind == c.kind), "kind: got " << dsn::to_string(r.kind) << ", want " << dsn::to_string(c.kind));
            BOOST_TEST(r.is_bounce == c.is_bounce, "is_bounce: got " << r.is_bounce << ", want " << c.is_bounce);
            BOOST_TEST_REQUIRE(r.recipients.size() == c.rcpts.size(),
                               "recipients: got " << r.recipients.size() << ", want " << c.rcpts.size());
            for (size_t i = 0; i < c.rcpts.size(); ++i) {
                const auto& got = r.recipients[i];
                const auto& want = c.rcpts[i];
                BOOST_TEST(got.address == want.address, "address: got " << got.address << ", want " << want.address);
                BOOST_TEST(got.status == want.status, "status: got " << got.status << ", want " << want.status);
                BOOST_TEST((got.klass == want.klass),
                           "class: got " << dsn::to_string(got.klass) << ", want " << dsn::to_string(want.klass));
                BOOST_TEST((got.reason == want.reason),
                           "reason: got " << dsn::to_string(got.reason) << ", want " << dsn::to_string(want.reason));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(dsn_report_fields) {
    const dsn::Report r = dsn_test::parse(sample("postfix-dsn.eml"));
    BOOST_TEST(r.reporting_mta == "mx1.example.org");
    BOOST_TEST(r.subject == "Undelivered Mail Returned to Sender");
    BOOST_TEST(r.original_message_id == "<news-2025-03@example.org>");
    BOOST_TEST(r.original_from == "news@example.org");
    BOOST_TEST(r.original_to == "robert@example.net");
    BOOST_TEST_REQUIRE(r.recipients.size() == 1u);
    const auto& rc = r.recipients[0];
    BOOST_TEST(rc.alias == "robert@example.net");
    BOOST_TEST(rc.reply_code == "550");
    BOOST_TEST(rc.remote_mta == "mx.example.net");
    BOOST_TEST((rc.action == dsn::Action::Failed));
    BOOST_TEST(rc.diagnostic.find("User unknown in virtual mailbox table") != std::string::npos,
               "diagnostic: got " << rc.diagnostic);

    const dsn::Report a = dsn_test::parse(sample("arf.eml"));
    BOOST_TEST(a.feedback_type == "abuse");
    BOOST_TEST(a.reporting_mta == "mail.example.net");
    const dsn::Report d = dsn_test::parse(sample("postfix-delayed.eml"));
    BOOST_TEST_REQUIRE(d.recipients.size() == 1u);
    BOOST_TEST((d.recipients[0].action == dsn::Action::Delayed));
}

// The alias an address was expanded from, on its line (Postfix) or under it
// (Sendmail), is kept beside it, never reported in its place.
BOOST_AUTO_TEST_CASE(dsn_expanded_from) {
    struct {
        const char* file;
        const char* address;
        const char* alias;
    } const rows[] = {
        {"sendmail-display-name.eml", "ann@example.com", "team@example.com"},
        {"sendmail-multi.eml", "ben.w@example.com", "bwhite@example.com"},
        {"sendmail-program.eml", "rita@example.com", ""},
        {"postfix-plain.eml", "greta@example.de", "announce@lists.example.org"},
        {"dsn-alias-target.eml", "kim.lee@example.net", "k.lee@store02.corp.example.net"},
    };
    for (const auto& row : rows) {
        const dsn::Report r = dsn_test::parse(sample(row.file));
        bool found = false;
        for (const auto& rc : r.recipients) {
            if (rc.address != row.address) continue;
            found = true;
            BOOST_TEST(rc.alias == row.alias, row.file << ": alias got " << rc.alias << ", want " << row.alias);
        }
        BOOST_TEST(found, row.file << ": " << row.address << " not reported");
    }
}

// RFC 3464 §2.3.1-2: which of Final-Recipient and Original-Recipient is
// the recipient to suppress.
BOOST_AUTO_TEST_CASE(dsn_original_recipient) {
    struct {
        const char* final_rcpt;
        const char* original;  // "" for none
        const char* want;
    } const rows[] = {
        {"jdoe@mailhub", "john.doe@example.com", "john.doe@example.com"},
        {"jdoe@[192.0.2.9]", "john.doe@example.com", "john.doe@example.com"},
        {"k.lee@store02.corp.example.net", "kim.lee@example.net", "kim.lee@example.net"},
        {"sjones", "sam@example.edu", "sam@example.edu"},
        // Another domain: a list's member; the same domain: a local alias.
        {"greta@example.de", "announce@lists.example.org", "greta@example.de"},
        {"bob@example.net", "robert@example.net", "bob@example.net"},
        {"john@example.com", "", "john@example.com"},
        {"IMCEAEX-_O=EXAMPLE_OU=FIRST+20ADMINISTRATIVE+20GROUP_CN=RECIPIENTS_CN=JSMITH@example.com",
         "john.smith@example.com", "john.smith@example.com"},
    };
    for (const auto& row : rows) {
        std::string msg =
            "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"O\"\n\n--O\n"
            "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n";
        if (*row.original) msg += std::string("Original-Recipient: rfc822; ") + row.original + "\n";
        msg += std::string("Final-Recipient: rfc822; ") + row.final_rcpt + "\nAction: failed\nStatus: 5.1.1\n\n--O--\n";
        const dsn::Report r = dsn_test::parse(msg);
        BOOST_TEST_REQUIRE(r.recipients.size() == 1u, row.final_rcpt << ": recipients got " << r.recipients.size());
        BOOST_TEST(r.recipients[0].address == row.want,
                   row.final_rcpt << " / " << row.original << ": got " << r.recipients[0].address << ", want "
                                  << row.want);
    }
}

BOOST_AUTO_TEST_CASE(dsn_delivered_is_not_a_bounce) {
    const std::string msg =
        "From: MAILER-DAEMON@mx.example.org\r\nTo: a@example.org\r\nSubject: Successful Mail Delivery Report\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"X\"\r\n\r\n"
        "--X\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; b@example.net\r\nAction: delivered\r\nStatus: 2.0.0\r\n"
        "Diagnostic-Code: smtp; 250 2.0.0 Ok\r\n\r\n--X--\r\n";
    const dsn::Report r = dsn_test::parse(msg);
    BOOST_TEST((r.kind == dsn::Kind::Dsn));
    BOOST_TEST(!r.is_bounce);
    BOOST_TEST_REQUIRE(r.recipients.size() == 1u);
    BOOST_TEST((r.recipients[0].klass == dsn::Class::Other));
    BOOST_TEST((r.recipients[0].reason == dsn::Reason::Delivered));
}

BOOST_AUTO_TEST_CASE(dsn_personal_mail_about_rejection) {
    // Bounce-like subject and an address opening a line, but written by a
    // person: no daemon, no null sender, no returned message.
    const std::string msg =
        "From: Uma <uma@example.net>\nTo: hr@example.org\nSubject: Re: Application rejected\n\n"
        "victor@example.com\nis the colleague I mentioned. Please write to him.\n";
    const dsn::Report r = dsn_test::parse(msg);
    BOOST_TEST((r.kind == dsn::Kind::None), "kind: got " << dsn::to_string(r.kind) << ", want none");
    BOOST_TEST(!r.is_bounce);
    BOOST_TEST(r.recipients.empty());
}

// Which addresses of a notice's own wording are its failed recipients
// (class hard or soft).
// The returned message went to two, so its To: decides nothing.
BOOST_AUTO_TEST_CASE(dsn_notice_wording) {
    struct {
        const char* notice;
        std::vector<std::string> want;
    } const rows[] = {
        // Where to ask for help is no recipient, in any tier.
        {"Your message to bob@example.com could not be delivered: no such user.\n"
         "If you need help, contact us at help@example.com.\n",
         {"bob@example.com"}},
        {"The user bob@example.com does not exist here. Mail for webmaster should be sent to "
         "webmaster@example.com\n",
         {"bob@example.com"}},
        {"Questions: helpdesk@example.com\nYour mail to carl@example.com was refused.\n", {"carl@example.com"}},
        // A quoted "To:" names every recipient; "Failed recipient:" the one that failed.
        {"Your message\n   To: bob@example.com; carl@example.com\n   Subject: Hi\n"
         "could not be delivered to some recipients.\n\nFailed recipient: carl@example.com (user unknown)\n",
         {"carl@example.com"}},
        // Identifiers look like addresses: "X-Original-Message-ID:", "Envelope-Id:".
        {"X-Original-Message-ID: <5ee0b0c5.1c69@mx.example.net>\nEnvelope-Id: q1@mx.example.net\n"
         "Your message to carl@example.com was refused.\n",
         {"carl@example.com"}},
        // Sentences in other languages: "à", "a", "aan", "destinatario".
        {"Votre message à bob@example.com n'a pas pu être remis.\n", {"bob@example.com"}},
        {"No se pudo entregar su mensaje a bob@example.com.\n", {"bob@example.com"}},
        {"Uw bericht aan bob@example.com kon niet worden afgeleverd.\n", {"bob@example.com"}},
        {"Il messaggio non è stato recapitato al destinatario bob@example.com.\n", {"bob@example.com"}},
        // The mailbox named by its local part, after a label or in brackets;
        // not a subject that starts with the same word.
        {"Unknown user: bob\n", {"bob@example.com"}},
        {"<carl>... User unknown\n", {"carl@example.com"}},
        {"Subject: bob smith's visit\nUser unknown\n", {}},
        // A recipient the notice says was delivered did not fail.
        {"<bob@example.com>: delivered to mailbox\n<carl@example.com>: user unknown\n", {"carl@example.com"}},
        {"<bob@example.com>... Successfully delivered\n<carl@example.com>... User unknown\n", {"carl@example.com"}},
        {"<bob@example.com>: delivery via local: delivered to mailbox\n", {}},
    };
    for (const auto& row : rows) {
        const std::string msg = std::string("From: postmaster@example.com\nTo: sender@example.org\n"
                                            "Subject: Undeliverable message\nMIME-Version: 1.0\n"
                                            "Content-Type: multipart/mixed; boundary=\"B\"\n\n--B\n"
                                            "Content-Type: text/plain; charset=utf-8\n\n")
            + row.notice
            + "\n--B\nContent-Type: message/rfc822\n\nFrom: sender@example.org\n"
              "To: bob@example.com, carl@example.com\nSubject: Hi\n\nHello\n--B--\n";
        const dsn::Report r = dsn_test::parse(msg);
        std::vector<std::string> got;
        for (const auto& rc : r.recipients)
            if (rc.klass == dsn::Class::Hard || rc.klass == dsn::Class::Soft) got.push_back(rc.address);
        std::string g, w;
        for (const auto& a : got) g += a + " ";
        for (const auto& a : row.want) w += a + " ";
        BOOST_TEST(got == row.want, row.notice << ": got " << g << ", want " << w);
    }
}

// A notice is known by its sender, subject or wording with some backing:
// localised Exchange subjects, the wording of other languages, old
// Sendmail's "Return-Path: <MAILER-DAEMON>", Exchange's fixed sender.
BOOST_AUTO_TEST_CASE(dsn_bounce_signals) {
    struct {
        const char* headers;
        const char* notice;
    } const rows[] = {
        {"From: Serveur <serveur@example.fr>\nSubject: Non remis : Bonjour\n",
         "Votre message n'a pas pu être remis à bob@example.com.\n"},
        {"From: Servidor <servidor@example.es>\nSubject: No se puede entregar: Hola\n",
         "No se pudo entregar su mensaje.\n\nbob@example.com\n"},
        {"From: System <system@example.ru>\nSubject: Notification\nReturn-Path: <>\n",
         "Ваше письмо не может быть доставлено:\n\nbob@example.com\n"},
        {"From: root@oldhost.example.edu\nSubject: Notification\nReturn-Path: <MAILER-DAEMON>\n",
         "   ----- Transcript of session follows -----\n550 bob@example.com... User unknown\n"},
        {"From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.com>\n"
         "Subject: Hello\n",
         "Delivery has failed to these recipients or groups:\n\nbob@example.com\n"},
        {"From: Gateway <gw@example.de>\nSubject: Notification\nReturn-Path: <>\n",
         "|------------------------- Failed addresses follow: ---------------------|\n"
         " <bob@example.com> ... unknown user\n"},
    };
    for (const auto& row : rows) {
        const std::string msg = std::string(row.headers)
            + "To: sender@example.org\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + row.notice
            + "\n--- Below this line is a copy of the message.\n\nFrom: sender@example.org\n"
              "To: bob@example.com, carl@example.com\nSubject: Hi\n\nHello\n";
        const dsn::Report r = dsn_test::parse(msg);
        BOOST_TEST(r.is_bounce, row.headers << ": not read as a bounce (kind " << dsn::to_string(r.kind) << ")");
        BOOST_TEST_REQUIRE(r.recipients.size() == 1u, row.headers << ": recipients " << r.recipients.size());
        BOOST_TEST(r.recipients[0].address == "bob@example.com", row.headers << ": got " << r.recipients[0].address);
    }
}

// A report whose fields are all indented (as a gateway quotes it) is read
// field by field; lines indented deeper are folds.
BOOST_AUTO_TEST_CASE(dsn_report_indented) {
    const std::string msg =
        "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"O\"\n\n--O\n"
        "Content-Type: message/delivery-status\n\n  Reporting-MTA: dns; mx.example.org\n\n"
        "  Final-Recipient: rfc822; bob@example.net\n  Action: failed\n  Status: 5.2.2\n"
        "  Diagnostic-Code: smtp; 552 5.2.2 over\n      quota\n\n--O--\n";
    const dsn::Report r = dsn_test::parse(msg);
    BOOST_TEST_REQUIRE(r.recipients.size() == 1u);
    BOOST_TEST(r.recipients[0].address == "bob@example.net");
    BOOST_TEST(r.recipients[0].status == "5.2.2");
    BOOST_TEST((r.recipients[0].action == dsn::Action::Failed));
    BOOST_TEST(r.recipients[0].diagnostic == "552 5.2.2 over quota", "diagnostic: got " << r.recipients[0].diagnostic);
}

// An HTML notice followed by a plain attachment: the notice is the HTML,
// the attachment's addresses are none of its recipients.
BOOST_AUTO_TEST_CASE(dsn_html_notice_plain_attachment) {
    const std::string msg =
        "From: postmaster@example.com\nTo: sender@example.org\nSubject: Undeliverable: Hi\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: text/html; charset=utf-8\n\n"
        "<html><body><p>Delivery has failed to these recipients or groups:</p><p>"
        "<a href=\"mailto:bob@example.com\">bob@example.com</a><br>The email address you entered couldn't be "
        "found.</p></body></html>\n\n--B\nContent-Type: text/plain\nContent-Disposition: attachment\n\n"
        "Contact list:\ncarl@example.com\ndana@example.com\n\n--B--\n";
    const dsn::Report r = dsn_test::parse(msg);
    BOOST_TEST_REQUIRE(r.recipients.size() == 1u, "recipients: got " << r.recipients.size() << ", want 1");
    BOOST_TEST(r.recipients[0].address == "bob@example.com");
    BOOST_TEST((r.recipients[0].klass == dsn::Class::Hard));
}

BOOST_AUTO_TEST_CASE(dsn_limits) {
    std::string msg =
        "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"L\"\n\n--L\n"
        "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n";
    for (int i = 0; i < 50; ++i)
        msg += "\nFinal-Recipient: rfc822; user" + std::to_string(i) +
               "@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 " + std::string(3000, 'x') +
               "\n";
    msg += "\n--L--\n";
    dsn::Limits lim = dsn_test::limits();
    lim.max_recipients = 10;
    lim.max_diagnostic = 100;
    const dsn::Report r = dsn_test::parse(msg, lim);
    BOOST_TEST(r.recipients.size() == 10u, "recipients: got " << r.recipients.size() << ", want 10");
    for (const auto& rc : r.recipients) BOOST_TEST(rc.diagnostic.size() <= 100u);
}

namespace {

const std::string kReportHead =
    "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"L\"\n\n--L\n"
    "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n";

std::string record(const std::string& addr, size_t diag) {
    return "\nFinal-Recipient: rfc822; " + addr + "\nAction: failed\nStatus: 5.1.1\n"
           "Diagnostic-Code: smtp; 550 5.1.1 " + std::string(diag, 'x') + "\n";
}

}  // namespace

// A record cut by the part limit is dropped: "victim@example.com" cut to
// "victim@example.co" must not be reported (and so never suppressed).
BOOST_AUTO_TEST_CASE(dsn_record_cut_by_part_limit) {
    const dsn::Limits lim = dsn_test::limits();
    const size_t part_limit = lim.part_text();
    BOOST_TEST_REQUIRE(part_limit > 0u);
    std::string msg = kReportHead;
    const size_t body_at = msg.size() - std::string("Reporting-MTA: dns; mx.example.org\n").size();
    size_t n = 0;
    const std::string cut_line = "\nFinal-Recipient: rfc822; victim@example.co";
    while (msg.size() - body_at + 3000 + cut_line.size() < part_limit)
        msg += record("user" + std::to_string(n++) + "@example.net", 2900);
    // Pad so that the part limit falls right after "victim@example.co".
    const size_t used = msg.size() - body_at;
    msg += "\nX-Pad: " + std::string(part_limit - used - cut_line.size() - 8, 'p');
    msg += cut_line;
    BOOST_TEST_REQUIRE(msg.size() - body_at == part_limit);
    msg += "m\nAction: failed\nStatus: 5.1.1\n\n--L--\n";
    const dsn::Report r = dsn_test::parse(msg, lim);
    BOOST_TEST(r.recipients.size() == n, "recipients: got " << r.recipients.size() << ", want " << n);
    for (const auto& rc : r.recipients) {
        BOOST_TEST(rc.address.find("victim") == std::string::npos, "got cut record " << rc.address);
        BOOST_TEST(rc.status == "5.1.1", rc.address << ": status got " << rc.status << ", want 5.1.1");
    }
}

// The same for a notice without a report part: the line cut by the limit
// is not read, and the address whose paragraph it cuts is dropped even
// when its own line is whole.
BOOST_AUTO_TEST_CASE(dsn_ndr_line_cut_by_limit) {
    const dsn::Limits lim = dsn_test::limits();
    const size_t part_limit = lim.part_text();
    const std::string head = "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\nSubject: failure notice\n\n";
    for (const std::string cut_line : {"<victim@example.co", "<victim@example.com>:\n"}) {
        std::string body = "Hi. This is the qmail-send program at mx.example.org.\n"
                           "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
                           "This is a permanent error; I've given up. Sorry it didn't work out.\n\n";
        size_t n = 0;
        while (body.size() + 1400 + cut_line.size() < part_limit)
            body += "<user" + std::to_string(n++) + "@example.net>:\n192.0.2.1 does not like recipient.\n"
                    "Remote host said: 550 5.1.1 no such user " + std::string(1100, 'x') + "\n\n";
        body += std::string(part_limit - body.size() - cut_line.size() - 1, ' ') + "\n";
        body += cut_line;
        BOOST_TEST_REQUIRE(body.size() == part_limit);
        body += cut_line.back() == '\n' ? "192.0.2.1 does not like recipient.\n" : "m>:\n192.0.2.1 does not like recipient.\n";
        const dsn::Report r = dsn_test::parse(head + body, lim);
        // Nothing says whether the paragraph before a cut line was whole:
        // it may go too, never more.
        BOOST_TEST((r.recipients.size() == n || r.recipients.size() + 1 == n),
                   "recipients: got " << r.recipients.size() << ", want " << n - 1 << " or " << n);
        for (const auto& rc : r.recipients)
            BOOST_TEST(rc.address.find("victim") == std::string::npos, "got cut paragraph " << rc.address);
    }
}

// Report fields quoted in a plain notice: the record cut by the limit is
// dropped there too, even when the cut leaves its address line whole.
BOOST_AUTO_TEST_CASE(dsn_quoted_record_cut_by_limit) {
    const dsn::Limits lim = dsn_test::limits();
    const size_t part_limit = lim.part_text();
    const std::string head = "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\nSubject: Undelivered Mail\n\n"
                             "Your message could not be delivered.\n";
    std::string body = "Your message could not be delivered.\n";
    size_t n = 0;
    const std::string cut_line = "\nFinal-Recipient: rfc822; victim@example.com\n";
    while (body.size() + 1400 + cut_line.size() < part_limit)
        body += "\nFinal-Recipient: rfc822; user" + std::to_string(n++) +
                "@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 " + std::string(1200, 'x') + "\n";
    body += "\nX-Pad: " + std::string(part_limit - body.size() - cut_line.size() - 8, 'p');
    body += cut_line;
    BOOST_TEST_REQUIRE(body.size() == part_limit);
    const std::string msg = head.substr(0, head.find("\n\n") + 2) + body + "Action: failed\nStatus: 5.1.1\n";
    const dsn::Report r = dsn_test::parse(msg, lim);
    BOOST_TEST(r.recipients.size() == n, "recipients: got " << r.recipients.size() << ", want " << n);
    for (const auto& rc : r.recipients)
        BOOST_TEST(rc.address.find("victim") == std::string::npos, "got cut record " << rc.address);
}

// bounce_max_recipients (1..100000) is reachable: the part limit grows with
// it, and a report of 5000 records yields min(5000, max_recipients).
BOOST_AUTO_TEST_CASE(dsn_max_recipients_reachable) {
    std::string msg = kReportHead;
    for (int i = 0; i < 5000; ++i) msg += record("user" + std::to_string(i) + "@example.net", 40);
    msg += "\n--L--\n";
    for (size_t max : {size_t{1000}, size_t{5000}, size_t{100000}}) {
        dsn::Limits lim = dsn_test::limits();
        lim.max_recipients = max;
        const dsn::Report r = dsn_test::parse(msg, lim);
        const size_t want = std::min<size_t>(max, 5000);
        BOOST_TEST(r.recipients.size() == want, "max " << max << ": got " << r.recipients.size() << ", want " << want);
        BOOST_TEST(lim.part_text() >= 256u * 1024u);
    }
    // And from a notice's text.
    std::string ndr = "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\nSubject: failure notice\n\n"
                      "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n";
    for (int i = 0; i < 5000; ++i) ndr += "<user" + std::to_string(i) + "@example.net>:\n550 5.1.1 no such user\n\n";
    for (size_t max : {size_t{1000}, size_t{5000}}) {
        dsn::Limits lim = dsn_test::limits();
        lim.max_recipients = max;
        const dsn::Report r = dsn_test::parse(ndr, lim);
        BOOST_TEST(r.recipients.size() == max, "notice, max " << max << ": got " << r.recipients.size());
    }
}

BOOST_AUTO_TEST_CASE(dsn_garbage_is_a_value) {
    const std::vector<std::string> inputs = {
        "",
        "\n\n\n",
        "no headers at all, just text with @ signs @@ a@b",
        std::string(100000, 'A'),
        "Content-Type: multipart/report; boundary=\"\"\n\n--\n--\n",
        "From: MAILER-DAEMON@x.example\nSubject: failure notice\n\n<" + std::string(5000, 'a') + "@b.example>:\n",
        [] {
            static const char raw[] = "From: a\0b@example.com\nSubject: x\n\n\0\0\0";
            return std::string(raw, sizeof raw - 1);  // embedded NULs, no terminator
        }(),
    };
    for (const auto& in : inputs) {
        const dsn::Report r = dsn_test::parse(in);
        BOOST_TEST(r.recipients.size() <= 1000u);
    }
}

BOOST_AUTO_TEST_CASE(dsn_names) {
    struct {
        Reason r;
        const char* name;
    } const rows[] = {
        {Reason::UserUnknown, "userunknown"}, {Reason::HostUnknown, "hostunknown"},
        {Reason::MailboxFull, "mailboxfull"}, {Reason::MesgTooBig, "mesgtoobig"},
        {Reason::SpamDetected, "spamdetected"}, {Reason::PolicyViolation, "policyviolation"},
        {Reason::RateLimited, "ratelimited"}, {Reason::NoRelaying, "norelaying"},
        {Reason::Vacation, "vacation"}, {Reason::Feedback, "feedback"}, {Reason::Undefined, "undefined"},
    };
    for (const auto& row : rows) {
        BOOST_TEST(dsn::to_string(row.r) == row.name, "got " << dsn::to_string(row.r) << ", want " << row.name);
        auto back = dsn::reason_from_string(row.name);
        BOOST_TEST((back && *back == row.r), "reason_from_string(" << row.name << ") failed");
    }
    BOOST_TEST(!dsn::reason_from_string("nonsense").has_value());
    BOOST_TEST(dsn::to_string(Kind::AutoReply) == "autoreply");
    BOOST_TEST(dsn::to_string(dsn::Action::Delayed) == "delayed");
    BOOST_TEST(dsn::to_string(Class::Complaint) == "complaint");
}

BOOST_AUTO_TEST_CASE(dsn_class_for) {
    using dsn::Action;
    struct {
        Reason r;
        const char* status;
        Action a;
        Class want;
    } const rows[] = {
        {Reason::UserUnknown, "5.1.1", Action::Failed, Class::Hard},
        {Reason::UserUnknown, "4.1.1", Action::Failed, Class::Soft},
        {Reason::UserUnknown, "5.1.1", Action::Delayed, Class::Soft},
        {Reason::UserUnknown, "", Action::Failed, Class::Hard},
        {Reason::HostUnknown, "5.1.2", Action::Failed, Class::Hard},
        {Reason::HasMoved, "5.1.6", Action::Failed, Class::Hard},
        {Reason::NotAccept, "5.1.10", Action::Failed, Class::Hard},
        {Reason::NotAccept, "4.0.0", Action::Failed, Class::Soft},
        {Reason::MailboxFull, "5.2.2", Action::Failed, Class::Soft},
        {Reason::Blocked, "5.7.1", Action::Failed, Class::Soft},
        {Reason::Expired, "4.4.7", Action::Delayed, Class::Soft},
        {Reason::Feedback, "", Action::None, Class::Complaint},
        {Reason::Vacation, "", Action::None, Class::AutoReply},
        {Reason::Delivered, "2.0.0", Action::Delivered, Class::Other},
        {Reason::Undefined, "2.0.0", Action::Expanded, Class::Other},
        {Reason::Undefined, "5.0.0", Action::Failed, Class::Soft},
    };
    for (const auto& row : rows) {
        Class got = dsn::class_for(row.r, row.status, row.a);
        BOOST_TEST((got == row.want), dsn::to_string(row.r) << "/" << row.status << "/" << dsn::to_string(row.a)
                                                          << ": got " << dsn::to_string(got) << ", want "
                                                          << dsn::to_string(row.want));
    }
}
