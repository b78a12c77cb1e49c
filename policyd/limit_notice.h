// limit_notice.h - the notice mail for a first refusal (policyd_limit_notify)
//
// The first time a key reaches a limit in a window the policy service warns
// once (policy_service.h) and, when policyd_limit_notify names an address,
// mails it a notice: a compromised login should be noticed, not only slowed.
//
//   notice_message(notice, to) -> the message text (header and body, LF line
//       ends), Auto-Submitted: auto-generated. Values that came from the SMTP
//       client (sender, recipient, login, key) appear in the body only, each
//       cut to kMaxNoticeValue bytes with control characters as '?'; the
//       Subject names the rule (a file's token) and the key, cleaned the same
//       way, so nothing a client sends can add a header line.
//   NoticeSender(command).send(to, text) runs `command -i -f "" -- to`
//       (sendmail(1); the null sender: a notice never bounces back into
//       the queue) with the text on its standard input, and returns at once;
//       reap() collects finished children (called from the flush timer). At
//       most kMaxNoticeChildren run at once; more are dropped with a warning.
//
// Errors: send() logs a warning (command missing, too many running) and
// returns false; it never throws. Thread safety: one thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "policyd/policy_service.h"

namespace policyd {

inline constexpr size_t kMaxNoticeValue = 256;
inline constexpr size_t kMaxNoticeChildren = 8;

std::string notice_message(const LimitNotice& n, std::string_view to);

class NoticeSender {
public:
    explicit NoticeSender(std::string command) : command_(std::move(command)) {}
    ~NoticeSender();
    NoticeSender(const NoticeSender&) = delete;
    NoticeSender& operator=(const NoticeSender&) = delete;

    void set_command(std::string command) { command_ = std::move(command); }
    bool send(const std::string& to, const std::string& text);
    void reap() noexcept;
    size_t running() const noexcept { return children_.size(); }

private:
    std::string command_;
    std::vector<pid_t> children_;
};

}  // namespace policyd
