// session.cc - see session.h
#include "milter/session.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "common/address/forward_seal.h"
#include "common/log/log.h"
#include "common/mailauth/preflight.h"
#include "common/store/record.h"
#include "common/sys/ascii.h"
#include "milter/return_path.h"

namespace milter {
namespace {

constexpr std::string_view kComponent = "milter";

// RET and ENVID are the only MAIL FROM parameters Postfix takes with a
// changed sender (smfi_chgfrom); the rest belong to the original command.
bool kept_esmtp_arg(std::string_view arg) {
    const std::string key = sys::to_lower_ascii(arg.substr(0, arg.find('=')));
    return key == "ret" || key == "envid";
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : " ") + e;
    return s;
}

// "<a@b>" for a@b; a path the MTA gave with its brackets stays as it is.
std::string bracketed(std::string_view a) {
    if (a.size() >= 2 && a.front() == '<' && a.back() == '>') return std::string(a);
    return "<" + std::string(a) + ">";
}

// A header value as the send log keeps it: unfolded (RFC 5322 2.2.3: the
// line breaks go, the white space after them stays), trimmed, and cut to
// kSendLogMaxString bytes without splitting a UTF-8 character. Reads no
// more of a long value than it keeps.
std::string sendlog_value(std::string_view raw) {
    std::string v;
    for (char c : raw) {
        if (c == '\r' || c == '\n') continue;
        if (v.empty() && (c == ' ' || c == '\t')) continue;
        v += c;
        if (v.size() > store::kSendLogMaxString) break;
    }
    v.resize(store::cap_utf8(v, store::kSendLogMaxString).size());
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
    return v;
}

// What DKIM signing will give a message whose one author is from (the
// preflight's DKIM half): the d= of the signing plan's aligned keys, or,
// when none of its row's keys is published, those keys as the selectors to
// publish. No signing, no row, or several authors (never signed): nothing.
mailauth::DkimOutlook dkim_outlook(const Policy& p, const address::Address& from, bool one_author) {
    mailauth::DkimOutlook o;
    const dkim::Rule* rule = p.dkim && one_author ? p.dkim->rules.find(from) : nullptr;
    if (!rule) return o;
    const dkim::Plan plan = p.dkim->plan(from, p.dkim->dns_budget);
    if (!plan.keys.empty()) {
        o.signing_domain = plan.keys.front()->domain;
        return o;
    }
    for (const auto& k : rule->keys) o.unpublished.push_back({k->selector, k->domain});
    return o;
}

constexpr std::string_view kPreflightHeader = "X-Sendguard-Preflight";

}  // namespace

bool is_local_submission(const ConnectInfo& c) {
    return c.client_port == 0 && c.client_addr == "127.0.0.1" && c.client_name == "localhost";
}

Services default_services() {
    Services s;
    s.make_instance = [] {
        static std::atomic<uint64_t> next{0};
        static const std::string prefix = [] {
            char b[64];
            std::snprintf(b, sizeof b, "sgm.%lx.%llx.", static_cast<unsigned long>(::getpid()),
                          static_cast<unsigned long long>(std::time(nullptr)));
            return std::string(b);
        }();
        char n[24];
        std::snprintf(n, sizeof n, "%llx", static_cast<unsigned long long>(++next));
        return prefix + n;
    };
    s.steady_now = [] { return std::chrono::steady_clock::now(); };
    s.now = [] { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); };
    s.make_token = address::make_random_token;
    s.record = [](const std::string&, const store::SendLogEntry&) {
        throw std::runtime_error("no send log to record a VERP token in");
    };
    return s;
}

Session::Session(std::shared_ptr<const Policy> policy, Services services)
    : policy_(std::move(policy)), services_(std::move(services)) {}

void Session::connect(const ConnectInfo& info) {
    client_ = info;
    who_.client_addr = info.client_addr;
    who_.local = is_local_submission(info);
}

Decision Session::mail(std::string_view sender, const std::vector<std::string>& esmtp_args,
                       std::string_view login, std::string_view queue_id) {
    abort();
    in_message_ = true;
    queue_id_ = std::string(queue_id);
    sender_text_ = std::string(sender);
    who_.login = std::string(login);
    for (const auto& a : esmtp_args)
        if (kept_esmtp_arg(a)) keep_args_.push_back(a);
    // cleanup(8) gives non_smtpd_milters the null sender as "", not "<>".
    auto parsed = address::parse_path(sender.empty() ? std::string_view("<>") : sender);
    if (!parsed)
        return refuse("mail", queue_id,
                      {"550", "5.7.1", "sender " + bracketed(sender) + " is not a valid address", "sender_syntax",
                       std::string(sender)});
    sender_ = *parsed;
    if (asks_policy()) instance_ = services_.make_instance();
    if (sender_.is_null()) return {};  // judged by its From (end_of_headers)
    if (const Authorisation a = authorise(*policy_, who_, sender_); !a.allowed)
        return refuse("mail", queue_id, {"550", "5.7.1", a.text, a.reason, sender_.str()});
    if (auto r = check_reply("mail", queue_id, "sender ", sender_)) return refuse("mail", queue_id, *r);
    if (policy_->verp && !who_.local && policy_->no_bounce_domain == NoBounceDomain::Refuse) {
        const std::optional<address::Domain> bounce = bounce_domain_for(*policy_, sender_.domain());
        if (!bounce)
            return refuse("mail", queue_id,
                          {"550", "5.7.1", "sender domain " + sender_.domain().str() + " has no bounce domain",
                           "no_bounce_domain", sender_.str()});
        if (auto r = check_bounce_domain("mail", queue_id, *bounce)) return refuse("mail", queue_id, *r);
    }
    return {};
}

// The DNS error of one check: 451, or (milter_dns_error_action = accept) a
// logged pass. After a pass the message's remaining checks are skipped, so
// a dead name server costs a message one dns_lookup_timeout, not one per
// From: mailbox.
std::optional<Session::Refusal> Session::dns_error(std::string_view stage, std::string_view queue_id,
                                                   std::string_view address, const std::string& text) {
    if (policy_->dns_error_action == DnsErrorAction::Accept) {
        dns_failed_ = true;
        log(queue_id, "pass", stage, address, "dns_error", {}, text);
        return std::nullopt;
    }
    return Refusal{"451", "4.4.3", text + ", try again later", "dns_error", std::string(address), true};
}

std::optional<Session::Refusal> Session::check_reply(std::string_view stage, std::string_view queue_id,
                                                     std::string_view role, const address::Address& a) {
    if (!policy_->dns || dns_failed_) return std::nullopt;
    // Each domain once per message: a From: listing many mailboxes of one
    // domain costs one lookup.
    const std::string& domain = a.domain().str();
    if (std::find(reply_checked_.begin(), reply_checked_.end(), domain) != reply_checked_.end()) return std::nullopt;
    // All of a message's reply checks together get kReplyCheckBudgets
    // times dns_lookup_timeout: a customer whose name servers answer just
    // in time, for many From: domains, cannot hold a milter worker (and
    // the SMTP session) for minutes.
    if (reply_time_ >= kReplyCheckBudgets * policy_->dns->budget())
        return dns_error(stage, queue_id, a.str(),
                         "cannot check domain " + domain + ": the message's DNS lookups took longer than " +
                             std::to_string((kReplyCheckBudgets * policy_->dns->budget()).count()) + "s");
    const auto started = std::chrono::steady_clock::now();
    const dns::Reachability r = policy_->dns->mail_reachability(a.domain());
    reply_time_ += std::chrono::steady_clock::now() - started;
    if (r.outcome == dns::Reach::Reachable) {
        reply_checked_.push_back(domain);
        return std::nullopt;
    }
    const std::string text = dns::describe(r, a.domain());
    if (r.outcome == dns::Reach::TempFail) return dns_error(stage, queue_id, a.str(), text);
    return Refusal{"550", std::string(dns::status_code(r)), std::string(role) + text,
                   std::string(dns::to_string(r.outcome)), a.str()};
}

// milter_no_bounce_domain_action = refuse: a bounce domain that cannot
// receive mail is as good as none (RFC 3463 5.1.8 is about the sender's
// address; this is our configuration, hence 5.7.1).
std::optional<Session::Refusal> Session::check_bounce_domain(std::string_view stage, std::string_view queue_id,
                                                             const address::Domain& bounce) {
    if (!policy_->dns || dns_failed_) return std::nullopt;
    const dns::Reachability r = policy_->dns->mail_reachability(bounce);
    if (r.outcome == dns::Reach::Reachable) return std::nullopt;
    const std::string text = dns::describe(r, bounce);
    if (r.outcome == dns::Reach::TempFail) return dns_error(stage, queue_id, sender_.str(), text);
    return Refusal{"550", "5.7.1", "bounce " + text + "; bounces for sender domain " + sender_.domain().str() +
                                       " would be lost",
                   "bounce_domain_unreachable", sender_.str()};
}

bool Session::verp_tracked() const {
    return policy_->verp && !sender_.is_null() && bounce_domain_for(*policy_, sender_.domain()).has_value();
}

Decision Session::rcpt(std::string_view recipient, std::string_view mailer) {
    const bool local_mailer = !mailer.empty() && std::find(policy_->local_mailers.begin(),
                                                           policy_->local_mailers.end(),
                                                           mailer) != policy_->local_mailers.end();
    // cleanup(8) takes a refused RCPT of a local submission as a
    // configuration error and keeps the mail queued: never refuse those.
    if (!local_mailer && !who_.local && policy_->verp_recipients == VerpRecipients::Split &&
        remote_recipients_ >= 1 && verp_tracked()) {
        log(queue_id_, "defer", "rcpt", recipient, "one_recipient_per_message");
        return {{Reply::Kind::Tempfail, "452", "4.5.3", "one recipient per message: send the next one in a new transaction"},
                std::nullopt};
    }
    if (recipients_.size() >= policy_->max_recipients) {
        if (who_.local) {
            recipients_overflow_ = true;
            return {};
        }
        log(queue_id_, "defer", "rcpt", recipient, "too_many_recipients");
        return {{Reply::Kind::Tempfail, "452", "4.5.3", "too many recipients"}, std::nullopt};
    }
    if (asks_policy())
        if (std::optional<Decision> refused = ask_rcpt(recipient)) return *refused;
    ++rcpt_count_;  // every RCPT the MTA took, also one this parser cannot read
    if (auto a = address::parse_path(recipient); a && !a->is_null()) recipients_.push_back(*a);
    if (!local_mailer) ++remote_recipients_;
    return {};
}

bool Session::asks_policy() const noexcept {
    const PolicyService* ps = policy_->policy_service.get();
    return ps && (who_.local || ps->submissions == PolicySubmissions::All);
}

MessageFacts Session::facts() const {
    return {client_.client_addr, client_.client_name, sender_.is_null() ? std::string() : sender_.str(),
            who_.login,          queue_id_,           instance_,
            policy_->policy_service->context};
}

// One request; the action, or nullopt when the service failed (logged, and
// the message goes on without asking again: one milter_policy_timeout per
// message at most).
std::optional<std::string> Session::ask(const policy::Request& req, std::string_view stage,
                                        std::string_view address) {
    const PolicyService& ps = *policy_->policy_service;
    policy::Asked a = ps.ask(req);
    if (a.action) return std::move(a.action);
    policy_failed_ = true;
    log(queue_id_, "pass", stage, address, "policy_unreachable", {}, a.error);
    uint64_t suppressed = 0;
    if (ps.warnings->due(services_.steady_now(), &suppressed)) {
        logging::Line l(kComponent);
        l.kv("policy_service", ps.endpoint).kv("error", a.error).kv("effect", "mail passes unchecked (fail open)");
        if (suppressed) l.kv("suppressed", static_cast<long long>(suppressed));
        logging::warning(logging::QueueId(queue_id_), l.str());
    }
    return std::nullopt;
}

// RCPT: see "Policy service" in session.h. A refusal of a local submission
// waits for the end of the message: cleanup(8) takes a refused recipient of
// non_smtpd_milters as a configuration error.
std::optional<Decision> Session::ask_rcpt(std::string_view recipient) {
    if (policy_failed_ || policy_refusal_) return std::nullopt;
    const auto rcpt = address::parse_path(recipient);
    const std::string plain = rcpt && !rcpt->is_null() ? rcpt->str() : std::string(recipient);
    const std::optional<std::string> action =
        ask(rcpt_request(facts(), plain, rcpt_count_), "rcpt", plain);
    if (!action) return std::nullopt;
    const policy::Answer a = policy::classify_action(*action);
    switch (a.verdict) {
        case policy::Verdict::Continue:
            policy_asked_ = true;
            return std::nullopt;
        case policy::Verdict::Other:
            policy_asked_ = true;
            log(queue_id_, "pass", "rcpt", plain, "policy_action_ignored", {}, *action);
            return std::nullopt;
        case policy::Verdict::Hold:
            policy_asked_ = true;
            break;
        case policy::Verdict::Tempfail:
        case policy::Verdict::Reject:
            if (!who_.local) {
                // An SMTP client is told at its RCPT, as smtpd would.
                Decision d = refuse_by_policy("rcpt", queue_id_, a, plain);
                if (d.reply.kind != Reply::Kind::Continue) return d;
                policy_asked_ = true;  // let through by milter_dry_run: it counts
                return std::nullopt;
            }
            break;
    }
    policy_refusal_ = a;
    policy_refused_rcpt_ = plain;
    return std::nullopt;
}

// END-OF-MESSAGE, once the message is accepted: commits what the RCPTs
// reserved. Its answer is applied as at RCPT (smtpd_end_of_data_restrictions).
std::optional<Decision> Session::ask_end_of_message(std::string_view queue_id) {
    if (!asks_policy() || !policy_asked_ || policy_failed_) return std::nullopt;
    if (!queue_id.empty()) queue_id_ = std::string(queue_id);
    const std::string only = recipients_.size() == 1 && rcpt_count_ == 1 ? recipients_.front().str() : std::string();
    const std::optional<std::string> action =
        ask(end_of_message_request(facts(), only, rcpt_count_, message_size_), "eom", only);
    if (!action) return std::nullopt;
    const policy::Answer a = policy::classify_action(*action);
    switch (a.verdict) {
        case policy::Verdict::Continue: return std::nullopt;
        case policy::Verdict::Other:
            log(queue_id, "pass", "eom", only, "policy_action_ignored", {}, *action);
            return std::nullopt;
        case policy::Verdict::Hold: {
            Decision d;
            d.quarantine = hold_by_policy(queue_id, a, only);
            return d;
        }
        case policy::Verdict::Tempfail:
        case policy::Verdict::Reject: break;
    }
    return refuse_by_policy("eom", queue_id, a, only);
}

Decision Session::refuse_by_policy(std::string_view stage, std::string_view queue_id, const policy::Answer& a,
                                   const std::string& address) {
    const bool temporary = a.verdict == policy::Verdict::Tempfail;
    return refuse(stage, queue_id,
                  {a.code, a.xcode, a.text, temporary ? "policy_defer" : "policy_reject", address, temporary});
}

std::string Session::hold_by_policy(std::string_view queue_id, const policy::Answer& a, std::string_view address) {
    log(queue_id, policy_->dry_run ? "would_hold" : "hold", "eom", address, "policy_hold", {}, a.text);
    return policy_->dry_run ? std::string() : a.text;
}

void Session::header(std::string_view name, std::string_view value) {
    message_size_ += name.size() + value.size() + 4;  // "name: value" CRLF
    if (policy_->dkim) keep_for_signing(name, value);
    keep_for_sendlog(name, value);
    if (sys::iequals(name, address::kForwardSealHeader)) {
        if (seal_count_++ == 0 && value.size() <= address::kForwardSealMaxValue) seal_ = std::string(value);
        return;
    }
    std::vector<std::string>* keep = nullptr;
    std::size_t* count = nullptr;
    if (sys::iequals(name, "From")) {
        keep = &from_;
        count = &from_count_;
    } else if (sys::iequals(name, "Sender")) {
        keep = &sender_header_;
        count = &sender_count_;
    } else {
        return;
    }
    ++*count;
    if (keep->size() >= kMaxAddressHeaders) return;
    if (value.size() > address::kMaxHeaderInput) {
        header_too_long_ = true;
        return;
    }
    keep->emplace_back(value);
}

// Message-ID and milter_sendlog_headers: the first value of each (a
// second is ignored), at most kSendLogMaxString bytes.
void Session::keep_for_sendlog(std::string_view name, std::string_view value) {
    if (sys::iequals(name, "Message-ID")) {
        if (!message_id_seen_) message_id_ = sendlog_value(value);
        message_id_seen_ = true;
        return;
    }
    for (const std::string& want : policy_->sendlog_headers) {
        if (!sys::iequals(name, want)) continue;
        for (const auto& kept : sendlog_headers_)
            if (kept.first == want) return;
        sendlog_headers_.emplace_back(want, sendlog_value(value));
        return;
    }
}

std::optional<Session::Refusal> Session::check_address_header(std::string_view name,
                                                              const std::vector<std::string>& values,
                                                              bool required, std::string_view queue_id) {
    const std::size_t count = name == "From" ? from_count_ : sender_count_;
    const std::string field = std::string(name) + ":";
    if (count == 0 && required)
        return Refusal{"550", "5.6.0", "message has no " + field + " header field", "no_from", ""};
    if (count > 1)
        return Refusal{"550", "5.6.0", "message has " + std::to_string(count) + " " + field + " header fields",
                       "header_count", ""};
    if (count == 0) return std::nullopt;
    if (values.empty())
        return Refusal{"550", "5.6.0", field + " header field is too long", "header_syntax", ""};
    // Every mailbox is read and checked: one this parser cannot read, or one
    // past the limit, could be the one a mail reader shows.
    auto all = address::extract_every_from_header(values.front(), kMaxFromMailboxes);
    if (!all && all.error() == address::Error::TooManyAddresses)
        return Refusal{"550", "5.6.0",
                       field + " header field lists more than " + std::to_string(kMaxFromMailboxes) + " mailboxes",
                       "header_syntax", ""};
    if (!all && all.error() == address::Error::NoAddress)
        return Refusal{"550", "5.6.0", field + " header field holds no valid address", "header_syntax", ""};
    if (!all)
        return Refusal{"550", "5.6.0",
                       field + " header field holds an address that cannot be read (" +
                           std::string(address::to_string(all.error())) + ")",
                       "header_syntax", ""};
    for (const address::Address& a : *all) {
        if (const Authorisation au = authorise(*policy_, who_, a); !au.allowed)
            return Refusal{"550", "5.7.1", au.text, au.reason, a.str()};
    }
    // A reader answers the From: (RFC 5322 3.6.2), so each must receive
    // mail; authorised first, so forged mail costs no lookup.
    if (name == "From")
        for (const address::Address& a : *all)
            if (auto r = check_reply("header", queue_id, field + " ", a)) return r;
    return std::nullopt;
}

// sendguard-bounce's forward of a reply (sendmail -f ""): its From: is the
// replier's, which no sender rule covers; the seal says who made it.
bool Session::sealed_forward() const {
    if (!who_.local || !sender_.is_null() || seal_count_ != 1 || seal_.empty()) return false;
    if (from_count_ != 1 || from_.size() != 1 || rcpt_count_ != 1 || recipients_.size() != 1 ||
        recipients_overflow_)
        return false;
    const address::VerpKeys* keys = policy_->bounce_domains.keys();
    return keys && address::verify_forward_seal(*keys, seal_, recipients_.front().normalised(), from_.front(),
                                                services_.now()) == address::SealStatus::Ok;
}

Decision Session::end_of_headers(std::string_view queue_id) {
    Decision d = check_headers(queue_id);
    start_signing(queue_id, d);
    return d;
}

Decision Session::check_headers(std::string_view queue_id) {
    if (sealed_forward()) {
        sealed_ = true;
        log(queue_id, "pass", "header", recipients_.front().str(), "sealed_forward");
        return {};
    }
    if (header_too_long_ && from_.empty())
        return refuse("header", queue_id, {"550", "5.6.0", "From: header field is too long", "header_syntax", ""});
    if (auto r = check_address_header("From", from_, true, queue_id)) return refuse("header", queue_id, *r);
    if (auto r = check_address_header("Sender", sender_header_, false, queue_id))
        return refuse("header", queue_id, *r);
    if (auto r = check_preflight(queue_id)) return refuse("header", queue_id, *r);
    return {};
}

// Will the receivers' DMARC check pass? See "Preflight" in session.h.
std::optional<Session::Refusal> Session::check_preflight(std::string_view queue_id) {
    const Policy::Preflight* pf = policy_->preflight.get();
    if (!pf || dns_failed_ || sender_.is_null() || remote_recipients_ == 0 || from_.empty()) return std::nullopt;
    const std::optional<address::Domain> bounce =
        verp_tracked() ? bounce_domain_for(*policy_, sender_.domain()) : std::nullopt;
    const std::string envelope = bounce ? bounce->str() : sender_.domain().str();
    auto all = address::extract_every_from_header(from_.front(), kMaxFromMailboxes);
    if (!all) return std::nullopt;  // refused above already
    const mailauth::Deadline deadline(pf->dns->budget());
    const bool one_author = from_count_ == 1 && all->size() == 1 && !sealed_ && !dry_run_refused_;
    std::vector<std::string> done;
    for (const address::Address& a : *all) {
        const address::Domain& d = a.domain();
        if (d.is_literal() || std::find(done.begin(), done.end(), d.str()) != done.end()) continue;
        done.push_back(d.str());
        const mailauth::PreflightResult r =
            mailauth::preflight(*pf->dns, *pf->psl, pf->relay,
                                {d.str(), envelope, dkim_outlook(*policy_, a, one_author)}, deadline);
        switch (r.verdict) {
        case mailauth::Verdict::WillPass:
            log(queue_id, "pass", "header", a.str(), "dmarc_pass", {}, r.detail);
            continue;
        case mailauth::Verdict::NoPolicy:
            log(queue_id, "pass", "header", a.str(), "dmarc_no_policy", {}, r.detail);
            continue;
        case mailauth::Verdict::Unknown:
            if (auto refusal = dns_error("header", queue_id, a.str(), r.detail)) return refusal;
            return std::nullopt;
        case mailauth::Verdict::WillFail: break;
        }
        switch (pf->action) {
        case DmarcAction::Reject:
            return Refusal{"550", "5.7.26", r.fix_it, "dmarc_will_fail", a.str()};
        case DmarcAction::Tempfail:
            return Refusal{"451", "4.7.26", r.fix_it + "; try again later", "dmarc_will_fail", a.str(), true};
        case DmarcAction::Tag:
            log(queue_id, policy_->dry_run ? "would_tag" : "tag", "header", a.str(), "dmarc_will_fail", {}, r.fix_it);
            if (!policy_->dry_run)
                preflight_headers_.emplace_back(std::string(kPreflightHeader),
                                                "dmarc=fail from=" + d.str() + " envelope=" + envelope + "; " +
                                                    r.fix_it);
            continue;
        case DmarcAction::Accept:
            log(queue_id, "pass", "header", a.str(), "dmarc_will_fail", {}, r.fix_it);
            continue;
        }
    }
    return std::nullopt;
}

// A message is signed only when it leaves for a customer whose sender
// checks passed: never a sealed forward (its From: is the replier's), never
// one milter_dry_run let through although it would have been refused.
void Session::start_signing(std::string_view queue_id, const Decision& headers) {
    if (!policy_->dkim || headers.reply.kind != Reply::Kind::Continue) return;  // refused: nothing leaves
    const auto keep_why = [&](std::string_view why, std::string detail = {}) {
        unsigned_why_ = std::string(why);
        unsigned_detail_ = std::move(detail);
        signed_headers_.clear();
    };
    if (sealed_) return keep_why("sealed_forward");
    if (dry_run_refused_) return keep_why("dry_run_refused");
    if (signed_headers_overflow_)
        return keep_why("headers_too_large", "more than " + std::to_string(kMaxSignedHeaders) + " fields or " +
                                                 std::to_string(kMaxSignedHeaderBytes) + " bytes");
    if (from_count_ != 1 || from_.size() != 1) return keep_why("several_from");
    // RFC 6376 and DMARC (RFC 7489 6.6.1) speak of one author domain.
    auto all = address::extract_every_from_header(from_.front(), kMaxFromMailboxes);
    if (!all || all->size() != 1) return keep_why("several_from", all ? std::to_string(all->size()) + " mailboxes" : "");
    const address::Address& from = all->front();
    signing_from_ = from.str();
    dkim::Plan plan = policy_->dkim->plan(from, policy_->dkim->dns_budget);
    if (plan.keys.empty()) return keep_why(plan.why, std::move(plan.detail));
    unsigned_detail_ = std::move(plan.detail);  // keys skipped beside those used
    signer_ = std::make_unique<dkim::MessageSigner>(*policy_->dkim->library, plan.keys, queue_id);
    for (const auto& [n, v] : signed_headers_) signer_->header(n, v);
    signer_->eoh();
    signed_headers_.clear();
    signed_headers_.shrink_to_fit();
}

void Session::keep_for_signing(std::string_view name, std::string_view value) {
    if (signed_headers_overflow_) return;
    signed_header_bytes_ += name.size() + value.size() + 2;
    if (signed_headers_.size() >= kMaxSignedHeaders || signed_header_bytes_ > kMaxSignedHeaderBytes) {
        signed_headers_overflow_ = true;
        signed_headers_.clear();
        return;
    }
    signed_headers_.emplace_back(name, value);
}

void Session::body(std::string_view chunk) {
    message_size_ += chunk.size();
    if (signer_) signer_->body(chunk);
}

// One line per message when signing is on: action=signed with each
// signature's d=, s= and a=, or action=unsigned with why.
std::vector<std::string> Session::finish_signing(std::string_view queue_id) {
    std::vector<std::string> out;
    if (!policy_->dkim) return out;
    if (!signer_) {
        log(queue_id, "unsigned", "eom", signing_from_, unsigned_why_.empty() ? "not_checked" : unsigned_why_, {},
            unsigned_detail_);
        return out;
    }
    const std::vector<dkim::Signature> sigs = signer_->finish();
    if (!signer_->ok() || sigs.empty()) {
        log(queue_id, "unsigned", "eom", signing_from_, "signer_error", {}, signer_->error());
        return out;
    }
    std::string detail;
    for (const dkim::Signature& sig : sigs) {
        detail += (detail.empty() ? "" : ",") + std::string("d=") + sig.domain + " s=" + sig.selector +
                  " a=" + std::string(dkim::to_string(sig.algorithm));
        out.push_back(sig.value);
    }
    if (!unsigned_detail_.empty()) detail += "; not used: " + unsigned_detail_;
    log(queue_id, "signed", "eom", signing_from_, "signing_table", {}, detail);
    return out;
}

Decision Session::end_of_message(std::string_view queue_id) {
    std::string quarantine;
    if (policy_refusal_) {
        // The answer a local submission's RCPT had (see ask_rcpt).
        const policy::Answer a = *std::exchange(policy_refusal_, std::nullopt);
        if (a.verdict == policy::Verdict::Hold) {
            quarantine = hold_by_policy(queue_id, a, policy_refused_rcpt_);
        } else {
            const Decision refused = refuse_by_policy("eom", queue_id, a, policy_refused_rcpt_);
            if (refused.reply.kind != Reply::Kind::Continue) return refused;
            policy_asked_ = true;  // let through by milter_dry_run: it counts
        }
    }
    std::vector<std::string> signatures = finish_signing(queue_id);
    Decision d = envelope(queue_id);
    if (std::optional<Decision> answered = ask_end_of_message(queue_id)) {
        if (answered->reply.kind != Reply::Kind::Continue) return *answered;
        if (quarantine.empty()) quarantine = answered->quarantine;
    }
    d.insert_headers = std::move(signatures);
    d.add_headers = std::move(preflight_headers_);
    preflight_headers_.clear();
    d.quarantine = std::move(quarantine);
    return d;
}

Decision Session::envelope(std::string_view queue_id) {
    const auto pass = [&](std::string_view why) {
        log(queue_id, "pass", "eom", "", why);
        return Decision{};
    };
    if (!policy_->verp) return pass("verp_off");
    if (sender_.is_null()) return pass("null_sender");
    if (remote_recipients_ == 0) return pass("local_recipients");
    if (recipients_overflow_) return pass("too_many_recipients");
    const std::optional<address::Domain> bounce = bounce_domain_for(*policy_, sender_.domain());
    if (!bounce) return pass("no_bounce_domain");
    // A return path nobody receives mail for would lose every bounce
    // (a customer who has not published bounces.<domain> yet).
    // After a DNS failure that passed (milter_dns_error_action = accept) the
    // message is not looked up again: it goes out unchanged.
    if (dns_failed_) return pass("dns_error");
    if (policy_->dns) {
        const dns::Reachability r = policy_->dns->mail_reachability(*bounce);
        if (r.outcome != dns::Reach::Reachable) {
            log(queue_id, "pass", "eom", "", "bounce_domain_unreachable", {}, dns::describe(r, *bounce));
            return Decision{};
        }
    }
    std::string token;
    const auto make_token = [&] { return token = services_.make_token(); };
    const auto now = services_.now();
    const auto rp = make_return_path(*policy_, *bounce, recipients_, make_token,
                                     std::chrono::floor<std::chrono::days>(now));
    if (!rp) return pass("does_not_fit");
    std::string detail;
    if (rp->encoded.is_token) {
        services_.record(rp->encoded.token, sendlog_entry(queue_id, now, recipients_));
    } else {
        // The tag names its recipient itself: the entry only adds the
        // message's names, so a store that cannot take it costs those names,
        // not the message (it is logged).
        const address::Address& r = recipients_.front();
        try {
            services_.record(store::recipient_key(r.normalised(), bounce->str()), sendlog_entry(queue_id, now, {r}));
        } catch (const std::exception& e) {
            detail = std::string("send log not written: ") + e.what();
        }
    }
    log(queue_id, "verp", "eom", "", rp->encoded.is_token ? "token" : "recipient", bracketed(rp->encoded.address),
        detail);
    return {{}, ChangeFrom{rp->encoded.address, join(keep_args_)}};
}

// The entry lives as long as sendguard-bounce accepts the tag: the tag is
// dated by its day and stays fresh through day + verp_max_age, and one more
// day covers a bouncing host whose clock is a day behind (verp.h).
store::SendLogEntry Session::sendlog_entry(std::string_view queue_id, std::chrono::sys_seconds now,
                                           const std::vector<address::Address>& recipients) const {
    store::SendLogEntry e;
    const std::chrono::sys_seconds last_day_ends{std::chrono::floor<std::chrono::days>(now) + std::chrono::days(2)};
    e.expiry = last_day_ends.time_since_epoch().count() + policy_->verp_max_age.count();
    e.sender = sender_.str();
    e.queue_id = std::string(queue_id);
    for (const auto& r : recipients) e.recipients.push_back(r.normalised());
    e.message_id = message_id_;
    for (const std::string& name : policy_->sendlog_headers)  // in the configured order
        for (const auto& kept : sendlog_headers_)
            if (kept.first == name) e.headers.push_back(kept);
    return e;
}

void Session::abort() noexcept {
    in_message_ = false;
    queue_id_.clear();
    sender_text_.clear();
    sender_ = {};
    keep_args_.clear();
    recipients_.clear();
    remote_recipients_ = 0;
    recipients_overflow_ = false;
    from_.clear();
    sender_header_.clear();
    from_count_ = sender_count_ = 0;
    header_too_long_ = false;
    dns_failed_ = false;
    message_id_.clear();
    message_id_seen_ = false;
    sendlog_headers_.clear();
    seal_.clear();
    seal_count_ = 0;
    rcpt_count_ = 0;
    reply_checked_.clear();
    reply_time_ = {};
    preflight_headers_.clear();
    sealed_ = false;
    dry_run_refused_ = false;
    signed_headers_.clear();
    signed_header_bytes_ = 0;
    signed_headers_overflow_ = false;
    signer_.reset();
    signing_from_.clear();
    unsigned_why_.clear();
    unsigned_detail_.clear();
    instance_.clear();
    policy_asked_ = false;
    policy_failed_ = false;
    policy_refusal_.reset();
    policy_refused_rcpt_.clear();
    message_size_ = 0;
}

Decision Session::refuse(std::string_view stage, std::string_view queue_id, const Refusal& r) {
    if (policy_->dry_run) {
        dry_run_refused_ = true;
        log(queue_id, r.temporary ? "would_tempfail" : "would_refuse", stage, r.address, r.why, {}, r.text);
        return {};
    }
    log(queue_id, r.temporary ? "tempfail" : "refuse", stage, r.address, r.why, {}, r.text);
    return {{r.temporary ? Reply::Kind::Tempfail : Reply::Kind::Reject, r.code, r.xcode, r.text}, std::nullopt};
}

Decision Session::error(std::string_view stage, std::string_view what, std::string_view queue_id) noexcept {
    try {
        switch (policy_->error_action) {
            case ErrorAction::Accept:
                log(queue_id, "accept", stage, "", "error", {}, what);
                return {{Reply::Kind::Accept, "", "", ""}, std::nullopt};
            case ErrorAction::Reject:
                log(queue_id, "reject", stage, "", "error", {}, what);
                return {{Reply::Kind::Reject, "554", "5.3.0", "internal error in the sender check"}, std::nullopt};
            case ErrorAction::Tempfail:
                break;
        }
        log(queue_id, "tempfail", stage, "", "error", {}, what);
        return {{Reply::Kind::Tempfail, "451", "4.3.0", "internal error in the sender check, try again later"},
                std::nullopt};
    } catch (...) {
        return {{Reply::Kind::Tempfail, "", "", ""}, std::nullopt};  // the MTA's own 451
    }
}

void Session::log(std::string_view queue_id, std::string_view action, std::string_view stage,
                  std::string_view address, std::string_view why, std::string_view new_from,
                  std::string_view detail) const noexcept {
    try {
        logging::Line l(kComponent);
        l.kv("action", action)
            .kv("stage", stage)
            .kv("client", (client_.client_name.empty() ? std::string("unknown") : client_.client_name) + "[" +
                              (client_.client_addr.empty() ? std::string("unknown") : client_.client_addr) + "]")
            .kv("login", who_.login.empty() ? (who_.local ? "local" : "-") : who_.login)
            .kv("from", bracketed(sender_text_))
            .kv("address", address.empty() ? "-" : bracketed(address))
            .kv("why", why);
        if (!new_from.empty()) l.kv("new_from", new_from);
        if (!detail.empty()) l.kv("detail", detail);
        logging::info(logging::QueueId(queue_id), l.str());
    } catch (...) {
    }
}

}  // namespace milter
