// callbacks.cc - see callbacks.h
#include "milter/callbacks.h"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>

#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/log/log.h"
#include "milter/session.h"

namespace milter {
namespace {

State* g_state = nullptr;  // set by register_callbacks, before smfi_main

// The per-connection object behind smfi_setpriv.
struct Connection {
    explicit Connection(std::shared_ptr<const Policy> p) : session(std::move(p), services()) {}
    static Services services() {
        Services s = default_services();
        if (SendLogBatch* batch = g_state->send_log_batch())
            s.record = [batch](const std::string& token, const store::SendLogEntry& e) { batch->put(token, e); };
        return s;
    }
    Session session;
    bool no_reply_connect = false;  // SMFIP_NR_CONN negotiated
    bool no_reply_header = false;   // SMFIP_NR_HDR negotiated
    bool no_reply_eoh = false;      // SMFIP_NR_EOH negotiated
    bool no_reply_body = false;     // SMFIP_NR_BODY negotiated
    std::optional<Reply> header_reply;  // the EOH answer, given at EOM (no_reply_eoh)
    std::string pending_error;      // an error where no reply could be given
};

Connection* connection(SMFICTX* ctx) { return static_cast<Connection*>(smfi_getpriv(ctx)); }

Connection& ensure_connection(SMFICTX* ctx) {
    if (Connection* c = connection(ctx)) return *c;
    auto* c = new Connection(g_state->policy());  // owned through smfi_setpriv, freed in on_close
    if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
        delete c;
        throw std::runtime_error("smfi_setpriv failed");
    }
    return *c;
}

std::string macro(SMFICTX* ctx, const char* name) {
    const char* v = smfi_getsymval(ctx, const_cast<char*>(name));
    return v ? std::string(v) : std::string();
}

// Reply text for smfi_setreply: no CR or LF (libmilter refuses them), no
// other control characters.
std::string reply_text(std::string_view s) {
    std::string out(s.substr(0, 400));
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
}

sfsistat answer(SMFICTX* ctx, const Reply& r) {
    if ((r.kind == Reply::Kind::Reject || r.kind == Reply::Kind::Tempfail) && !r.code.empty()) {
        std::string text = reply_text(r.text);
        if (smfi_setreply(ctx, const_cast<char*>(r.code.c_str()), const_cast<char*>(r.xcode.c_str()),
                          text.data()) != MI_SUCCESS)
            logging::warning(logging::Line("milter").kv("setreply", "failed").kv("text", text).str());
    }
    switch (r.kind) {
        case Reply::Kind::Continue: return SMFIS_CONTINUE;
        case Reply::Kind::Reject: return SMFIS_REJECT;
        case Reply::Kind::Tempfail: return SMFIS_TEMPFAIL;
        case Reply::Kind::Accept: return SMFIS_ACCEPT;
    }
    return SMFIS_TEMPFAIL;
}

// The exception barrier of every callback (STYLE.md section 4). fn returns
// the answer; an exception gives milter_error_action. Where the MTA expects
// no reply (no_reply), the error waits for the next stage that has one.
template <class Fn>
sfsistat guard(SMFICTX* ctx, const char* stage, bool no_reply, Fn&& fn) noexcept {
    std::string what;
    try {
        Connection& c = ensure_connection(ctx);
        if (!c.pending_error.empty() && !no_reply) {
            const std::string e = std::exchange(c.pending_error, {});
            return answer(ctx, c.session.error(stage, e, macro(ctx, "i")).reply);
        }
        return fn(c);
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
        what = "unknown exception";
    }
    try {
        Connection* c = connection(ctx);
        if (c && no_reply) {
            c->pending_error = std::string(stage) + ": " + what;
            return SMFIS_NOREPLY;
        }
        if (c) return answer(ctx, c->session.error(stage, what, macro(ctx, "i")).reply);
        logging::warning(logging::Line("milter").kv("stage", stage).kv("error", what).str());
    } catch (...) {
    }
    return no_reply ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long,
                      unsigned long* pf0, unsigned long* pf1, unsigned long* pf2, unsigned long* pf3) {
    return guard(ctx, "negotiate", false, [&](Connection& c) {
        // DKIM signing needs the body and the right to add header fields;
        // without it the MTA need not send the body at all.
        const bool signs = c.session.signs();
        // The policy service's END-OF-MESSAGE size needs the body too.
        const bool body = c.session.wants_body();
        // Its HOLD is smfi_quarantine.
        const bool holds = c.session.policy().policy_service != nullptr;
        // milter_dmarc_action = tag adds X-Sendguard-Preflight.
        const auto* pf = c.session.policy().preflight.get();
        const bool tags = pf && pf->action == DmarcAction::Tag;
        *pf0 = f0 & (SMFIF_CHGFROM | SMFIF_SETSYMLIST | (signs || tags ? SMFIF_ADDHDRS : 0) |
                     (holds ? SMFIF_QUARANTINE : 0));
        const unsigned long want = SMFIP_NOHELO | SMFIP_NODATA | (body ? SMFIP_NR_BODY : SMFIP_NOBODY) |
                                   SMFIP_NOUNKNOWN | SMFIP_NR_CONN | SMFIP_NR_HDR | SMFIP_NR_EOH;
        *pf1 = f1 & want;
        *pf2 = *pf3 = 0;
        c.no_reply_connect = (*pf1 & SMFIP_NR_CONN) != 0;
        c.no_reply_header = (*pf1 & SMFIP_NR_HDR) != 0;
        c.no_reply_eoh = (*pf1 & SMFIP_NR_EOH) != 0;
        c.no_reply_body = (*pf1 & SMFIP_NR_BODY) != 0;
        if (*pf0 & SMFIF_SETSYMLIST) {
            smfi_setsymlist(ctx, SMFIM_CONNECT, const_cast<char*>("{daemon_name}"));
            smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char*>("i {auth_authen}"));
            smfi_setsymlist(ctx, SMFIM_ENVRCPT, const_cast<char*>("{rcpt_mailer}"));
            smfi_setsymlist(ctx, SMFIM_EOH, const_cast<char*>("i"));
            smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char*>("i"));
        }
        if (!(f0 & SMFIF_CHGFROM) && c.session.policy().verp)
            logging::warning(logging::Line("milter")
                                 .kv("negotiate", "no SMFIF_CHGFROM")
                                 .kv("effect", "envelope senders are not rewritten on this connection")
                                 .str());
        if (!(f0 & SMFIF_QUARANTINE) && holds)
            logging::warning(logging::Line("milter")
                                 .kv("negotiate", "no SMFIF_QUARANTINE")
                                 .kv("effect", "a HOLD of the policy service is not applied on this connection")
                                 .str());
        if (!(f0 & SMFIF_ADDHDRS) && signs)
            logging::warning(logging::Line("milter")
                                 .kv("negotiate", "no SMFIF_ADDHDRS")
                                 .kv("effect", "messages are not DKIM-signed on this connection")
                                 .str());
        return SMFIS_CONTINUE;
    });
}

sfsistat on_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* hostaddr) {
    Connection* pre = connection(ctx);
    const bool nr = pre && pre->no_reply_connect;
    return guard(ctx, "connect", nr, [&](Connection& c) {
        ConnectInfo info;
        info.client_name = hostname ? hostname : "";
        info.daemon_name = macro(ctx, "{daemon_name}");
        if (hostaddr && hostaddr->sa_family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(hostaddr);
            char buf[INET_ADDRSTRLEN];
            if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) info.client_addr = buf;
            info.client_port = ntohs(in->sin_port);
        } else if (hostaddr && hostaddr->sa_family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(hostaddr);
            char buf[INET6_ADDRSTRLEN];
            if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf)) info.client_addr = buf;
            info.client_port = ntohs(in6->sin6_port);
        }
        c.session.connect(info);
        logging::debug(logging::Line("milter")
                           .kv("connect", info.client_name)
                           .kv("client_addr", info.client_addr)
                           .kv("client_port", static_cast<long long>(info.client_port))
                           .kv("daemon_name", info.daemon_name)
                           .kv("local", c.session.local() ? "yes" : "no")
                           .str());
        return c.no_reply_connect ? SMFIS_NOREPLY : SMFIS_CONTINUE;
    });
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv) {
    return guard(ctx, "mail", false, [&](Connection& c) {
        c.header_reply.reset();
        std::vector<std::string> args;
        for (char** a = argv + 1; argv[0] && *a; ++a) args.emplace_back(*a);
        return answer(ctx, c.session.mail(argv[0] ? argv[0] : "", args, macro(ctx, "{auth_authen}"),
                                          macro(ctx, "i"))
                               .reply);
    });
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv) {
    return guard(ctx, "rcpt", false, [&](Connection& c) {
        return answer(ctx, c.session.rcpt(argv[0] ? argv[0] : "", macro(ctx, "{rcpt_mailer}")).reply);
    });
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
    Connection* pre = connection(ctx);
    const bool nr = pre && pre->no_reply_header;
    return guard(ctx, "header", nr, [&](Connection& c) {
        c.session.header(name ? name : "", value ? value : "");
        return c.no_reply_header ? SMFIS_NOREPLY : SMFIS_CONTINUE;
    });
}

// With SMFIP_NR_EOH the headers are judged here (and logged, stage=header)
// but answered at EOM: the client sees a header-stage refusal at the end of
// DATA either way, and the MTA saves a round trip per message.
sfsistat on_eoh(SMFICTX* ctx) {
    Connection* pre = connection(ctx);
    const bool nr = pre && pre->no_reply_eoh;
    return guard(ctx, "header", nr, [&](Connection& c) {
        const Reply r = c.session.end_of_headers(macro(ctx, "i")).reply;
        if (!c.no_reply_eoh) return answer(ctx, r);
        if (r.kind != Reply::Kind::Continue) c.header_reply = r;
        return SMFIS_NOREPLY;
    });
}

// Only when signing or asking the policy service (negotiated above): each
// chunk goes to the signers and the message size, and is not kept.
sfsistat on_body(SMFICTX* ctx, unsigned char* chunk, size_t len) {
    Connection* pre = connection(ctx);
    const bool nr = pre && pre->no_reply_body;
    return guard(ctx, "body", nr, [&](Connection& c) {
        if (!c.header_reply) c.session.body(std::string_view(reinterpret_cast<const char*>(chunk), len));
        return c.no_reply_body ? SMFIS_NOREPLY : SMFIS_CONTINUE;
    });
}

sfsistat on_eom(SMFICTX* ctx) {
    return guard(ctx, "eom", false, [&](Connection& c) {
        if (c.header_reply) {
            const Reply r = *std::exchange(c.header_reply, std::nullopt);
            c.session.abort();
            return answer(ctx, r);
        }
        const std::string qid = macro(ctx, "i");
        const Decision d = c.session.end_of_message(qid);
        if (d.change_from) {
            std::string args = d.change_from->esmtp_args;
            // In angle brackets, as MAIL FROM has it (Sendmail parses it
            // like one; Postfix takes either).
            const std::string path = "<" + d.change_from->address + ">";
            if (smfi_chgfrom(ctx, const_cast<char*>(path.c_str()),
                             args.empty() ? nullptr : args.data()) != MI_SUCCESS)
                throw std::runtime_error("smfi_chgfrom <" + d.change_from->address + "> failed");
        }
        for (const auto& [name, value] : d.add_headers)
            if (smfi_addheader(ctx, const_cast<char*>(name.c_str()), const_cast<char*>(value.c_str())) != MI_SUCCESS)
                throw std::runtime_error("smfi_addheader " + name + " failed");
        // Each at the top, above the trace fields (RFC 6376 5.6). An MTA
        // that refuses (no SMFIF_ADDHDRS) gets the message unsigned.
        for (const std::string& sig : d.insert_headers)
            if (smfi_insheader(ctx, 0, const_cast<char*>("DKIM-Signature"), const_cast<char*>(sig.c_str())) !=
                MI_SUCCESS)
                logging::warning(logging::QueueId(qid), logging::Line("milter")
                                                            .kv("action", "unsigned")
                                                            .kv("why", "insheader_failed")
                                                            .kv("detail", "the MTA refused smfi_insheader")
                                                            .str());
        if (!d.quarantine.empty()) {
            std::string reason = reply_text(d.quarantine);
            if (smfi_quarantine(ctx, reason.data()) != MI_SUCCESS)
                logging::warning(logging::QueueId(qid), logging::Line("milter")
                                                            .kv("action", "not_held")
                                                            .kv("why", "quarantine_failed")
                                                            .kv("detail", "the MTA refused smfi_quarantine")
                                                            .str());
        }
        c.session.abort();
        return answer(ctx, d.reply);
    });
}

sfsistat on_abort(SMFICTX* ctx) {
    return guard(ctx, "abort", false, [&](Connection& c) {
        c.header_reply.reset();
        c.session.abort();
        return SMFIS_CONTINUE;
    });
}

sfsistat on_close(SMFICTX* ctx) {
    delete connection(ctx);  // null when the connection ended before negotiate
    smfi_setpriv(ctx, nullptr);
    return SMFIS_CONTINUE;
}

}  // namespace

void register_callbacks(State& state) {
    g_state = &state;
    static smfiDesc desc = {};
    desc.xxfi_name = const_cast<char*>("sendguard-milter");
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_CHGFROM | SMFIF_SETSYMLIST | SMFIF_ADDHDRS | SMFIF_QUARANTINE;
    desc.xxfi_connect = on_connect;
    desc.xxfi_envfrom = on_envfrom;
    desc.xxfi_envrcpt = on_envrcpt;
    desc.xxfi_header = on_header;
    desc.xxfi_eoh = on_eoh;
    desc.xxfi_body = on_body;
    desc.xxfi_eom = on_eom;
    desc.xxfi_abort = on_abort;
    desc.xxfi_close = on_close;
    desc.xxfi_negotiate = on_negotiate;
    if (smfi_register(desc) != MI_SUCCESS) throw std::runtime_error("smfi_register failed");
}

}  // namespace milter
