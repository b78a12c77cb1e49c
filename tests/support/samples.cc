// samples.cc - see samples.h
#include "tests/support/samples.h"

namespace testing_support {

std::string make_dsn(const DsnSpec& s) {
    std::string b = "sg-boundary-42";
    return "Return-Path: <>\n"
           "From: MAILER-DAEMON@relay.example.org (Mail Delivery System)\n"
           "To: " + s.to + "\n"
           "Subject: Undelivered Mail Returned to Sender\n"
           "Auto-Submitted: auto-replied\n"
           "MIME-Version: 1.0\n"
           "Content-Type: multipart/report; report-type=delivery-status;\n"
           "\tboundary=\"" + b + "\"\n\n"
           "--" + b + "\n"
           "Content-Description: Notification\n"
           "Content-Type: text/plain; charset=us-ascii\n\n"
           "I'm sorry to have to inform you that your message could not\n"
           "be delivered to one or more recipients.\n\n"
           "<" + s.recipient + ">: host " + s.remote_mta + " said: " + s.diagnostic + "\n\n"
           "--" + b + "\n"
           "Content-Description: Delivery report\n"
           "Content-Type: message/delivery-status\n\n"
           "Reporting-MTA: dns; relay.example.org\n"
           "Arrival-Date: Mon, 23 Nov 2026 10:00:00 +0000\n\n"
           "Final-Recipient: rfc822; " + s.recipient + "\n"
           "Original-Recipient: rfc822;" + s.recipient + "\n"
           "Action: " + s.action + "\n"
           "Status: " + s.status + "\n"
           "Remote-MTA: dns; " + s.remote_mta + "\n"
           "Diagnostic-Code: " + s.diagnostic + "\n\n"
           "--" + b + "\n"
           "Content-Description: Undelivered Message Headers\n"
           "Content-Type: text/rfc822-headers\n\n"
           "From: news@example.org\n"
           "To: " + s.recipient + "\n"
           "Subject: Newsletter\n"
           "Message-ID: <n1@example.org>\n\n"
           "--" + b + "--\n";
}

std::string make_arf(const std::string& to, const std::string& complainer) {
    std::string b = "sg-arf-7";
    return "From: feedback@isp.example\n"
           "To: " + to + "\n"
           "Subject: FW: Newsletter\n"
           "MIME-Version: 1.0\n"
           "Content-Type: multipart/report; report-type=feedback-report;\n"
           "\tboundary=\"" + b + "\"\n\n"
           "--" + b + "\n"
           "Content-Type: text/plain; charset=us-ascii\n\n"
           "This is an email abuse report for an email message received from IP\n"
           "192.0.2.1 on Mon, 23 Nov 2026 10:00:00 +0000.\n\n"
           "--" + b + "\n"
           "Content-Type: message/feedback-report\n\n"
           "Feedback-Type: abuse\n"
           "User-Agent: SomeGenerator/1.0\n"
           "Version: 1\n"
           "Original-Mail-From: <" + to + ">\n"
           "Original-Rcpt-To: <" + complainer + ">\n"
           "Source-IP: 192.0.2.1\n\n"
           "--" + b + "\n"
           "Content-Type: message/rfc822\n\n"
           "From: news@example.org\n"
           "To: " + complainer + "\n"
           "Subject: Newsletter\n\n"
           "Buy now.\n\n"
           "--" + b + "--\n";
}

std::string make_autoreply(const std::string& to, const std::string& subject) {
    return "From: bob@example.net\n"
           "To: " + to + "\n"
           "Subject: " + subject + "\n"
           "Auto-Submitted: auto-replied\n"
           "Content-Type: text/plain; charset=utf-8\n\n"
           "I am out of the office until Monday.\n";
}

}  // namespace testing_support
