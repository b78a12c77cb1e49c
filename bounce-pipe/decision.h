// decision.h - the one log line and the event-log fields of a decision
//
// Every decision sendguard-bounce takes is logged as exactly one line with
// the same keys in the same order (sendguard-bounce(8) DIAGNOSTICS):
//
//   QUEUEID: bounce: action=ACTION, rcpt=<FAILED>, verp=<RETURN>, signed=yes|no,
//       status=S, class=C, reason=R[, count=N, threshold=T][, domain=D]
//       [, repeat=yes][, why=WHY][, file=PATH, size=BYTES][, detail=TEXT]
//
// action is one of suppress, count, block, ignore, quarantine, defer (the
// event log's "action" has the same values). rcpt is the failed recipient
// ("<>" when none is known), verp the address the report was delivered to,
// signed whether that address carried a valid, unexpired tag of ours
// ("-" when the transport deferred before it could tell). A value that is
// not known at that point is "-". count and threshold come with count,
// domain with block and with a suppression that also suppressed the
// domain, repeat with a suppress, count or block of a report recorded
// before (a retried delivery: nothing was counted again), why with ignore,
// quarantine and defer, file and size (bytes of the message) with quarantine,
// detail with a defer or a quarantine caused by an error.
//
// decision_json() is the same decision as one element of the event log's
// "decisions" array (sendguard-bounce(8) EVENT LOG).
// Pure functions; no exceptions but std::bad_alloc.
#pragma once

#include <string>
#include <string_view>

#include "common/log/json.h"
#include "common/log/log.h"

namespace bounce {

struct Decision {
    std::string action;
    std::string rcpt;           // "" logs as <>
    std::string status = "-";
    std::string klass = "-";
    std::string reason = "-";
    long long count = -1;       // count: records counted so far
    long long threshold = -1;   // count: bounce_soft_threshold
    std::string domain;         // block; suppress of a whole domain
    std::string why;            // ignore, quarantine, defer
    std::string file;           // quarantine
    long long size = -1;        // quarantine: bytes of the message kept
    bool repeat = false;        // suppress, count, block: recorded before
    std::string detail;         // error text of a defer or a store quarantine
};

// verp: the envelope recipient; signed_ok: "yes", "no" or "-".
logging::Line decision_line(const Decision& d, std::string_view verp, std::string_view signed_ok);

// The decision as a JSON object for the event log's "decisions" array:
// address, action, status, class, reason and the optional keys above.
std::string decision_json(const Decision& d);

// Which action of several a message as a whole is called by in the event
// log: suppress, then count, block, ignore.
int action_rank(std::string_view action) noexcept;

}  // namespace bounce
