// session.h - one milter connection's decisions, without libmilter
//
// callbacks.cc turns each libmilter callback into one call here and the
// Decision into the callback's answer, so every rule below is tested as a
// table of cases (tests/unit/test_milter*.cc) with no MTA.
//
//   connect(info)       who the client is; locally submitted mail is told
//                       by is_local_submission() (see there)
//   mail(...)           the envelope sender, checked at once: authorise()
//                       (authorise.h, the sender rules of common/senders),
//                       a refusal is 550 5.7.1 <text>; then, with
//                       milter_reply_check, whether its domain can receive
//                       mail (see "Reply-ability" below); the null sender
//                       passes here and is judged by its From
//   rcpt(addr, mailer)  kept for VERP (at most policy.max_recipients, then
//                       452 4.5.3); milter_verp_recipients = split answers
//                       452 4.5.3 to the second and later RCPT of a
//                       VERP-tracked sender (RFC 5321 4.5.3.1.10)
//   header(name, value) keeps From: and Sender: (kMaxAddressHeaders
//                       values each, each at most address::kMaxHeaderInput
//                       octets), and for the send log the first Message-ID
//                       and the first value of each milter_sendlog_headers
//                       field (unfolded, trimmed, cut to
//                       store::kSendLogMaxString bytes): per-message memory
//                       stays bounded
//   end_of_headers(q)   a local submission with the null sender, one
//                       RCPT, one From: and an X-Sendguard-Forwarded seal
//                       that verifies for them (common/address/
//                       forward_seal.h: a reply sendguard-bounce forwards)
//                       passes (why=sealed_forward); a seal that does not
//                       verify changes nothing. Otherwise
//                       every From: mailbox and the Sender: go through
//                       authorise(), then every From: mailbox through the
//                       reply-ability check; missing, repeated or unparseable From:
//                       (and Sender:) are refused with texts of their own
//                       (550 5.6.0); the MTA sends a header-stage refusal at
//                       the end of DATA
//   end_of_message(q)   the new envelope sender (ChangeFrom), or none:
//                       null sender, every recipient local
//                       (milter_local_mailers), no bounce domain, VERP off,
//                       or (milter_reply_check) a bounce domain that cannot
//                       receive mail, whatever the reason, failures included
//                       (why=bounce_domain_unreachable: its bounces would be
//                       lost). Every rewritten message gets a send-log entry
//                       (Services::record): under its token, or for form
//                       "r" under store::recipient_key(recipient, bounce
//                       domain); a token's entry that cannot be written is
//                       an error (error()), a form-"r" one is logged
//                       (detail=) and the message goes on
//   abort()             the message is over (RSET, refusal, QUIT): reset
//   error(stage, what, q)  the answer milter_error_action gives an internal
//                       error, logged
//
// Reply-ability (policy.dns set, milter_reply_check; RFC 5321 5.1): the
// domain of the envelope sender at MAIL and of every From: mailbox at the end
// of headers must have an MX, or else an A or AAAA record (dns::Lookup, at
// most dns_lookup_timeout per check). Address literals need no lookup; the
// null sender is not looked up (its From: is). Local submissions are
// checked the same way: a web form's From: is what a reader answers.
//   null MX       550 5.7.27  why=null_mx        (text: dns::describe())
//   NXDOMAIN      550 5.1.8   why=nxdomain
//   no MX, A, AAAA 550 5.1.8  why=no_mail_host
//   DNS failure   451 4.4.3 "cannot check domain D: ..., try again later"
//                 why=dns_error; with policy.dns_error_action = Accept a
//                 pass logged with why=dns_error, and the message's other
//                 checks are skipped (one time-out per message at most)
// The texts are "sender domain D ..." and "From: domain D ..." for 5xx.
// With milter_no_bounce_domain_action = refuse, a sender whose bounce
// domain cannot receive mail is refused at MAIL (550 5.7.1,
// why=bounce_domain_unreachable; a DNS failure as above), since refuse says
// that no mail may leave untracked; local submissions are not refused there
// (as for no_bounce_domain) and pass unchanged at end_of_message.
//
// Preflight (policy.preflight: milter_preflight with relay_public_addresses;
// common/mailauth/preflight.h): at end_of_headers, after the checks above
// passed, each distinct From: domain of a message with a non-null sender
// and a remote recipient is judged for the envelope domain the message
// will leave with (the bounce domain when VERP applies, else the sender
// domain) and the DKIM outlook (dkim_outlook() in session.cc: the d= of
// the signing plan's published keys for the one author, or the row's
// selectors to publish). All of a
// message's preflights share one dns_lookup_timeout.
//   will fail, quarantine/reject   milter_dmarc_action: reject 550 5.7.26
//                 <fix-it text>; tempfail 451 4.7.26; tag: the header
//                 X-Sendguard-Preflight at end_of_message (action=tag);
//                 accept: logged (action=pass); why=dmarc_will_fail
//   will pass     action=pass, why=dmarc_pass
//   no policy     action=pass, why=dmarc_no_policy (none, p=none, broken)
//   DNS failure   as Reply-ability (milter_dns_error_action, why=dns_error)
//
// Policy service (policy.policy_service: milter_policy_service, quota.h):
// for a local submission (milter_policy_submissions = all: every message)
// each RCPT is asked of sendguard-policyd, and END-OF-MESSAGE once the
// message is accepted (it commits what the RCPTs reserved). The answer
// (common/policy/answer.h):
//   continue      nothing changes
//   tempfail      local: the whole message is refused at end_of_message
//   reject          (451/450 or 5xx with the service's text, why=policy_defer
//                   or policy_reject): cleanup(8) takes a refused recipient
//                   of non_smtpd_milters as a configuration error, so the
//                   RCPT itself is never refused; later RCPTs are not
//                   asked. An SMTP client (all): its RCPT is refused, as
//                   smtpd would
//   hold          the message goes on and Decision::quarantine holds it
//                 (why=policy_hold; Postfix's hold queue)
//   other         goes on, logged (why=policy_action_ignored)
// A service that fails (unreachable, milter_policy_timeout, a bad reply)
// lets the message pass: action=pass, why=policy_unreachable, and a
// warning at most once a minute; the message is not asked again.
//
// With policy.dry_run a refusal is logged as action=would_refuse (a 451 as
// action=would_tempfail) and the message goes on as if it had passed.
//
// Logging: one line per decision (sendguard-milter(8) DIAGNOSTICS):
//   QUEUEID: milter: action=ACTION, stage=STAGE, client=NAME[ADDR], login=LOGIN,
//       from=<SENDER>, address=<CHECKED>, why=WHY[, new_from=<VERP>][, detail=TEXT]
// action: refuse, would_refuse, defer (a 452 to one RCPT), pass, verp,
// hold/would_hold (the policy service's HOLD),
// tempfail/accept/reject (an internal error, milter_error_action, why=error),
// tempfail/would_tempfail (a DNS failure, why=dns_error).
//
// Errors: expected outcomes are Decisions; Services::record (the send log)
// and make_token may throw, and the caller turns that into error().
// Thread safety: a Session is used by one thread at a time (libmilter calls
// one connection's callbacks in order); the Policy is shared and immutable.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address/address.h"
#include "common/address/verp.h"
#include "common/store/sendlog.h"
#include "milter/authorise.h"
#include "common/policy/answer.h"
#include "milter/policy.h"

namespace milter {

// From: and Sender: values kept per message: one is valid (RFC 5322 3.6),
// the second tells that there were several.
inline constexpr std::size_t kMaxAddressHeaders = 2;
// Mailboxes taken from one From: value.
inline constexpr std::size_t kMaxFromMailboxes = 100;
// A message's reply-ability checks together: at most this many times
// dns_lookup_timeout, then the rest is a DNS failure (milter_dns_error_action).
inline constexpr int kReplyCheckBudgets = 2;

struct Reply {
    enum class Kind { Continue, Reject, Tempfail, Accept };
    Kind kind = Kind::Continue;
    std::string code;   // "550"; empty: the MTA's default for kind
    std::string xcode;  // "5.7.1"
    std::string text;
    bool operator==(const Reply&) const = default;
};

struct ChangeFrom {
    std::string address;     // without angle brackets
    std::string esmtp_args;  // "RET=HDRS ENVID=abc", or ""
};

struct Decision {
    Reply reply;
    std::optional<ChangeFrom> change_from;  // end_of_message only
    // end_of_message only: header fields to add (name, value), such as
    // the preflight's X-Sendguard-Preflight (milter_dmarc_action = tag).
    std::vector<std::pair<std::string, std::string>> add_headers{};
    // end_of_message only: DKIM-Signature values (folded with "\n\t"),
    // each to be inserted at the top of the header.
    std::vector<std::string> insert_headers{};
    // end_of_message only: the reason to hold the message in the MTA's
    // quarantine (smfi_quarantine: Postfix's hold queue); "" none.
    std::string quarantine{};
};

// DKIM: the header fields kept for the signer until the end of headers
// (the From: picks the keys); more is not signed (why=headers_too_large).
inline constexpr std::size_t kMaxSignedHeaderBytes = 1024 * 1024;
inline constexpr std::size_t kMaxSignedHeaders = 1000;

// What the MTA says about the client at CONNECT.
struct ConnectInfo {
    std::string client_name;  // the connect callback's host name ("localhost")
    std::string client_addr;  // "" when the MTA gave no address
    unsigned client_port = 0; // 0 when none
    std::string daemon_name;  // {daemon_name}
};

// Postfix's cleanup(8) gives non_smtpd_milters (sendmail(1), pickup) a
// simulated client "localhost" [127.0.0.1] with port 0; an SMTP client,
// also one on 127.0.0.1, always has its own non-zero port.
bool is_local_submission(const ConnectInfo& c);

// What the session uses beyond the Policy; parameters so tests pin them.
struct Services {
    std::function<std::chrono::sys_seconds()> now;
    address::VerpCodec::TokenSource make_token;
    // Stores a send-log entry under its key, a token or a
    // store::recipient_key (store::SendLog::put); may throw.
    std::function<void(const std::string& token, const store::SendLogEntry& entry)> record;
    // The policy request's instance of a new transaction, unique in the
    // milter's lifetime and across restarts (quota.h).
    std::function<std::string()> make_instance;
    // Now, for the fail-open warning's rate limit.
    std::function<std::chrono::steady_clock::time_point()> steady_now;
};

// The real clock, address::make_random_token, instances "sgm.PID.TIME.N"
// (hex) and no send log (record throws): what callbacks.cc completes with
// the store.
Services default_services();

class Session {
public:
    Session(std::shared_ptr<const Policy> policy, Services services);

    void connect(const ConnectInfo& info);
    Decision mail(std::string_view sender, const std::vector<std::string>& esmtp_args,
                  std::string_view login, std::string_view queue_id);
    Decision rcpt(std::string_view recipient, std::string_view mailer);
    void header(std::string_view name, std::string_view value);
    Decision end_of_headers(std::string_view queue_id);
    void body(std::string_view chunk);
    Decision end_of_message(std::string_view queue_id);
    // Whether this session signs (policy.dkim set): the MTA must send the body.
    bool signs() const noexcept { return policy_->dkim != nullptr; }
    // Whether the MTA must send the body: signing, or the policy service's
    // END-OF-MESSAGE size.
    bool wants_body() const noexcept { return signs() || policy_->policy_service != nullptr; }
    void abort() noexcept;
    Decision error(std::string_view stage, std::string_view what, std::string_view queue_id) noexcept;

    bool local() const noexcept { return who_.local; }
    const Policy& policy() const noexcept { return *policy_; }

private:
    struct Refusal {
        std::string code, xcode, text, why, address;
        bool temporary = false;  // a 4xx (DNS failure), else a 5xx
    };
    Decision refuse(std::string_view stage, std::string_view queue_id, const Refusal& r);
    std::optional<Refusal> check_address_header(std::string_view name, const std::vector<std::string>& values,
                                                bool required, std::string_view queue_id);
    std::optional<Refusal> check_reply(std::string_view stage, std::string_view queue_id, std::string_view role,
                                       const address::Address& a);
    std::optional<Refusal> check_preflight(std::string_view queue_id);
    std::optional<Refusal> check_bounce_domain(std::string_view stage, std::string_view queue_id,
                                               const address::Domain& bounce);
    std::optional<Refusal> dns_error(std::string_view stage, std::string_view queue_id, std::string_view address,
                                     const std::string& text);
    bool verp_tracked() const;
    void keep_for_sendlog(std::string_view name, std::string_view value);
    store::SendLogEntry sendlog_entry(std::string_view queue_id, std::chrono::sys_seconds now,
                                      const std::vector<address::Address>& recipients) const;
    bool sealed_forward() const;
    Decision check_headers(std::string_view queue_id);
    Decision envelope(std::string_view queue_id);
    void keep_for_signing(std::string_view name, std::string_view value);
    void start_signing(std::string_view queue_id, const Decision& headers);
    std::vector<std::string> finish_signing(std::string_view queue_id);
    bool asks_policy() const noexcept;
    std::optional<Decision> ask_rcpt(std::string_view recipient);
    std::optional<Decision> ask_end_of_message(std::string_view queue_id);
    // A policy answer applied: DEFER or REJECT refused at stage (as
    // milter_dry_run says); HOLD at end of message logged, its quarantine
    // text returned ("" in a dry run).
    Decision refuse_by_policy(std::string_view stage, std::string_view queue_id, const policy::Answer& a,
                              const std::string& address);
    std::string hold_by_policy(std::string_view queue_id, const policy::Answer& a, std::string_view address);
    std::optional<std::string> ask(const policy::Request& req, std::string_view stage, std::string_view address);
    MessageFacts facts() const;
    void log(std::string_view queue_id, std::string_view action, std::string_view stage,
             std::string_view address, std::string_view why, std::string_view new_from = {},
             std::string_view detail = {}) const noexcept;

    std::shared_ptr<const Policy> policy_;
    Services services_;
    ConnectInfo client_;
    Identity who_;
    // The message in progress (reset by abort()).
    bool in_message_ = false;
    std::string queue_id_;     // {i} at MAIL
    std::string sender_text_;  // as given, for the log
    address::Address sender_;
    std::vector<std::string> keep_args_;  // RET=, ENVID=
    std::vector<address::Address> recipients_;
    std::size_t remote_recipients_ = 0;
    bool recipients_overflow_ = false;
    std::vector<std::string> from_, sender_header_;
    std::size_t from_count_ = 0, sender_count_ = 0;
    bool header_too_long_ = false;
    bool dns_failed_ = false;  // a DNS failure passed (accept): no more checks
    std::string message_id_;  // the first Message-ID, "" none
    bool message_id_seen_ = false;
    std::vector<std::pair<std::string, std::string>> sendlog_headers_;  // milter_sendlog_headers
    // X-Sendguard-Forwarded (forward_seal.h): the first value and the count.
    std::string seal_;
    std::size_t seal_count_ = 0;
    std::size_t rcpt_count_ = 0;  // RCPTs of the message, read or not
    std::vector<std::string> reply_checked_;         // domains found reachable
    std::chrono::steady_clock::duration reply_time_{};  // spent on reply checks
    std::vector<std::pair<std::string, std::string>> preflight_headers_;  // for end_of_message
    // DKIM (policy.dkim): headers kept until end_of_headers, then the signer.
    bool sealed_ = false;            // passed as a sealed forward
    bool dry_run_refused_ = false;   // a refusal let through by milter_dry_run
    std::vector<std::pair<std::string, std::string>> signed_headers_;
    std::size_t signed_header_bytes_ = 0;
    bool signed_headers_overflow_ = false;
    std::unique_ptr<dkim::MessageSigner> signer_;
    std::string signing_from_;       // the From: mailbox signed for
    std::string unsigned_why_, unsigned_detail_;
    // The policy service (policy.policy_service, quota.h).
    std::string instance_;            // of this transaction
    bool policy_asked_ = false;       // a RCPT was answered: END-OF-MESSAGE is due
    bool policy_failed_ = false;      // failed open: not asked again this message
    std::optional<policy::Answer> policy_refusal_;  // the first Tempfail/Reject/Hold
    std::string policy_refused_rcpt_; // the recipient it answered
    uint64_t message_size_ = 0;       // header and body bytes seen
};

}  // namespace milter
