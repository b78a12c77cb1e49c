// smtp_client.h - a minimal SMTP client that reports every reply
//
// Tests talk to Postfix's smtpd (and anything else speaking RFC 5321) with
// this client to assert exactly what the server said: a RCPT refused by a
// policy service, a 535 for a wrong password, the queue id of an accepted
// message.  It is deliberately literal: no pipelining, no TLS, no retries,
// one command and one (possibly multi-line) reply at a time.
//
// Two levels:
//   SmtpClient c = SmtpClient::connect("127.0.0.1", port);    // reads greeting
//   c.ehlo("client.test"); c.auth_plain("alice", "pw"); c.mail_from("a@x");
//   c.rcpt_to("b@y"); Reply r = c.data(text); c.quit();
// or the whole transaction, stopping at the first refusal that ends it:
//   SmtpTranscript t = send_mail("127.0.0.1", port, {.mail_from = ...,
//                                .rcpt_to = {...}, .data = "Subject: x\n\nhi\n"});
//   BOOST_TEST(t.accepted(), t.str());   t.queue_id()
//
// Message text uses "\n" or "\r\n" line ends; data() converts to CRLF,
// dot-stuffs (RFC 5321 §4.5.2) and appends the terminating ".".
// auth_plain() sends the RFC 4616 PLAIN response as an initial response.
//
// Errors: replies are values (Reply::code, also 4xx/5xx).  Broken
// conversations throw SmtpError: connect failures, time-outs (default 30s
// per read), a closed connection, a malformed reply line, or a reply longer
// than 100 lines / 4096 bytes per line.
// Thread safety: one SmtpClient per thread.
#pragma once

#include "common/sys/fd.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

class NetNs;

struct SmtpError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Reply {
    int code = 0;                    // 0: no reply (command not sent)
    std::vector<std::string> lines{};  // text after "NNN-" / "NNN ", one per line
    std::string text() const;        // lines joined with "\n"
    std::string str() const;         // "250 2.0.0 Ok: queued as X" (first line)
    bool positive() const noexcept { return code >= 200 && code < 400; }
    int klass() const noexcept { return code / 100; }
};

struct SmtpEnvelope {
    std::string helo = "client.sendguard.test";
    std::optional<std::pair<std::string, std::string>> auth_plain{};  // user, password
    std::string mail_from{};          // without <>; "" is the null sender
    std::string mail_params{};        // e.g. "RET=HDRS ENVID=x"
    std::vector<std::string> rcpt_to{};
    std::string data{};               // header + body
};

struct SmtpTranscript {
    Reply greeting{}, ehlo{};
    std::optional<Reply> auth{};
    Reply mail{};
    std::vector<Reply> rcpt{};  // one per recipient tried
    std::optional<Reply> data_start{}, data_end{};
    // True when the message was accepted (250 after ".").
    bool accepted() const noexcept { return data_end && data_end->code == 250; }
    // "ABC123" from "250 2.0.0 Ok: queued as ABC123", else "".
    std::string queue_id() const;
    std::string str() const;  // every reply, one per line, for messages
};

class SmtpClient {
public:
    static SmtpClient connect(const std::string& ip, uint16_t port, const NetNs* ns = nullptr,
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));
    explicit SmtpClient(sys::Fd fd, std::chrono::milliseconds timeout);

    const Reply& greeting() const noexcept { return greeting_; }
    Reply command(std::string_view line);  // sends line + CRLF, reads the reply
    Reply ehlo(std::string_view name);
    Reply auth_plain(std::string_view user, std::string_view password);
    Reply mail_from(std::string_view addr, std::string_view params = {});
    Reply rcpt_to(std::string_view addr);
    // DATA; when 354, the message and "."; returns the final reply (or the
    // refusal of DATA itself).  *start gets the reply to DATA.
    Reply data(std::string_view message, Reply* start = nullptr);
    Reply quit();  // tolerates the server closing first

    // Extension keywords of the last EHLO reply, upper-cased ("AUTH PLAIN LOGIN").
    bool has_extension(std::string_view keyword) const;

    Reply read_reply();
    void send_raw(std::string_view bytes);

private:
    sys::Fd fd_;
    std::string buf_;
    Reply greeting_;
    std::vector<std::string> extensions_;
};

SmtpTranscript send_mail(const std::string& ip, uint16_t port, const SmtpEnvelope& env,
                         const NetNs* ns = nullptr);

// RFC 4648 base64, for AUTH.
std::string base64(std::string_view in);
// "\n" -> "\r\n", leading "." doubled, terminating "\r\n.\r\n" appended.
std::string smtp_data_block(std::string_view message);

}  // namespace harness
