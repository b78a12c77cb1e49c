// milter_client.h - the MTA side of the Sendmail milter protocol, for tests
//
// Tests drive a milter (sendguard-milter, or the libmilter test milter in
// test_milter.h) over its UNIX or TCP socket the way Postfix's milter8 client
// does, and assert on each reply and on the modifications requested at end
// of message.  Protocol version 6, as in libmilter's mfdef.h:
//
//   packet   = 4-byte big-endian length (command byte + payload), command, payload
//   OPTNEG   'O' version, actions, protocol (3 x 32 bits); the milter answers
//            with the subset it wants, optionally followed by macro lists
//            (32-bit stage, NUL-terminated space-separated names) per stage
//   MACRO    'D' the command the macros belong to, then name NUL value NUL ...
//   CONNECT  'C' hostname NUL, family ('U' unknown, 'L' unix, '4', '6'),
//            then (not for 'U') 16-bit port, address NUL
//   HELO 'H' name NUL;  MAIL 'M' / RCPT 'R': "<addr>" NUL, ESMTP args NUL each
//   DATA 'T', HEADER 'L' name NUL value NUL, EOH 'N', BODY 'B' (chunks of at
//   most 65535 bytes), BODYEOB 'E', UNKNOWN 'U' command NUL,
//   ABORT 'A', QUIT 'Q', QUIT_NC 'K' (no reply to these three)
//   replies  'c' continue, 'a' accept, 'r' reject, 't' tempfail, 'd' discard,
//            'y' "NNN x.y.z text" NUL, 's' skip, 'f' connection failure,
//            '4' shutdown; at end of message first any number of
//            modifications: 'e' change sender (sender NUL [args NUL]),
//            'h' add header, 'i' insert header / 'm' change header (32-bit
//            index first), '+' / '2' / '-' add / add with args / delete
//            recipient, 'b' replace body, 'q' quarantine, 'p' progress.
//
// The client honours what the milter negotiated: a step the milter turned
// off (SMFIP_NOCONNECT ... SMFIP_NOEOH, NODATA, NOUNKNOWN) is not sent and
// answers MilterStatus::NotSent; a step with a no-reply flag (SMFIP_NR_*) is
// sent without waiting, MilterStatus::NoReply; macro lists the milter asked
// for (smfi_setsymlist) limit the macros sent for that stage; without
// SMFIP_HDR_LEADSPC the blanks after a header's colon are not sent.
//
//   MilterClient c = MilterClient::open("unix:/tmp/x/milter.sock");
//   MilterTranscript t = c.transaction({.macros = {.mail = {{"{auth_authen}", "alice"}}},
//                                      .mail_from = "a@example.com",
//                                      .esmtp_args = {"RET=HDRS"},
//                                      .rcpts = {"b@example.net"},
//                                      .headers = {{"From", "a@example.com"}},
//                                      .body = "hi\n"});
//   BOOST_TEST(t.eom.status == MilterStatus::Continue, t.str());
//   t.change_from()->sender   t.change_from()->args
//
// or one step at a time (negotiate, connect, helo, mail, rcpt, data, header,
// eoh, body, eom, abort, quit, quit_nc), or raw: send_packet() and
// send_raw() put arbitrary bytes on the wire, read_packet() and
// read_response() read what comes back, for malformed and hostile sequences.
//
// Errors: replies are values (MilterResponse).  A broken conversation throws
// MilterError, whose kind() says which: Timeout (no byte within the
// time-out, default 10s, on every read and write: a hung milter fails the
// test instead of hanging it), Closed (the milter closed the connection),
// Protocol (a malformed or oversized packet, a reply that does not fit the
// step, a negotiation outside the offer), Io (connect or socket errors).
// Thread safety: one MilterClient per thread.
#pragma once

#include "common/sys/fd.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace harness {

// Commands the MTA sends (SMFIC_*).
enum class MilterCmd : char {
    Abort = 'A', Body = 'B', Connect = 'C', Macro = 'D', BodyEob = 'E', Helo = 'H',
    QuitNc = 'K', Header = 'L', Mail = 'M', Eoh = 'N', OptNeg = 'O', Quit = 'Q',
    Rcpt = 'R', Data = 'T', Unknown = 'U',
};

// What the milter sends back (SMFIR_*): final replies and modifications.
enum class MilterAct : char {
    AddRcpt = '+', DelRcpt = '-', AddRcptPar = '2', Shutdown = '4', Accept = 'a',
    ReplBody = 'b', Continue = 'c', Discard = 'd', ChgFrom = 'e', ConnFail = 'f',
    AddHeader = 'h', InsHeader = 'i', SetSymList = 'l', ChgHeader = 'm', Progress = 'p',
    Quarantine = 'q', Reject = 'r', Skip = 's', Tempfail = 't', ReplyCode = 'y',
};

// Protocol (SMFIP_*) and action (SMFIF_*) bits, as in mfdef.h / mfapi.h.
namespace milter_bits {
constexpr uint32_t kNoConnect = 0x1, kNoHelo = 0x2, kNoMail = 0x4, kNoRcpt = 0x8,
                   kNoBody = 0x10, kNoHdrs = 0x20, kNoEoh = 0x40, kNrHdr = 0x80,
                   kNoUnknown = 0x100, kNoData = 0x200, kSkip = 0x400, kRcptRej = 0x800,
                   kNrConn = 0x1000, kNrHelo = 0x2000, kNrMail = 0x4000, kNrRcpt = 0x8000,
                   kNrData = 0x10000, kNrUnkn = 0x20000, kNrEoh = 0x40000,
                   kNrBody = 0x80000, kHdrLeadSpc = 0x100000;
constexpr uint32_t kAllProtocol = 0x1FFFFF;  // SMFI_CURR_PROT
constexpr uint32_t kAddHdrs = 0x1, kChgBody = 0x2, kAddRcpt = 0x4, kDelRcpt = 0x8,
                   kChgHdrs = 0x10, kQuarantine = 0x20, kChgFrom = 0x40,
                   kAddRcptPar = 0x80, kSetSymList = 0x100;
constexpr uint32_t kAllActions = 0x1FF;  // SMFI_CURR_ACTS
}  // namespace milter_bits

// Macro stages (SMFIM_*), the index of smfi_setsymlist's lists.
enum class MilterStage : uint32_t { Connect = 0, Helo = 1, Mail = 2, Rcpt = 3, Data = 4,
                                    Eom = 5, Eoh = 6 };
constexpr size_t kMilterStages = 7;

enum class MilterFamily : char { Unknown = 'U', Unix = 'L', Inet = '4', Inet6 = '6' };

struct MilterError : std::runtime_error {
    enum class Kind { Timeout, Closed, Protocol, Io };
    MilterError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    Kind kind() const noexcept { return kind_; }

private:
    Kind kind_;
};

using MilterMacros = std::vector<std::pair<std::string, std::string>>;  // name ("i", "{auth_type}"), value

struct MilterMacroSet {
    MilterMacros connect{}, helo{}, mail{}, rcpt{}, data{}, eoh{}, eom{};
};

struct MilterPacket {
    char cmd = 0;
    std::string data{};
};

struct MilterOffer {
    uint32_t version = 6;
    uint32_t actions = milter_bits::kAllActions;
    uint32_t protocol = milter_bits::kAllProtocol;
};

struct MilterNegotiated {
    uint32_t version = 0;  // 0: no negotiation yet (every step is sent and answered)
    uint32_t actions = 0, protocol = 0;
    // Names the milter asked for per stage (smfi_setsymlist); nullopt: no list.
    std::array<std::optional<std::vector<std::string>>, kMilterStages> macros{};
    bool has(uint32_t protocol_bit) const noexcept { return (protocol & protocol_bit) != 0; }
};

enum class MilterStatus {
    NotSent,  // the milter turned this step off, or it did not happen
    NoReply,  // sent; the milter negotiated no reply for it
    Continue, Accept, Reject, Tempfail, Discard, ReplyCode, Skip, ConnFail, Shutdown,
};
const char* to_string(MilterStatus s) noexcept;
std::ostream& operator<<(std::ostream& os, MilterStatus s);  // for test messages

struct MilterModification {
    MilterAct act = MilterAct::Continue;
    uint32_t index = 0;              // InsHeader, ChgHeader
    std::vector<std::string> args{};  // the NUL-terminated strings, in order
    std::string data{};              // ReplBody: the chunk
    std::string str() const;         // "e <new@x> RET=HDRS", for messages
};

struct MilterChangeFrom {
    std::string sender{};  // as sent: "<new@example.com>"
    std::optional<std::string> args{};  // ESMTP args, when the milter gave some
};

struct MilterResponse {
    MilterStatus status = MilterStatus::NotSent;
    std::string text{};                     // ReplyCode: "550 5.7.1 text" (no NUL)
    std::vector<MilterModification> mods{};  // end of message only, in order
    unsigned progress = 0;                  // 'p' packets before the reply
    // 550 for ReplyCode "550 ...", else 0.
    int code() const noexcept;
    // Reject, Tempfail, Discard, Accept, ConnFail, Shutdown, or a 4xx/5xx
    // ReplyCode: no further steps for this message (the MTA stops here).
    bool ends_message() const noexcept;
    // Refuses only the current recipient when at RCPT (Reject, Tempfail, 4xx/5xx).
    bool refuses() const noexcept;
    std::string str() const;  // "reject", "replycode 550 5.7.1 no", "continue +2 mods"
};

struct MilterConnect {
    std::string hostname = "client.sendguard.test";
    MilterFamily family = MilterFamily::Inet;
    uint16_t port = 54321;
    std::string address = "192.0.2.10";  // "/path" for Unix
};

struct MilterHeader {
    std::string name{}, value{};  // value: what follows the colon, e.g. " hello"
};

enum class MilterEnd {
    Quit,    // QUIT: the connection is over
    QuitNc,  // QUIT_NC: the next transaction() starts a new SMTP connection
    Keep,    // nothing: the next transaction() is another message, same SMTP connection
};

// One SMTP connection's worth (or, after Keep, one more message).  Body text
// uses "\n" or "\r\n"; it is sent with CRLF line ends, as an MTA does.
struct MilterTransaction {
    MilterConnect connect{};
    MilterMacroSet macros{};
    std::string helo = "client.sendguard.test";  // "" : no HELO
    std::string mail_from{};                    // without <>; "" is the null sender
    std::vector<std::string> esmtp_args{};      // "RET=HDRS", "ENVID=x"
    std::vector<std::string> rcpts{};           // without <>
    std::vector<MilterMacros> rcpt_macros{};    // per recipient, after macros.rcpt
    std::vector<MilterHeader> headers{};
    std::string body{};
    MilterEnd end = MilterEnd::Quit;
};

struct MilterTranscript {
    MilterNegotiated negotiated{};
    MilterResponse connect{}, helo{}, mail{};
    std::vector<MilterResponse> rcpt{};     // one per recipient sent
    MilterResponse data{};
    std::vector<MilterResponse> headers{};  // one per header sent
    MilterResponse eoh{};
    std::vector<MilterResponse> body{};     // one per chunk sent
    MilterResponse eom{};
    bool aborted = false;                   // ABORT sent: the message ended early

    // The last 'e' at end of message.
    std::optional<MilterChangeFrom> change_from() const;
    std::vector<MilterModification> mods(MilterAct act) const;
    std::string str() const;  // every step, one per line, for messages
};

struct MilterClientOptions {
    std::chrono::milliseconds timeout = std::chrono::seconds(10);  // each read and write
    size_t max_packet = 4u << 20;  // larger replies are a protocol error
    bool filter_macros = true;     // honour the milter's macro lists
};

class MilterClient {
public:
    // "unix:/path", "local:/path", "/path" or "inet:PORT@HOST" (libmilter's
    // smfi_setconn form; HOST an IPv4 address).
    static MilterClient open(const std::string& spec, MilterClientOptions opts = {});
    static MilterClient open_unix(const std::string& path, MilterClientOptions opts = {});
    static MilterClient open_tcp(const std::string& ip, uint16_t port,
                                 MilterClientOptions opts = {});
    MilterClient(sys::Fd fd, MilterClientOptions opts);

    // OPTNEG; throws Protocol when the milter wants what was not offered.
    const MilterNegotiated& negotiate(const MilterOffer& offer = {});
    const MilterNegotiated& negotiated() const noexcept { return neg_; }

    MilterResponse connect(const MilterConnect& info, const MilterMacros& macros = {});
    MilterResponse helo(std::string_view name, const MilterMacros& macros = {});
    // sender / recipient without <> (added here); args are ESMTP parameters.
    MilterResponse mail(std::string_view sender, const std::vector<std::string>& args = {},
                        const MilterMacros& macros = {});
    MilterResponse rcpt(std::string_view recipient, const std::vector<std::string>& args = {},
                        const MilterMacros& macros = {});
    MilterResponse data(const MilterMacros& macros = {});
    MilterResponse header(std::string_view name, std::string_view value);
    MilterResponse eoh(const MilterMacros& macros = {});
    // One BODY packet, bytes as given (callers keep it <= 65535 bytes).
    MilterResponse body(std::string_view chunk);
    // The body in 65535-byte chunks; stops after Skip or a reply ending the message.
    std::vector<MilterResponse> body_chunks(std::string_view body);
    // BODYEOB, then modifications until the final reply.
    MilterResponse eom(const MilterMacros& macros = {});
    MilterResponse unknown(std::string_view command);
    void abort();
    void quit();     // QUIT; the socket stays open until the client is destroyed
    void quit_nc();  // QUIT_NC; a new connect() may follow

    // Negotiates (default offer) unless done, sends CONNECT and HELO unless
    // this connection has had them (see MilterEnd), then the message; a reply
    // that ends the message or the connection stops it there (ABORT after a
    // message-level end).  A recipient refused alone does not end it.
    MilterTranscript transaction(const MilterTransaction& t);

    // Raw access, for hostile sequences.
    void send_packet(char cmd, std::string_view data);
    void send_raw(std::string_view bytes);
    MilterPacket read_packet();
    // Packets until a final reply; modifications are allowed when at_eom.
    MilterResponse read_response(bool at_eom = false);
    // True when the milter closes the connection within timeout (bytes it
    // sends meanwhile are discarded); false when it is still open.
    bool wait_closed(std::chrono::milliseconds timeout);

    int fd() const noexcept { return fd_.get(); }
    void set_timeout(std::chrono::milliseconds t) noexcept { opts_.timeout = t; }

private:
    enum class Step { Fresh, Negotiated, Connected, Closed };
    MilterResponse step(MilterCmd cmd, std::string_view payload, uint32_t off_bit,
                        uint32_t noreply_bit, MilterStage stage, MilterCmd macro_cmd,
                        const MilterMacros* macros);
    void append_macros(std::string& out, MilterStage stage, MilterCmd cmd,
                       const MilterMacros& macros) const;
    void run_message(const MilterTransaction& t, MilterTranscript& out);
    void write_all(std::string_view bytes);
    void fill(size_t need);

    sys::Fd fd_;
    MilterClientOptions opts_;
    MilterNegotiated neg_;
    Step step_ = Step::Fresh;
    std::string in_;  // bytes read, not yet consumed
};

// One packet on the wire: length, command, payload.
std::string milter_packet(char cmd, std::string_view data);

}  // namespace harness
