// record.cc - encode/decode of suppression and block records (layout in record.h)
#include "common/store/record.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/store/le_codec.h"
#include "common/sys/utf8.h"

namespace store {

namespace {

constexpr size_t kFixedSize = 44;       // Record: up to the first string
constexpr size_t kBlockFixedSize = 25;  // BlockRecord: up to the first string
constexpr uint8_t kFlagSuppressed = 0x01;

constexpr std::array<std::string_view, 4> kClassNames{"hard", "soft", "complaint", "manual"};
constexpr std::array<std::string_view, 4> kSourceNames{"dsn", "arf", "manual", "import"};

void put_str(std::string& out, std::string_view s, size_t max) {
    put_le_str(out, cap_utf8(s, max));  // max <= 65535
}

// The text fields both record kinds share, in their stored order.
template <class R>
size_t text_size(const R& r) {
    return 8 + r.reason.size() + r.status.size() + std::min(r.diagnostic.size(), kMaxDiagnostic) +
           r.remote_mta.size();
}

template <class R>
void put_texts(std::string& out, const R& r) {
    put_str(out, r.reason, kMaxReason);
    put_str(out, r.status, kMaxStatus);
    put_str(out, r.diagnostic, kMaxDiagnostic);
    put_str(out, r.remote_mta, kMaxRemoteMta);
}

// Reads them into r; false (r untouched) when the value ends early.
template <class R>
bool read_texts(LeReader& rd, R& r) {
    const std::string_view reason = rd.str(), status = rd.str(), diagnostic = rd.str(),
                           remote_mta = rd.str();
    if (!rd.ok())
        return false;
    r.reason = reason;
    r.status = status;
    r.diagnostic = diagnostic;
    r.remote_mta = remote_mta;
    return true;
}

}  // namespace

std::string_view to_string(Class c) noexcept {
    const auto i = static_cast<size_t>(c);
    return i < kClassNames.size() ? kClassNames[i] : "unknown";
}

std::string_view to_string(Source s) noexcept {
    const auto i = static_cast<size_t>(s);
    return i < kSourceNames.size() ? kSourceNames[i] : "unknown";
}

std::optional<Class> parse_class(std::string_view s) noexcept {
    for (size_t i = 0; i < kClassNames.size(); ++i)
        if (kClassNames[i] == s)
            return static_cast<Class>(i);
    return std::nullopt;
}

std::optional<Source> parse_source(std::string_view s) noexcept {
    for (size_t i = 0; i < kSourceNames.size(); ++i)
        if (kSourceNames[i] == s)
            return static_cast<Source>(i);
    return std::nullopt;
}

int strength(Class c) noexcept {
    switch (c) {
    case Class::Soft: return 0;
    case Class::Hard: return 1;
    case Class::Complaint: return 2;
    case Class::Manual: return 3;
    }
    return 0;
}

std::string_view to_string(Decode d) noexcept {
    switch (d) {
    case Decode::Ok: return "ok";
    case Decode::Empty: return "empty value";
    case Decode::UnknownVersion: return "unknown format version";
    case Decode::Truncated: return "truncated value";
    case Decode::BadValue: return "invalid field value";
    }
    return "invalid";
}

std::string clean_remote_text(std::string_view s, size_t max) {
    std::string out(cap_utf8(s, max));
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t' && c != '\n') || u == 0x7f) c = '?';
    }
    return out;
}

std::string_view cap_utf8(std::string_view s, size_t max) noexcept {
    if (s.size() <= max)
        return s;
    // No character is split: an incomplete last sequence goes too.
    return s.substr(0, sys::utf8_complete(s.substr(0, max)));
}

std::string encode(const Record& r) {
    std::string out;
    out.reserve(kFixedSize + text_size(r) + 2 + r.evidence.size());
    out += static_cast<char>(kRecordVersion);
    out += static_cast<char>(r.klass);
    out += static_cast<char>(r.source);
    out += static_cast<char>(r.suppressed ? kFlagSuppressed : 0);
    put_le(out, r.first_seen);
    put_le(out, r.last_seen);
    put_le(out, r.expiry);
    put_le(out, r.window_start);
    put_le(out, r.count);
    put_le(out, r.window_count);
    put_texts(out, r);
    put_str(out, r.evidence, kMaxEvidence);
    if (!r.message_id.empty() || !r.headers.empty()) {  // absent, the value is what older versions wrote
        put_str(out, r.message_id, kMaxMessageId);
        const size_t n = std::min(r.headers.size(), kMaxHeaders);
        out += static_cast<char>(n);
        for (size_t i = 0; i < n; ++i) {
            put_str(out, r.headers[i].first, kMaxHeaderName);
            put_str(out, r.headers[i].second, kMaxHeaderValue);
        }
    }
    return out;
}

Decode decode_fixed(std::string_view in, Record& out) {
    if (in.empty())
        return Decode::Empty;
    if (static_cast<uint8_t>(in[0]) != kRecordVersion)
        return Decode::UnknownVersion;
    if (in.size() < kFixedSize)
        return Decode::Truncated;
    LeReader rd(in.substr(1));
    const auto klass = rd.uint(1), source = rd.uint(1), flags = rd.uint(1);
    if (klass > static_cast<uint64_t>(Class::Manual) ||
        source > static_cast<uint64_t>(Source::Import) || (flags & ~uint64_t{kFlagSuppressed}))
        return Decode::BadValue;
    out.klass = static_cast<Class>(klass);
    out.source = static_cast<Source>(source);
    out.suppressed = (flags & kFlagSuppressed) != 0;
    out.first_seen = rd.i64();
    out.last_seen = rd.i64();
    out.expiry = rd.i64();
    out.window_start = rd.i64();
    out.count = static_cast<uint32_t>(rd.uint(4));
    out.window_count = static_cast<uint32_t>(rd.uint(4));
    return Decode::Ok;
}

Decode decode(std::string_view in, Record& out) {
    Record r;
    if (Decode d = decode_fixed(in, r); d != Decode::Ok)
        return d;
    LeReader rd(in.substr(kFixedSize));
    if (!read_texts(rd, r))
        return Decode::Truncated;
    const std::string_view evidence = rd.str();
    if (!rd.ok())
        return Decode::Truncated;
    r.evidence = evidence;
    if (rd.pos() < in.size() - kFixedSize) {  // message_id and headers, appended later
        r.message_id = rd.str();
        const uint64_t n = rd.uint(1);
        for (uint64_t i = 0; i < n && rd.ok(); ++i) {
            const std::string_view name = rd.str(), value = rd.str();
            r.headers.emplace_back(name, value);
        }
        if (!rd.ok())
            return Decode::Truncated;
    }
    out = std::move(r);
    return Decode::Ok;
}

Decode decode_reason(std::string_view in, std::string_view& reason) {
    Record fixed;
    if (Decode d = decode_fixed(in, fixed); d != Decode::Ok)
        return d;
    LeReader rd(in.substr(kFixedSize));
    const std::string_view s = rd.str();
    if (!rd.ok())
        return Decode::Truncated;
    reason = s;
    return Decode::Ok;
}

std::string encode(const BlockRecord& r) {
    std::string out;
    out.reserve(kBlockFixedSize + text_size(r));
    out += static_cast<char>(kBlockVersion);
    put_le(out, r.count);
    put_le(out, r.first_seen);
    put_le(out, r.last_seen);
    put_texts(out, r);
    if (!r.evidence.empty())  // absent, the value is byte for byte what older versions wrote
        put_str(out, r.evidence, kMaxEvidence);
    return out;
}

Decode decode(std::string_view in, BlockRecord& out) {
    if (in.empty())
        return Decode::Empty;
    if (static_cast<uint8_t>(in[0]) != kBlockVersion)
        return Decode::UnknownVersion;
    LeReader rd(in.substr(1));
    BlockRecord r;
    r.count = rd.uint(8);
    r.first_seen = rd.i64();
    r.last_seen = rd.i64();
    if (!read_texts(rd, r))
        return Decode::Truncated;
    if (in.size() - 1 > rd.pos()) {  // evidence, appended later: absent in older values
        const std::string_view evidence = rd.str();
        if (!rd.ok())
            return Decode::Truncated;
        r.evidence = evidence;
    }
    out = std::move(r);
    return Decode::Ok;
}

}  // namespace store
