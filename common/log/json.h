// json.h - a minimal JSON writer for one-line records
//
// JsonObject builds one JSON object as text, in insertion order:
//
//     logging::JsonObject o;
//     o.add("file", path).add("is_bounce", true).add_raw("recipients", arr.str());
//     puts(o.str().c_str());
//
// Strings are escaped per RFC 8259 §7; bytes that are not valid UTF-8 are
// replaced with U+FFFD so every line is valid JSON whatever the input was.
// No exceptions except std::bad_alloc. Not thread safe (a value type).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace logging {

// Appends s to out as a quoted JSON string.
void json_quote(std::string& out, std::string_view s);

class JsonObject {
public:
    JsonObject& add(std::string_view key, std::string_view value);
    JsonObject& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    JsonObject& add(std::string_view key, const std::string& value) { return add(key, std::string_view(value)); }
    JsonObject& add(std::string_view key, bool value);
    JsonObject& add(std::string_view key, long long value);
    JsonObject& add(std::string_view key, int value) { return add(key, static_cast<long long>(value)); }
    JsonObject& add_null(std::string_view key);
    // value must already be JSON text (an array or object built elsewhere).
    JsonObject& add_raw(std::string_view key, std::string_view json);
    std::string str() const { return body_.empty() ? "{}" : body_ + "}"; }

private:
    void key(std::string_view k);
    std::string body_;
};

class JsonArray {
public:
    JsonArray& add_raw(std::string_view json);
    JsonArray& add(std::string_view s);
    std::string str() const { return body_.empty() ? "[]" : body_ + "]"; }

private:
    std::string body_;
};

}  // namespace logging
