// evidence.cc - see evidence.h
#include "bounce-pipe/evidence.h"

#include <openssl/evp.h>

#include <array>

#include "common/log/log.h"
#include "common/sys/ascii.h"

namespace bounce {
namespace {

// Only the header block is searched, and at most this much of it: a
// Message-ID further down is someone's body text.
constexpr size_t kMaxHeaderScan = 64 * 1024;

bool is_alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

// RFC 5322 §2.2 fields, folding §2.2.3. A leading mbox "From " line (pipe(8)
// flag F) is not a field and is skipped.
std::string first_header(std::string_view message, std::string_view name) {
    std::string_view head = message.substr(0, kMaxHeaderScan);
    size_t pos = 0;
    while (pos < head.size()) {
        size_t eol = head.find('\n', pos);
        std::string_view line = head.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
        if (trim(line).empty()) return "";  // end of the header block
        const bool mbox_from = pos == 0 && line.starts_with("From ");
        pos = eol == std::string_view::npos ? head.size() : eol + 1;
        size_t colon = line.find(':');
        if (mbox_from || line.front() == ' ' || line.front() == '\t' || colon == std::string_view::npos ||
            !sys::iequals(trim(line.substr(0, colon)), name))
            continue;
        std::string value(line.substr(colon + 1));
        while (pos < head.size() && (head[pos] == ' ' || head[pos] == '\t')) {  // continuation lines
            size_t next = head.find('\n', pos);
            value += head.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
            pos = next == std::string_view::npos ? head.size() : next + 1;
        }
        return std::string(trim(value));
    }
    return "";
}

namespace {

std::string digest(std::string_view message) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(message.data(), message.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 || len < 16)
        return "";  // no evidence: the store then counts every delivery
    static const char hex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (size_t i = 0; i < 16; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

}  // namespace

std::string clean_queue_id(std::string_view raw) {
    std::string out;
    for (char c : raw.substr(0, kMaxQueueId)) out += is_alnum(c) ? c : '_';
    return out;
}

std::string evidence_id(std::string_view clean_qid, std::string_view message) {
    if (!clean_qid.empty()) return std::string(clean_qid);
    std::string mid = first_header(message, "message-id");
    if (!mid.empty()) return logging::printable(mid, kMaxMessageIdEvidence);
    return digest(message);
}

}  // namespace bounce
