// callbacks.h - the libmilter side of sendguard-milter
//
//   register_callbacks(state)  smfi_register() with our smfiDesc; state (the
//                       current Policy and the send log) is what every
//                       callback reads; it must outlive smfi_main()
//   State::publish(p)   the Policy new connections take (a reload)
//
// Each xxfi_* callback turns libmilter's arguments into one Session call
// (session.h) and the Decision into its answer (smfi_setreply,
// smfi_chgfrom). Every callback runs inside guard(): an exception becomes
// milter_error_action for the message, logged with the queue id, so no
// libmilter thread dies of one. A Session lives from the first callback of
// a connection (negotiate, else connect) to xxfi_close, owned through
// smfi_setpriv.
//
// Negotiation (xxfi_negotiate): actions SMFIF_CHGFROM (and
// SMFIF_SETSYMLIST to name our macros; SMFIF_ADDHDRS when signing or
// tagging; SMFIF_QUARANTINE with milter_policy_service, for its HOLD);
// steps skipped: HELO, DATA, body (unless signing or milter_policy_service
// needs it: then no reply to it), unknown commands; no reply expected to CONNECT and to each header (those
// never refuse) nor to EOH: the headers are judged there, and a refusal is
// the answer to EOM (the MTA gives a header-stage refusal at the end of
// DATA anyway), one round trip less per message. Macros asked for, per
// stage:
//   CONNECT  {daemon_name}
//   MAIL     i {auth_authen}
//   RCPT     {rcpt_mailer}
//   EOH, EOM i
//
// Errors: register_callbacks throws std::runtime_error when smfi_register
// fails. Thread safety: State::publish and the callbacks may run on any
// threads at once (the policy pointer is atomic; the send log is an LMDB
// env, one transaction per thread; its writes go through SendLogBatch).
#pragma once

#include <atomic>
#include <memory>

#include "common/store/sendlog.h"
#include "milter/policy.h"
#include "milter/sendlog_batch.h"

namespace milter {

class State {
public:
    State(std::shared_ptr<const Policy> policy, std::shared_ptr<store::SendLog> send_log)
        : policy_(std::move(policy)), send_log_(std::move(send_log)) {
        if (store::SendLog* log = send_log_.get())
            batch_ = std::make_unique<SendLogBatch>([log](const SendLogBatch::Entries& e) { log->put_all(e); });
    }
    void publish(std::shared_ptr<const Policy> p) noexcept { policy_.store(std::move(p)); }
    std::shared_ptr<const Policy> policy() const noexcept { return policy_.load(); }
    store::SendLog* send_log() const noexcept { return send_log_.get(); }
    // The messages' send-log writes, sharing commits (sendlog_batch.h).
    SendLogBatch* send_log_batch() const noexcept { return batch_.get(); }

private:
    std::atomic<std::shared_ptr<const Policy>> policy_;
    std::shared_ptr<store::SendLog> send_log_;
    std::unique_ptr<SendLogBatch> batch_;
};

void register_callbacks(State& state);

}  // namespace milter
