// request.cc - see request.h
#include "common/policy/request.h"

#include <cstring>
#include <stdexcept>

namespace policy {
namespace {

struct StateName {
    std::string_view name;
    ProtocolState state;
};
constexpr StateName kStates[] = {
    {"RCPT", ProtocolState::Rcpt},       {"END-OF-MESSAGE", ProtocolState::EndOfMessage},
    {"CONNECT", ProtocolState::Connect}, {"EHLO", ProtocolState::Ehlo},
    {"HELO", ProtocolState::Helo},       {"MAIL", ProtocolState::Mail},
    {"DATA", ProtocolState::Data},       {"VRFY", ProtocolState::Vrfy},
    {"ETRN", ProtocolState::Etrn},
};

bool name_byte(unsigned char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

bool blank(char c) noexcept { return c == ' ' || c == '\t'; }

// Appends s with CR, LF and NUL replaced by spaces.
void append_flat(std::string& out, std::string_view s) {
    const size_t start = out.size();
    out.append(s);
    for (size_t i = start; i < out.size(); ++i)
        if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0') out[i] = ' ';
}

}  // namespace

void Request::add(std::string_view name, std::string_view value) {
    if (data_.size() + name.size() + value.size() > UINT32_MAX)
        throw std::length_error("policy request too large");
    Span s;
    s.name_off = static_cast<uint32_t>(data_.size());
    s.name_len = static_cast<uint32_t>(name.size());
    data_.append(name);
    s.value_off = static_cast<uint32_t>(data_.size());
    s.value_len = static_cast<uint32_t>(value.size());
    data_.append(value);
    spans_.push_back(s);
}

void Request::clear() noexcept {
    data_.clear();
    spans_.clear();
}

Attribute Request::at(size_t i) const noexcept {
    const Span& s = spans_[i];
    const std::string_view d = data_;
    return {d.substr(s.name_off, s.name_len), d.substr(s.value_off, s.value_len)};
}

std::string_view Request::get(std::string_view name) const noexcept {
    const std::string_view d = data_;
    for (const Span& s : spans_)
        if (s.name_len == name.size() && d.substr(s.name_off, s.name_len) == name)
            return d.substr(s.value_off, s.value_len);
    return {};
}

bool Request::has(std::string_view name) const noexcept {
    const std::string_view d = data_;
    for (const Span& s : spans_)
        if (s.name_len == name.size() && d.substr(s.name_off, s.name_len) == name) return true;
    return false;
}

ProtocolState Request::state() const noexcept { return parse_protocol_state(protocol_state()); }
uint64_t Request::recipient_count() const noexcept { return parse_count(get("recipient_count")); }
uint64_t Request::size() const noexcept { return parse_count(get("size")); }

uint64_t parse_count(std::string_view s) noexcept {
    if (s.empty()) return 0;
    uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return 0;
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    return v;
}

ProtocolState parse_protocol_state(std::string_view s) noexcept {
    for (const auto& st : kStates)
        if (st.name == s) return st.state;
    return ProtocolState::Other;
}

RequestDecoder::RequestDecoder(Limits limits) : limits_(limits) {
    if (limits_.max_line == 0) throw std::invalid_argument("policy Limits.max_line is not set");
    if (limits_.max_attributes == 0)
        throw std::invalid_argument("policy Limits.max_attributes is not set");
    if (limits_.max_request == 0)
        throw std::invalid_argument("policy Limits.max_request is not set");
}

void RequestDecoder::reset() noexcept {
    req_.clear();
    scanned_ = 0;
    consumed_ = 0;
    error_ = {};
}

DecodeStatus RequestDecoder::fail(std::string_view reason) noexcept {
    error_ = reason;
    return DecodeStatus::Error;
}

DecodeStatus RequestDecoder::decode(std::string_view buf) {
    if (!error_.empty()) return DecodeStatus::Error;
    if (consumed_ != 0) return DecodeStatus::Done;
    while (scanned_ < buf.size()) {
        const std::string_view rest = buf.substr(scanned_);
        const void* nl = std::memchr(rest.data(), '\n', rest.size());
        if (nl == nullptr) {
            // Refuse what can no longer fit, without waiting for its end.
            if (rest.size() > limits_.max_line) return fail("line too long");
            // The shortest end: this line's LF and the empty line.
            if (buf.size() + 2 > limits_.max_request) return fail("request too long");
            if (std::memchr(rest.data(), '\0', rest.size()) != nullptr)
                return fail("NUL byte in a line");
            return DecodeStatus::NeedMore;
        }
        const size_t len = static_cast<size_t>(static_cast<const char*>(nl) - rest.data());
        if (len > limits_.max_line) return fail("line too long");
        if (scanned_ + len + 1 > limits_.max_request) return fail("request too long");
        std::string_view line = rest.substr(0, len);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) {
            if (req_.empty()) return fail("empty request");
            consumed_ = scanned_ + len + 1;
            scanned_ = consumed_;
            return DecodeStatus::Done;
        }
        if (line.find('\0') != std::string_view::npos) return fail("NUL byte in a line");
        if (line.find('\r') != std::string_view::npos) return fail("CR inside a line");
        const size_t eq = line.find('=');
        if (eq == std::string_view::npos) return fail("line without '='");
        if (eq == 0) return fail("empty attribute name");
        for (size_t i = 0; i < eq; ++i)
            if (!name_byte(static_cast<unsigned char>(line[i])))
                return fail("bad attribute name");
        if (req_.count() >= limits_.max_attributes) return fail("too many attributes");
        req_.add(line.substr(0, eq), line.substr(eq + 1));
        scanned_ += len + 1;
    }
    if (scanned_ >= limits_.max_request) return fail("request too long");
    return DecodeStatus::NeedMore;
}

void append_reply(std::string& out, std::string_view action) {
    while (!action.empty() && (blank(action.front()) || action.front() == '\r' ||
                               action.front() == '\n' || action.front() == '\0'))
        action.remove_prefix(1);
    while (!action.empty() && (blank(action.back()) || action.back() == '\r' ||
                               action.back() == '\n' || action.back() == '\0'))
        action.remove_suffix(1);
    if (action.size() > kMaxAction) {
        size_t cut = kMaxAction;
        // Do not split a UTF-8 sequence: back off over continuation bytes.
        while (cut > 0 && (static_cast<unsigned char>(action[cut]) & 0xC0) == 0x80) --cut;
        action = action.substr(0, cut);
        while (!action.empty() && blank(action.back())) action.remove_suffix(1);
    }
    out.append("action=");
    if (action.empty())
        out.append("DUNNO");
    else
        append_flat(out, action);
    out.append("\n\n");
}

std::string format_reply(std::string_view action) {
    std::string out;
    append_reply(out, action);
    return out;
}

void append_request(std::string& out, const Request& req) {
    for (size_t i = 0; i < req.count(); ++i) {
        const Attribute a = req.at(i);
        const size_t start = out.size();
        append_flat(out, a.name);
        for (size_t j = start; j < out.size(); ++j)
            if (out[j] == '=') out[j] = '_';
        out.push_back('=');
        append_flat(out, a.value);
        out.push_back('\n');
    }
    out.push_back('\n');
}

std::string format_request(const Request& req) {
    std::string out;
    append_request(out, req);
    return out;
}

ReplyResult decode_reply(std::string_view buf, size_t max_bytes) noexcept {
    ReplyResult r;
    size_t pos = 0;
    bool have_action = false;
    std::string_view action;
    while (pos < buf.size()) {
        const size_t nl = buf.find('\n', pos);
        if (nl == std::string_view::npos) break;
        std::string_view line = buf.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = nl + 1;
        if (pos > max_bytes) {
            r.status = DecodeStatus::Error;
            r.error = "reply too long";
            return r;
        }
        if (line.empty()) {
            if (!have_action) {
                r.status = DecodeStatus::Error;
                r.error = "reply without action";
                return r;
            }
            r.status = DecodeStatus::Done;
            r.action = action;
            r.consumed = pos;
            return r;
        }
        const size_t eq = line.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            r.status = DecodeStatus::Error;
            r.error = "reply line without name=value";
            return r;
        }
        if (!have_action && line.substr(0, eq) == "action") {
            have_action = true;
            action = line.substr(eq + 1);
        }
    }
    if (buf.size() >= max_bytes) {
        r.status = DecodeStatus::Error;
        r.error = "reply too long";
    }
    return r;
}

}  // namespace policy
