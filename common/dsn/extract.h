// extract.h - the readers behind dsn::parse() (internal)
//
// Each reader looks at one kind of evidence and appends Drafts: recipients
// with their raw status, reply code and diagnostic, not yet classified.
//   report.cc:    RFC 3464/6533 delivery-status fields, RFC 5965 feedback
//                 reports, Amazon SES JSON notifications;
//   ndr.cc:       the human-readable text of non-standard notices;
//   ndr_block.cc: the block of that text about one recipient;
//   signals.cc:   is this a bounce, an auto-reply, or neither (headers and
//                 wording), and the notice text cut before a returned message.
// parse.cc classifies the drafts and builds the Report.
// Errors: none; malformed input yields fewer or no drafts.
// Thread safety: pure functions over their arguments.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/address/address.h"
#include "common/dsn/dsn.h"
#include "common/dsn/mime.h"

namespace dsn {

struct Draft {
    std::string address;
    std::string alias;
    std::string status;
    std::string reply_code;
    std::string diagnostic;
    std::string remote_mta;
    std::string context;  // notice text around this recipient
    std::string hint;     // the whole notice, when it names only this recipient
                          // (squeezed, as much as reason_from_text() reads)
    Action action = Action::None;
};

// The drafts of one report, each address once, at most max of them.
class Drafts {
public:
    explicit Drafts(size_t max) : max_(max) {}
    // Adds d unless its address is already there (then fills empty fields).
    // Returns false when the draft was dropped (empty address or limit reached).
    bool add(Draft d);
    bool empty() const noexcept { return items_.empty(); }
    size_t size() const noexcept { return items_.size(); }
    size_t max() const noexcept { return max_; }
    std::vector<Draft>& items() noexcept { return items_; }
    // Gives items()[i] the address a, keeping the old one as its alias;
    // false when another draft has a already.
    bool readdress(size_t i, std::string a);
    // A report record whose recipient is no address that can be read (an
    // Exchange X.500 name too long for a mailbox): kept aside, at most
    // max of them, for the caller to name from elsewhere.
    void add_unnamed(Draft d) {
        if (unnamed_.size() < max_) unnamed_.push_back(std::move(d));
    }
    std::vector<Draft>& unnamed() noexcept { return unnamed_; }

private:
    std::vector<Draft> items_;
    std::vector<Draft> unnamed_;
    std::unordered_map<std::string, size_t> index_;  // address, ASCII lower case
    size_t max_;
};

// A domain that is one host's own name ("mailhub", "localhost"): no
// address outside that host.
bool is_host_local(const address::Domain& d) noexcept;
// An address nobody outside the reporting site can mail: one on a
// host-local domain, or a non-SMTP address Exchange wraps in SMTP form
// ("IMCEAEX-_O=ORG_OU=..._CN=JSMITH@corp.example.com"). Also true for
// what is no address at all.
bool is_site_internal(std::string_view addr);

// The longest prefix of a text that ends with a whole line; all of it when
// it was not cut by a limit.
std::string_view whole_lines(std::string_view text, bool cut) noexcept;

// --- report.cc ---
// RFC 3464 §2.2/§2.3 fields of a delivery-status body. Returns the number
// of recipients added; sets reporting_mta when the report names one. When
// the body was cut by a limit, its last record (after the last blank line)
// is incomplete and dropped.
size_t read_delivery_status(std::string_view body, bool cut, Drafts& out, std::string& reporting_mta);
// RFC 5965 §3.1 feedback report; recipients from Original-Rcpt-To or
// Removal-Recipient, else the attached message's To:/Cc:.
size_t read_feedback_report(std::string_view body, const Mail& mail, Drafts& out,
                            std::string& feedback_type, std::string& reporting_mta);
// Amazon SES / SNS JSON notification in a text body. kind becomes Dsn for
// a bounce or delivery, Arf for a complaint; None when it is no notification.
size_t read_ses_json(std::string_view body, Drafts& out, Kind& kind, std::string& feedback_type);

// --- signals.cc ---
struct Notice {
    std::string text;        // human-readable notice, cut before the returned message
    std::string returned;    // text after the cut (an inline returned message), if any
    bool cut = false;        // text stops at the limit, not at its end
};
// At most limit bytes of text, cut at a line end.
Notice notice_text(const Mail& mail, size_t limit);
bool is_bounce_like(const Mail& mail, std::string_view notice);
bool is_strong_bounce(const Mail& mail);
// From: names a mailer daemon or postmaster.
bool is_from_daemon(const Mail& mail);
bool is_from_daemon(const Headers& headers);
bool is_auto_reply(const Mail& mail);
// An auto-reply by its own headers or subject (X-Autoreply, "Out of
// office"), not only by RFC 3834 Auto-Submitted, which bounces carry too.
bool is_named_auto_reply(const Mail& mail);
// What says a program sent the message (Report::automatic), "" for none.
std::string_view automatic_signal(const Mail& mail);
bool is_delay_notice(const Mail& mail, std::string_view notice);

// --- ndr.cc ---
// Recipients named in a notice text (X-Failed-Recipients, addresses that
// open a line, addresses after "to"/"recipient"), never the sender's own;
// as a last resort the To: of the returned message (returned_headers).
// Each draft gets status, reply code and diagnostic from its text block.
size_t read_ndr_text(const Notice& notice, const Mail& mail, const Headers& returned_headers,
                     bool delayed, Drafts& out);
// --- ndr_block.cc ---
// The most a recipient's block of notice text holds (its context and
// diagnostic); the whole notice consulted for one recipient is 4 times it.
inline constexpr size_t kNoticeBlock = 2048;
// Fills a draft's missing status, reply code and diagnostic from the block
// of notice text that names its address (starting at offset line when the
// caller knows it, else found by searching).
void fill_from_text(std::string_view notice, Draft& d, size_t recipients,
                    size_t line = std::string_view::npos);

}  // namespace dsn
