// json.cc - see json.h
#include "common/log/json.h"

#include "common/sys/utf8.h"

namespace logging {
void json_quote(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            size_t n = sys::utf8_sequence(s, i);
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
