// evidence.h - what names one delivered report: its queue id or evidence id
//
//   clean_queue_id(raw)        the -q argument made safe for log lines, file
//                              names, JSON and the store: Postfix and
//                              Sendmail queue ids are [0-9A-Za-z]; any other
//                              byte becomes '_' and the id is capped at
//                              kMaxQueueId bytes. "" stays "".
//   evidence_id(qid, message)  the id a store record keeps as its evidence,
//                              by which a retried delivery of the same report
//                              counts once (store::SuppressionList::record):
//                              the cleaned queue id when given; else the
//                              report's own Message-ID (top-level header,
//                              never one of a returned message); else
//                              "sha256:" and 32 hex digits of the message.
//                              All three are the same on every retry of one
//                              queued report, and differ between reports.
//   first_header(message, name) the unfolded, trimmed value of the first
//                              top-level header field called name (case
//                              does not matter), searched in the first
//                              64 KiB only; "" when there is none.
//
// Errors: none; pure functions. Thread safety: any.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bounce {

inline constexpr size_t kMaxQueueId = 64;
inline constexpr size_t kMaxMessageIdEvidence = 200;  // below store::kMaxEvidence

std::string clean_queue_id(std::string_view raw);
std::string evidence_id(std::string_view clean_qid, std::string_view message);
std::string first_header(std::string_view message, std::string_view name);

}  // namespace bounce
