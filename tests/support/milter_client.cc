// milter_client.cc - see milter_client.h
#include "tests/support/milter_client.h"

#include "tests/support/net_wait.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

namespace harness {
namespace {

using Kind = MilterError::Kind;
using namespace milter_bits;

constexpr size_t kChunk = 65535;  // MILTER_CHUNK_SIZE

void put32(std::string& out, uint32_t v) {
    out += static_cast<char>((v >> 24) & 0xff);
    out += static_cast<char>((v >> 16) & 0xff);
    out += static_cast<char>((v >> 8) & 0xff);
    out += static_cast<char>(v & 0xff);
}

uint32_t get32(std::string_view s, size_t at) {
    auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])); };
    return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

void put_string(std::string& out, std::string_view s) {
    out += s;
    out += '\0';
}

std::string hex(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", v);
    return buf;
}

// The NUL-terminated strings of a payload; a missing last NUL is a protocol error.
std::vector<std::string> nul_strings(std::string_view data, char cmd) {
    std::vector<std::string> out;
    while (!data.empty()) {
        size_t nul = data.find('\0');
        if (nul == std::string_view::npos)
            throw MilterError(Kind::Protocol,
                              std::string("milter reply '") + cmd + "': string without NUL");
        out.emplace_back(data.substr(0, nul));
        data.remove_prefix(nul + 1);
    }
    return out;
}

// "{auth_type}" and "auth_type" name the same macro (libmilter accepts both).
std::string_view bare(std::string_view name) {
    if (name.size() >= 2 && name.front() == '{' && name.back() == '}')
        return name.substr(1, name.size() - 2);
    return name;
}

std::vector<std::string> split_names(std::string_view s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        size_t j = s.find(' ', i);
        if (j == std::string_view::npos) j = s.size();
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

// An MTA sends the body with CRLF line ends.
std::string crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
        out += text[i];
    }
    return out;
}

MilterModification parse_modification(const MilterPacket& p) {
    MilterModification m;
    m.act = static_cast<MilterAct>(p.cmd);
    std::string_view d = p.data;
    switch (m.act) {
    case MilterAct::ReplBody:
        m.data = p.data;
        return m;
    case MilterAct::InsHeader:
    case MilterAct::ChgHeader:
        if (d.size() < 4)
            throw MilterError(Kind::Protocol, std::string("milter reply '") + p.cmd +
                                                  "': no header index");
        m.index = get32(d, 0);
        d.remove_prefix(4);
        break;
    default:
        break;
    }
    m.args = nul_strings(d, p.cmd);
    return m;
}

bool is_modification(char c) {
    switch (static_cast<MilterAct>(c)) {
    case MilterAct::AddRcpt: case MilterAct::DelRcpt: case MilterAct::AddRcptPar:
    case MilterAct::ReplBody: case MilterAct::ChgFrom: case MilterAct::AddHeader:
    case MilterAct::InsHeader: case MilterAct::ChgHeader: case MilterAct::Quarantine:
        return true;
    default:
        return false;
    }
}

std::optional<MilterStatus> final_status(char c) {
    switch (static_cast<MilterAct>(c)) {
    case MilterAct::Continue: return MilterStatus::Continue;
    case MilterAct::Accept: return MilterStatus::Accept;
    case MilterAct::Reject: return MilterStatus::Reject;
    case MilterAct::Tempfail: return MilterStatus::Tempfail;
    case MilterAct::Discard: return MilterStatus::Discard;
    case MilterAct::ReplyCode: return MilterStatus::ReplyCode;
    case MilterAct::Skip: return MilterStatus::Skip;
    case MilterAct::ConnFail: return MilterStatus::ConnFail;
    case MilterAct::Shutdown: return MilterStatus::Shutdown;
    default: return std::nullopt;
    }
}

}  // namespace

const char* to_string(MilterStatus s) noexcept {
    switch (s) {
    case MilterStatus::NotSent: return "not-sent";
    case MilterStatus::NoReply: return "no-reply";
    case MilterStatus::Continue: return "continue";
    case MilterStatus::Accept: return "accept";
    case MilterStatus::Reject: return "reject";
    case MilterStatus::Tempfail: return "tempfail";
    case MilterStatus::Discard: return "discard";
    case MilterStatus::ReplyCode: return "replycode";
    case MilterStatus::Skip: return "skip";
    case MilterStatus::ConnFail: return "connfail";
    case MilterStatus::Shutdown: return "shutdown";
    }
    return "?";
}

std::ostream& operator<<(std::ostream& os, MilterStatus s) { return os << to_string(s); }

std::string milter_packet(char cmd, std::string_view data) {
    std::string out;
    out.reserve(5 + data.size());
    put32(out, static_cast<uint32_t>(data.size() + 1));
    out += cmd;
    out += data;
    return out;
}

std::string MilterModification::str() const {
    std::string out(1, static_cast<char>(act));
    if (act == MilterAct::InsHeader || act == MilterAct::ChgHeader)
        out += " " + std::to_string(index);
    for (const auto& a : args) out += " " + a;
    if (act == MilterAct::ReplBody) out += " (" + std::to_string(data.size()) + " bytes)";
    return out;
}

int MilterResponse::code() const noexcept {
    if (status != MilterStatus::ReplyCode || text.size() < 3) return 0;
    int c = 0;
    for (size_t i = 0; i < 3; ++i) {
        if (text[i] < '0' || text[i] > '9') return 0;
        c = c * 10 + (text[i] - '0');
    }
    return c;
}

bool MilterResponse::refuses() const noexcept {
    return status == MilterStatus::Reject || status == MilterStatus::Tempfail ||
           (status == MilterStatus::ReplyCode && code() >= 400);
}

bool MilterResponse::ends_message() const noexcept {
    return refuses() || status == MilterStatus::Accept || status == MilterStatus::Discard ||
           status == MilterStatus::ConnFail || status == MilterStatus::Shutdown;
}

std::string MilterResponse::str() const {
    std::string out = to_string(status);
    if (!text.empty()) out += " " + text;
    if (progress) out += " progress=" + std::to_string(progress);
    for (const auto& m : mods) out += " [" + m.str() + "]";
    return out;
}

std::optional<MilterChangeFrom> MilterTranscript::change_from() const {
    std::optional<MilterChangeFrom> out;
    for (const auto& m : eom.mods) {
        if (m.act != MilterAct::ChgFrom || m.args.empty()) continue;
        out = MilterChangeFrom{m.args[0], m.args.size() > 1 ? std::optional(m.args[1])
                                                             : std::nullopt};
    }
    return out;
}

std::vector<MilterModification> MilterTranscript::mods(MilterAct act) const {
    std::vector<MilterModification> out;
    for (const auto& m : eom.mods)
        if (m.act == act) out.push_back(m);
    return out;
}

std::string MilterTranscript::str() const {
    std::string out = "negotiated: version=" + std::to_string(negotiated.version) +
                      " actions=" + hex(negotiated.actions) +
                      " protocol=" + hex(negotiated.protocol) + "\n";
    out += "connect: " + connect.str() + "\nhelo: " + helo.str() + "\nmail: " + mail.str() + "\n";
    for (const auto& r : rcpt) out += "rcpt: " + r.str() + "\n";
    out += "data: " + data.str() + "\n";
    for (const auto& r : headers) out += "header: " + r.str() + "\n";
    out += "eoh: " + eoh.str() + "\n";
    for (const auto& r : body) out += "body: " + r.str() + "\n";
    out += "eom: " + eom.str() + "\n";
    if (aborted) out += "aborted\n";
    return out;
}

MilterClient MilterClient::open(const std::string& spec, MilterClientOptions opts) {
    std::string_view s = spec;
    if (s.rfind("unix:", 0) == 0) return open_unix(spec.substr(5), opts);
    if (s.rfind("local:", 0) == 0) return open_unix(spec.substr(6), opts);
    if (s.rfind("inet:", 0) == 0) {
        size_t at = s.find('@');
        if (at == std::string_view::npos)
            throw MilterError(Kind::Io, "milter socket " + spec + ": want inet:PORT@HOST");
        int port = std::atoi(spec.substr(5, at - 5).c_str());
        if (port <= 0 || port > 65535)
            throw MilterError(Kind::Io, "milter socket " + spec + ": bad port");
        return open_tcp(spec.substr(at + 1), static_cast<uint16_t>(port), opts);
    }
    if (!s.empty() && s.front() == '/') return open_unix(spec, opts);
    throw MilterError(Kind::Io, "milter socket " + spec + ": want unix:PATH or inet:PORT@HOST");
}

// A UNIX-socket connect(2) blocks while the listener's backlog is full (a
// milter that stopped accepting); SO_SNDTIMEO bounds that wait on Linux.
MilterClient MilterClient::open_unix(const std::string& path, MilterClientOptions opts) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path)
        throw MilterError(Kind::Io, "milter socket " + path + ": path too long");
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    sys::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw MilterError(Kind::Io, std::string("milter socket: ") + std::strerror(errno));
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(opts.timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((opts.timeout.count() % 1000) * 1000);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EINPROGRESS)
            throw MilterError(Kind::Timeout, "milter connect " + path + " timed out after " +
                                                 std::to_string(opts.timeout.count()) + "ms");
        throw MilterError(Kind::Io, "milter connect " + path + ": " + std::strerror(errno));
    }
    return MilterClient(std::move(fd), opts);
}

MilterClient MilterClient::open_tcp(const std::string& ip, uint16_t port,
                                    MilterClientOptions opts) {
    std::string err;
    sys::Fd fd = connect_tcp(ip, port, opts.timeout, nullptr, &err);
    if (!fd) throw MilterError(Kind::Io, "milter " + err);
    return MilterClient(std::move(fd), opts);
}

MilterClient::MilterClient(sys::Fd fd, MilterClientOptions opts)
    : fd_(std::move(fd)), opts_(opts) {}

// Waits for the socket, at most the time-out; Timeout when nothing happens.
static void wait_ready(int fd, short events, std::chrono::milliseconds timeout,
                       const char* what) {
    pollfd p{fd, events, 0};
    for (;;) {
        int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (n > 0) return;
        if (n == 0)
            throw MilterError(Kind::Timeout, std::string("milter ") + what + " timed out after " +
                                                 std::to_string(timeout.count()) + "ms");
        if (errno != EINTR)
            throw MilterError(Kind::Io, std::string("milter poll: ") + std::strerror(errno));
    }
}

void MilterClient::write_all(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            bytes.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait_ready(fd_.get(), POLLOUT, opts_.timeout, "write");
            continue;
        }
        if (errno == EPIPE || errno == ECONNRESET)
            throw MilterError(Kind::Closed, "milter closed the connection (write)");
        throw MilterError(Kind::Io, std::string("milter send: ") + std::strerror(errno));
    }
}

void MilterClient::fill(size_t need) {
    char buf[65536];
    while (in_.size() < need) {
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            in_.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n == 0) throw MilterError(Kind::Closed, "milter closed the connection");
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait_ready(fd_.get(), POLLIN, opts_.timeout, "read");
            continue;
        }
        if (errno == ECONNRESET) throw MilterError(Kind::Closed, "milter reset the connection");
        throw MilterError(Kind::Io, std::string("milter recv: ") + std::strerror(errno));
    }
}

void MilterClient::send_raw(std::string_view bytes) { write_all(bytes); }

void MilterClient::send_packet(char cmd, std::string_view data) {
    write_all(milter_packet(cmd, data));
}

MilterPacket MilterClient::read_packet() {
    fill(4);
    uint32_t len = get32(in_, 0);
    if (len == 0) throw MilterError(Kind::Protocol, "milter sent a zero-length packet");
    if (len > opts_.max_packet)
        throw MilterError(Kind::Protocol, "milter packet of " + std::to_string(len) +
                                              " bytes (max " + std::to_string(opts_.max_packet) +
                                              ")");
    fill(4 + size_t{len});
    MilterPacket p{in_[4], in_.substr(5, len - 1)};
    in_.erase(0, 4 + size_t{len});
    return p;
}

MilterResponse MilterClient::read_response(bool at_eom) {
    MilterResponse r;
    for (;;) {
        MilterPacket p = read_packet();
        if (p.cmd == static_cast<char>(MilterAct::Progress)) {
            ++r.progress;
            continue;
        }
        if (is_modification(p.cmd)) {
            if (!at_eom)
                throw MilterError(Kind::Protocol, std::string("milter modification '") + p.cmd +
                                                      "' before end of message");
            r.mods.push_back(parse_modification(p));
            continue;
        }
        std::optional<MilterStatus> s = final_status(p.cmd);
        if (!s)
            throw MilterError(Kind::Protocol, "milter sent unknown reply " +
                                                  hex(static_cast<unsigned char>(p.cmd)));
        r.status = *s;
        if (r.status == MilterStatus::ReplyCode) {
            r.text = p.data;
            if (!r.text.empty() && r.text.back() == '\0') r.text.pop_back();
        }
        return r;
    }
}

bool MilterClient::wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
        if (n > 0 || errno == EINTR) continue;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_.get(), POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(left.count()));
    }
}

const MilterNegotiated& MilterClient::negotiate(const MilterOffer& offer) {
    std::string payload;
    put32(payload, offer.version);
    put32(payload, offer.actions);
    put32(payload, offer.protocol);
    send_packet(static_cast<char>(MilterCmd::OptNeg), payload);
    MilterPacket p = read_packet();
    if (p.cmd != static_cast<char>(MilterCmd::OptNeg) || p.data.size() < 12)
        throw MilterError(Kind::Protocol, std::string("milter answered option negotiation with '") +
                                              p.cmd + "' (" + std::to_string(p.data.size()) +
                                              " bytes)");
    MilterNegotiated n;
    n.version = get32(p.data, 0);
    n.actions = get32(p.data, 4);
    n.protocol = get32(p.data, 8);
    if (n.version < 2)
        throw MilterError(Kind::Protocol, "milter protocol version " + std::to_string(n.version));
    if (n.actions & ~offer.actions)
        throw MilterError(Kind::Protocol, "milter wants actions " + hex(n.actions) +
                                              " beyond the offer " + hex(offer.actions));
    if (n.protocol & ~offer.protocol)
        throw MilterError(Kind::Protocol, "milter wants protocol flags " + hex(n.protocol) +
                                              " beyond the offer " + hex(offer.protocol));
    // Macro lists: 32-bit stage, NUL-terminated names (smfi_setsymlist).
    std::string_view rest = std::string_view(p.data).substr(12);
    while (!rest.empty()) {
        size_t nul = rest.size() >= 4 ? rest.find('\0', 4) : std::string_view::npos;
        if (nul == std::string_view::npos)
            throw MilterError(Kind::Protocol, "milter macro list without stage or NUL");
        uint32_t stage = get32(rest, 0);
        if (stage >= kMilterStages)
            throw MilterError(Kind::Protocol, "milter macro list for stage " + std::to_string(stage));
        n.macros[stage] = split_names(rest.substr(4, nul - 4));
        rest.remove_prefix(nul + 1);
    }
    neg_ = std::move(n);
    step_ = Step::Negotiated;
    return neg_;
}

void MilterClient::append_macros(std::string& out, MilterStage stage, MilterCmd cmd,
                                 const MilterMacros& macros) const {
    const auto& wanted = neg_.macros[static_cast<size_t>(stage)];
    std::string payload(1, static_cast<char>(cmd));
    bool any = false;
    for (const auto& [name, value] : macros) {
        if (opts_.filter_macros && wanted &&
            std::none_of(wanted->begin(), wanted->end(),
                         [&](const std::string& w) { return bare(w) == bare(name); }))
            continue;
        put_string(payload, name);
        put_string(payload, value);
        any = true;
    }
    if (any) out += milter_packet(static_cast<char>(MilterCmd::Macro), payload);
}

MilterResponse MilterClient::step(MilterCmd cmd, std::string_view payload, uint32_t off_bit,
                                  uint32_t noreply_bit, MilterStage stage, MilterCmd macro_cmd,
                                  const MilterMacros* macros) {
    if (off_bit && neg_.has(off_bit)) return {};
    std::string out;
    if (macros) append_macros(out, stage, macro_cmd, *macros);
    out += milter_packet(static_cast<char>(cmd), payload);
    write_all(out);
    if (noreply_bit && neg_.has(noreply_bit)) return {MilterStatus::NoReply};
    return read_response(false);
}

MilterResponse MilterClient::connect(const MilterConnect& info, const MilterMacros& macros) {
    std::string p;
    put_string(p, info.hostname);
    p += static_cast<char>(info.family);
    if (info.family != MilterFamily::Unknown) {
        p += static_cast<char>((info.port >> 8) & 0xff);
        p += static_cast<char>(info.port & 0xff);
        put_string(p, info.address);
    }
    step_ = Step::Connected;
    return step(MilterCmd::Connect, p, kNoConnect, kNrConn, MilterStage::Connect,
                MilterCmd::Connect, &macros);
}

MilterResponse MilterClient::helo(std::string_view name, const MilterMacros& macros) {
    std::string p;
    put_string(p, name);
    return step(MilterCmd::Helo, p, kNoHelo, kNrHelo, MilterStage::Helo, MilterCmd::Helo, &macros);
}

MilterResponse MilterClient::mail(std::string_view sender, const std::vector<std::string>& args,
                                  const MilterMacros& macros) {
    std::string p;
    put_string(p, "<" + std::string(sender) + ">");
    for (const auto& a : args) put_string(p, a);
    return step(MilterCmd::Mail, p, kNoMail, kNrMail, MilterStage::Mail, MilterCmd::Mail, &macros);
}

MilterResponse MilterClient::rcpt(std::string_view recipient, const std::vector<std::string>& args,
                                  const MilterMacros& macros) {
    std::string p;
    put_string(p, "<" + std::string(recipient) + ">");
    for (const auto& a : args) put_string(p, a);
    return step(MilterCmd::Rcpt, p, kNoRcpt, kNrRcpt, MilterStage::Rcpt, MilterCmd::Rcpt, &macros);
}

MilterResponse MilterClient::data(const MilterMacros& macros) {
    if (neg_.version && neg_.version < 4) return {};  // DATA is a version 4 command
    return step(MilterCmd::Data, {}, kNoData, kNrData, MilterStage::Data, MilterCmd::Data, &macros);
}

MilterResponse MilterClient::header(std::string_view name, std::string_view value) {
    if (!neg_.has(kHdrLeadSpc)) {
        size_t b = value.find_first_not_of(" \t");
        value.remove_prefix(b == std::string_view::npos ? value.size() : b);
    }
    std::string p;
    put_string(p, name);
    put_string(p, value);
    return step(MilterCmd::Header, p, kNoHdrs, kNrHdr, MilterStage::Eoh, MilterCmd::Header, nullptr);
}

MilterResponse MilterClient::eoh(const MilterMacros& macros) {
    return step(MilterCmd::Eoh, {}, kNoEoh, kNrEoh, MilterStage::Eoh, MilterCmd::Eoh, &macros);
}

MilterResponse MilterClient::body(std::string_view chunk) {
    return step(MilterCmd::Body, chunk, kNoBody, kNrBody, MilterStage::Eom, MilterCmd::Body,
                nullptr);
}

std::vector<MilterResponse> MilterClient::body_chunks(std::string_view text) {
    std::vector<MilterResponse> out;
    if (neg_.has(kNoBody)) return out;
    while (!text.empty()) {
        size_t n = std::min(text.size(), kChunk);
        out.push_back(body(text.substr(0, n)));
        text.remove_prefix(n);
        if (out.back().status == MilterStatus::Skip || out.back().ends_message()) break;
    }
    return out;
}

MilterResponse MilterClient::eom(const MilterMacros& macros) {
    std::string out;
    append_macros(out, MilterStage::Eom, MilterCmd::BodyEob, macros);
    out += milter_packet(static_cast<char>(MilterCmd::BodyEob), {});
    write_all(out);
    return read_response(true);
}

MilterResponse MilterClient::unknown(std::string_view command) {
    if (neg_.version && neg_.version < 3) return {};  // UNKNOWN is a version 3 command
    std::string p;
    put_string(p, command);
    return step(MilterCmd::Unknown, p, kNoUnknown, kNrUnkn, MilterStage::Connect,
                MilterCmd::Unknown, nullptr);
}

void MilterClient::abort() { send_packet(static_cast<char>(MilterCmd::Abort), {}); }

void MilterClient::quit() {
    send_packet(static_cast<char>(MilterCmd::Quit), {});
    step_ = Step::Closed;
}

void MilterClient::quit_nc() {
    send_packet(static_cast<char>(MilterCmd::QuitNc), {});
    step_ = Step::Negotiated;
}

// MAIL through end of message; stops (and aborts) where a reply ends the message.
void MilterClient::run_message(const MilterTransaction& t, MilterTranscript& out) {
    auto stop = [&] {
        abort();
        out.aborted = true;
    };
    out.mail = mail(t.mail_from, t.esmtp_args, t.macros.mail);
    if (out.mail.ends_message()) return stop();
    bool any_rcpt = false;
    for (size_t i = 0; i < t.rcpts.size(); ++i) {
        MilterMacros m = t.macros.rcpt;
        if (i < t.rcpt_macros.size())
            m.insert(m.end(), t.rcpt_macros[i].begin(), t.rcpt_macros[i].end());
        out.rcpt.push_back(rcpt(t.rcpts[i], {}, m));
        const MilterResponse& r = out.rcpt.back();
        if (r.refuses()) continue;  // this recipient only
        if (r.ends_message()) return stop();
        any_rcpt = true;
    }
    if (!any_rcpt) return stop();
    out.data = data(t.macros.data);
    if (out.data.ends_message()) return stop();
    for (const auto& h : t.headers) {
        out.headers.push_back(header(h.name, h.value));
        if (out.headers.back().ends_message()) return stop();
    }
    out.eoh = eoh(t.macros.eoh);
    if (out.eoh.ends_message()) return stop();
    out.body = body_chunks(crlf(t.body));
    if (!out.body.empty() && out.body.back().ends_message()) return stop();
    out.eom = eom(t.macros.eom);
}

MilterTranscript MilterClient::transaction(const MilterTransaction& t) {
    if (step_ == Step::Closed) throw MilterError(Kind::Io, "milter transaction after QUIT");
    if (step_ == Step::Fresh) negotiate();
    MilterTranscript out;
    out.negotiated = neg_;
    bool connection_open = true;
    if (step_ == Step::Negotiated) {
        out.connect = connect(t.connect, t.macros.connect);
        connection_open = !out.connect.ends_message();
        if (connection_open && !t.helo.empty()) {
            out.helo = helo(t.helo, t.macros.helo);
            connection_open = !out.helo.ends_message();
        }
    }
    if (connection_open) run_message(t, out);
    switch (t.end) {
    case MilterEnd::Quit: quit(); break;
    case MilterEnd::QuitNc: quit_nc(); break;
    case MilterEnd::Keep: break;
    }
    return out;
}

}  // namespace harness
