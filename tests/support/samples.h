// samples.h - hand-made bounce messages for tests
//
// make_dsn() writes an RFC 3464 multipart/report the way Postfix's bounce(8)
// does: a human-readable part, a message/delivery-status part with one
// per-recipient block, and the returned headers. make_arf() writes an RFC
// 5965 feedback report; make_autoreply() an RFC 3834 vacation notice.
// Pure functions.
#pragma once

#include <string>

namespace testing_support {

struct DsnSpec {
    std::string to = "bounce@bounces.example.org";  // who the DSN is sent to
    std::string recipient = "bob@example.net";      // Final-Recipient
    std::string action = "failed";
    std::string status = "5.1.1";
    std::string diagnostic = "smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown";
    std::string remote_mta = "mx.example.net";
};

std::string make_dsn(const DsnSpec& spec);
std::string make_arf(const std::string& to, const std::string& complainer);
std::string make_autoreply(const std::string& to, const std::string& subject);

}  // namespace testing_support
