// json.cc - see json.h
#include "common/log/json.h"

namespace logging {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629 §4).
size_t utf8_len(std::string_view s, size_t i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    size_t n = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogates
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;  // > U+10FFFF
    return n;
}

}  // namespace

void json_quote(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            size_t n = utf8_len(s, i);
            if (n == 0) {
                out += "\xEF\xBF\xBD";
                ++i;
            } else {
                out.append(s.substr(i, n));
                i += n;
            }
            continue;
        }
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += static_cast<char>(c);
            }
        }
        ++i;
    }
    out += '"';
}

void JsonObject::key(std::string_view k) {
    body_ += body_.empty() ? "{" : ",";
    json_quote(body_, k);
    body_ += ':';
}

JsonObject& JsonObject::add(std::string_view k, std::string_view v) {
    key(k);
    json_quote(body_, v);
    return *this;
}
JsonObject& JsonObject::add(std::string_view k, bool v) {
    key(k);
    body_ += v ? "true" : "false";
    return *this;
}
JsonObject& JsonObject::add(std::string_view k, long long v) {
    key(k);
    body_ += std::to_string(v);
    return *this;
}
JsonObject& JsonObject::add_null(std::string_view k) {
    key(k);
    body_ += "null";
    return *this;
}
JsonObject& JsonObject::add_raw(std::string_view k, std::string_view json) {
    key(k);
    body_.append(json);
    return *this;
}

JsonArray& JsonArray::add_raw(std::string_view json) {
    body_ += body_.empty() ? "[" : ",";
    body_.append(json);
    return *this;
}
JsonArray& JsonArray::add(std::string_view s) {
    body_ += body_.empty() ? "[" : ",";
    json_quote(body_, s);
    return *this;
}

}  // namespace logging
