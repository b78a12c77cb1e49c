// postfix_report.cc - see postfix_report.h
#include "tests/support/postfix_report.h"

#include <cctype>
#include <cstdlib>
#include <algorithm>
#include <stdexcept>

namespace harness {
namespace {

// ---- a deliberately small JSON reader, enough for postqueue -j ----------

struct Json {
    enum class Type { Null, Bool, Number, String, Array, Object } type = Type::Null;
    bool b = false;
    double num = 0;
    std::string str;
    std::vector<Json> arr;                // array elements, or object values
    std::vector<std::string> keys;        // object keys, parallel to arr

    const Json* get(std::string_view key) const {
        for (size_t i = 0; i < keys.size() && i < arr.size(); ++i)
            if (keys[i] == key) return &arr[i];
        return nullptr;
    }
};

class JsonReader {
public:
    explicit JsonReader(std::string_view s) : s_(s) {}
    Json document() {
        Json v = value(0);
        ws();
        if (i_ != s_.size()) fail("trailing data");
        return v;
    }

private:
    [[noreturn]] void fail(const char* why) {
        throw std::runtime_error(std::string(why) + " at offset " + std::to_string(i_));
    }
    void ws() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    bool eat(char c) {
        ws();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    void expect(char c) {
        if (!eat(c)) fail("unexpected character");
    }
    Json value(int depth) {
        if (depth > 16) fail("nesting too deep");
        ws();
        if (i_ >= s_.size()) fail("unexpected end");
        Json v;
        char c = s_[i_];
        if (c == '{') {
            ++i_;
            v.type = Json::Type::Object;
            if (eat('}')) return v;
            do {
                ws();
                v.keys.push_back(string());
                expect(':');
                v.arr.push_back(value(depth + 1));
            } while (eat(','));
            expect('}');
        } else if (c == '[') {
            ++i_;
            v.type = Json::Type::Array;
            if (eat(']')) return v;
            do v.arr.push_back(value(depth + 1));
            while (eat(','));
            expect(']');
        } else if (c == '"') {
            v.type = Json::Type::String;
            v.str = string();
        } else if (literal("true")) {
            v.type = Json::Type::Bool;
            v.b = true;
        } else if (literal("false")) {
            v.type = Json::Type::Bool;
        } else if (literal("null")) {
        } else {
            size_t start = i_;
            while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) ||
                                      std::string_view("+-.eE").find(s_[i_]) != std::string::npos))
                ++i_;
            if (start == i_) fail("bad value");
            v.type = Json::Type::Number;
            v.num = std::strtod(std::string(s_.substr(start, i_ - start)).c_str(), nullptr);
        }
        return v;
    }
    bool literal(std::string_view w) {
        if (s_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }
    void utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    std::string string() {
        if (i_ >= s_.size() || s_[i_] != '"') fail("expected string");
        ++i_;
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            char c = s_[i_++];
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) fail("bad escape");
            char e = s_[i_++];
            switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'u': {
                if (i_ + 4 > s_.size()) fail("bad \\u escape");
                unsigned cp = static_cast<unsigned>(
                    std::strtoul(std::string(s_.substr(i_, 4)).c_str(), nullptr, 16));
                i_ += 4;
                utf8(out, cp);  // surrogate pairs are not expected in queue data
                break;
            }
            default: out += e;  // \" \\ \/
            }
        }
        if (i_ >= s_.size()) fail("unterminated string");
        ++i_;
        return out;
    }

    std::string_view s_;
    size_t i_ = 0;
};

std::string str_of(const Json& o, std::string_view key) {
    const Json* v = o.get(key);
    return v && v->type == Json::Type::String ? v->str : std::string();
}

long long num_of(const Json& o, std::string_view key) {
    const Json* v = o.get(key);
    return v && v->type == Json::Type::Number ? static_cast<long long>(v->num) : 0;
}

// Value of "key=" up to ", " (or "<...>" for addresses), within text.
std::string field(std::string_view text, std::string_view key) {
    size_t p = 0;
    for (;;) {
        p = text.find(key, p);
        if (p == std::string_view::npos) return {};
        if (p == 0 || text[p - 1] == ' ') break;
        ++p;
    }
    std::string_view v = text.substr(p + key.size());
    if (!v.empty() && v[0] == '<') {
        size_t gt = v.find('>');
        return std::string(v.substr(1, gt == std::string_view::npos ? v.size() - 1 : gt - 1));
    }
    size_t end = v.find(", ");
    size_t sp = v.find(' ');
    end = std::min(end, sp);
    return std::string(v.substr(0, end));
}

}  // namespace

std::optional<LogLine> parse_log_line(std::string_view line) {
    size_t p = line.find(" postfix");
    if (p == std::string_view::npos) return std::nullopt;
    size_t slash = line.find('/', p);
    size_t br = line.find('[', p);
    size_t colon = line.find("]: ", p);
    if (slash == std::string_view::npos || br == std::string_view::npos ||
        colon == std::string_view::npos || !(slash < br && br < colon))
        return std::nullopt;
    LogLine l;
    l.program = std::string(line.substr(slash + 1, br - slash - 1));
    std::string_view rest = line.substr(colon + 3);
    size_t qe = rest.find(": ");
    if (qe != std::string_view::npos && qe >= 6 && qe <= 20) {
        std::string_view id = rest.substr(0, qe);
        bool alnum = true;
        for (char c : id) alnum = alnum && std::isalnum(static_cast<unsigned char>(c));
        if (alnum) {
            l.queue_id = std::string(id);
            rest.remove_prefix(qe + 2);
        }
    }
    l.text = std::string(rest);
    return l;
}

std::optional<Delivery> parse_delivery(std::string_view line) {
    auto l = parse_log_line(line);
    if (!l || l->queue_id.empty() || l->text.rfind("to=<", 0) != 0) return std::nullopt;
    size_t st = l->text.find(", status=");
    if (st == std::string::npos) return std::nullopt;
    Delivery d;
    d.program = l->program;
    d.queue_id = l->queue_id;
    d.to = field(l->text, "to=");
    d.orig_to = field(l->text, "orig_to=");
    d.relay = field(l->text, "relay=");
    d.dsn = field(l->text, "dsn=");
    d.status = field(l->text, "status=");
    size_t open = l->text.find(" (", st);
    if (open != std::string::npos) {
        d.detail = l->text.substr(open + 2);
        if (!d.detail.empty() && d.detail.back() == ')') d.detail.pop_back();
    }
    d.line = std::string(line);
    return d;
}

std::vector<QueueEntry> parse_postqueue_json(std::string_view text) {
    std::vector<QueueEntry> out;
    size_t pos = 0;
    while (pos < text.size() && out.size() < 100000) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = text.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        QueueEntry e;
        try {
            if (line.size() > (1u << 20)) throw std::runtime_error("line too long");
            Json j = JsonReader(line).document();
            if (j.type != Json::Type::Object) throw std::runtime_error("not an object");
            e.queue_name = str_of(j, "queue_name");
            e.queue_id = str_of(j, "queue_id");
            e.sender = str_of(j, "sender");
            e.arrival_time = num_of(j, "arrival_time");
            e.message_size = num_of(j, "message_size");
            if (const Json* f = j.get("forced_expire")) e.forced_expire = f->b;
            if (const Json* rs = j.get("recipients"); rs && rs->type == Json::Type::Array)
                for (const Json& r : rs->arr)
                    e.recipients.push_back({str_of(r, "address"), str_of(r, "delay_reason")});
        } catch (const std::exception& ex) {
            e = QueueEntry{};
            e.parse_error = ex.what();
        }
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace harness
