// record_format.cc - see record_format.h
#include "common/store/record_format.h"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "common/log/json.h"

namespace store {
namespace {

const char* const kColumns[] = {"address", "suppressed", "class", "reason", "status",
                                "source", "first_seen", "last_seen", "count", "expiry",
                                "remote_mta", "diagnostic", "evidence", "first_seen_iso",
                                "last_seen_iso", "expiry_iso", "message_id", "headers"};

// A CSV export is often opened in a spreadsheet, which reads a field that
// starts with = + - @ (or tab, CR) as a formula. Every text field, the
// address included (a local part may be "=1+2", a domain key starts with
// "@"), that starts with one of them, or with the quote itself, gets a "'"
// in front; import takes exactly one off a field that starts with "'" and
// then one of those characters. So export and import round-trip every value,
// and a hand-written "'bob@example.com" stays as written.
bool needs_quote_mark(std::string_view s) {
    return !s.empty() && std::string_view("=+-@\t\r'").find(s.front()) != std::string_view::npos;
}

void csv_field(std::string& out, std::string_view s) {
    // Blanks at either end are quoted too: import trims unquoted ones.
    if (s.find_first_of(",\"\r\n") == std::string_view::npos &&
        (s.empty() || (s.front() != ' ' && s.back() != ' ' && s.back() != '\t'))) {
        out.append(s);
        return;
    }
    out += '"';
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

void csv_text(std::string& out, std::string_view s) {
    if (needs_quote_mark(s)) csv_field(out, "'" + std::string(s));
    else csv_field(out, s);
}

// The value csv_text() was given for a field it wrote.
std::string csv_untext(const std::string& field) {
    if (field.size() > 1 && field[0] == '\'' && needs_quote_mark(std::string_view(field).substr(1)))
        return field.substr(1);
    return field;
}

std::optional<long long> to_int(std::string_view s) {
    long long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

// A tiny reader for the flat JSON objects record_json() writes: string,
// number and boolean values, no nesting. Enough to read an export back.
std::optional<std::vector<std::pair<std::string, std::string>>> flat_json(std::string_view s) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t i = 0;
    auto ws = [&] { while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i; };
    auto str = [&](std::string& v) -> bool {
        if (i >= s.size() || s[i] != '"') return false;
        for (++i; i < s.size(); ++i) {
            char c = s[i];
            if (c == '"') { ++i; return true; }
            if (c == '\\') {
                if (++i >= s.size()) return false;
                switch (s[i]) {
                case 'n': v += '\n'; break;
                case 't': v += '\t'; break;
                case 'r': v += '\r'; break;
                case 'u': {
                    if (i + 4 >= s.size()) return false;
                    unsigned cp = 0;
                    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 5, cp, 16);
                    if (ec != std::errc() || p != s.data() + i + 5) return false;
                    if (cp < 0x80) v += static_cast<char>(cp); else v += '?';
                    i += 4;
                    break;
                }
                default: v += s[i];
                }
            } else {
                v += c;
            }
        }
        return false;
    };
    ws();
    if (i >= s.size() || s[i++] != '{') return std::nullopt;
    for (;;) {
        ws();
        if (i < s.size() && s[i] == '}') return out;
        std::string k, v;
        if (!str(k)) return std::nullopt;
        ws();
        if (i >= s.size() || s[i++] != ':') return std::nullopt;
        ws();
        if (i < s.size() && s[i] == '"') {
            if (!str(v)) return std::nullopt;
        } else if (i < s.size() && s[i] == '{') {
            // A nested object ("headers") is kept as its text, read by
            // whoever takes the field.
            const size_t from = i;
            int depth = 0;
            bool in_str = false;
            for (; i < s.size(); ++i) {
                if (in_str) {
                    if (s[i] == '\\') ++i;
                    else if (s[i] == '"') in_str = false;
                } else if (s[i] == '"') {
                    in_str = true;
                } else if (s[i] == '{') {
                    ++depth;
                } else if (s[i] == '}' && --depth == 0) {
                    ++i;
                    break;
                }
            }
            if (depth != 0) return std::nullopt;
            v.assign(s.substr(from, i - from));
        } else {
            while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ' ') v += s[i++];
        }
        out.emplace_back(std::move(k), std::move(v));
        ws();
        if (i < s.size() && s[i] == ',') { ++i; continue; }
        if (i < s.size() && s[i] == '}') return out;
        return std::nullopt;
    }
}

// Applies one named field to a record; false when the value is unusable.
bool apply(Record& r, std::string& address, bool& has_class, std::string_view k,
           const std::string& v) {
    auto num = [&](auto& field) {
        auto n = to_int(v);
        if (!n) return false;
        field = static_cast<std::remove_reference_t<decltype(field)>>(*n);
        return true;
    };
    if (k == "address") address = v;
    else if (k == "suppressed") r.suppressed = (v == "true" || v == "1" || v == "yes");
    else if (k == "class") {
        has_class = true;
        auto c = parse_class(v);
        if (!c) return false;
        r.klass = *c;
    } else if (k == "source") {
        auto s = parse_source(v);
        if (!s) return false;
        r.source = *s;
    }
    // Text fields come from a file anyone may have written: stored like a
    // remote server's text, so no listing carries a terminal escape.
    else if (k == "reason") r.reason = clean_remote_text(v, kMaxDiagnostic);
    else if (k == "status") r.status = clean_remote_text(v, kMaxDiagnostic);
    else if (k == "remote_mta") r.remote_mta = clean_remote_text(v, kMaxDiagnostic);
    else if (k == "diagnostic") r.diagnostic = clean_remote_text(v, kMaxDiagnostic);
    else if (k == "evidence") r.evidence = clean_remote_text(v, kMaxDiagnostic);
    else if (k == "message_id") r.message_id = clean_remote_text(v, kMaxMessageId);
    else if (k == "headers") {
        if (v.empty()) return true;
        auto h = parse_headers_json(v);
        if (!h) return false;
        r.headers = std::move(*h);
    }
    else if (k == "first_seen") return v.empty() || num(r.first_seen);
    else if (k == "last_seen") return v.empty() || num(r.last_seen);
    else if (k == "count") return v.empty() || num(r.count);
    else if (k == "expiry") return v.empty() || num(r.expiry);
    // The *_iso fields repeat the epoch ones for people; they are read only
    // where the epoch field is absent or empty (a file written by hand or
    // by another tool), so a file that carries both reads as its numbers.
    else if (k == "first_seen_iso" || k == "last_seen_iso" || k == "expiry_iso") {
        if (v.empty()) return true;
        auto t = parse_iso_time(v);
        if (!t) return false;
        int64_t& field = k == "first_seen_iso" ? r.first_seen : k == "last_seen_iso" ? r.last_seen : r.expiry;
        if (field == 0) field = *t;
        return true;
    }
    return true;  // unknown columns are ignored: exports of newer versions import
}

}  // namespace

std::string headers_json(const std::vector<std::pair<std::string, std::string>>& headers) {
    logging::JsonObject o;
    for (const auto& [name, value] : headers) o.add(name, value);
    return o.str();
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_headers_json(std::string_view s) {
    auto kv = flat_json(s);
    if (!kv) return std::nullopt;
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& [name, value] : *kv) {
        if (out.size() >= kMaxHeaders) break;
        out.emplace_back(clean_remote_text(name, kMaxHeaderName), clean_remote_text(value, kMaxHeaderValue));
    }
    return out;
}

std::string iso_time(int64_t t) {
    using namespace std::chrono;
    const sys_seconds tp{seconds(t)};
    const auto day = floor<days>(tp);
    const year_month_day ymd{day};
    const hh_mm_ss hms{tp - day};
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long long>(hms.hours().count()), static_cast<long long>(hms.minutes().count()),
                  static_cast<long long>(hms.seconds().count()));
    return buf;
}

std::optional<int64_t> parse_iso_time(std::string_view s) {
    // Exactly what iso_time() writes: YYYY-MM-DDTHH:MM:SSZ (RFC 3339 §5.6,
    // UTC, no fraction).
    if (s.size() != 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':' || (s[19] != 'Z' && s[19] != 'z'))
        return std::nullopt;
    auto part = [&](size_t at, size_t n) -> std::optional<int> {
        int v = 0;
        for (size_t i = at; i < at + n; ++i) {
            if (s[i] < '0' || s[i] > '9') return std::nullopt;
            v = v * 10 + (s[i] - '0');
        }
        return v;
    };
    auto y = part(0, 4), mo = part(5, 2), d = part(8, 2), h = part(11, 2), mi = part(14, 2), se = part(17, 2);
    if (!y || !mo || !d || !h || !mi || !se || *h > 23 || *mi > 59 || *se > 59) return std::nullopt;
    using namespace std::chrono;
    const year_month_day ymd{year(*y), month(static_cast<unsigned>(*mo)), day(static_cast<unsigned>(*d))};
    if (!ymd.ok()) return std::nullopt;
    const sys_seconds tp = sys_days(ymd) + hours(*h) + minutes(*mi) + seconds(*se);
    return static_cast<int64_t>(tp.time_since_epoch().count());
}

std::string record_json(std::string_view key, const Record& r, int64_t now) {
    logging::JsonObject o;
    o.add("address", key)
        .add("suppressed", r.active(now))
        .add("class", to_string(r.klass))
        .add("reason", r.reason)
        .add("status", r.status)
        .add("source", to_string(r.source))
        .add("first_seen", static_cast<long long>(r.first_seen))
        .add("last_seen", static_cast<long long>(r.last_seen))
        .add("count", static_cast<long long>(r.count))
        .add("expiry", static_cast<long long>(r.expiry))
        .add("remote_mta", r.remote_mta)
        .add("diagnostic", r.diagnostic)
        .add("evidence", r.evidence)
        .add("first_seen_iso", r.first_seen ? iso_time(r.first_seen) : std::string())
        .add("last_seen_iso", r.last_seen ? iso_time(r.last_seen) : std::string())
        .add("expiry_iso", r.expiry ? iso_time(r.expiry) : std::string())
        .add("message_id", r.message_id)
        .add_raw("headers", headers_json(r.headers));
    return o.str();
}

std::string csv_header() {
    std::string out;
    for (const char* c : kColumns) {
        if (!out.empty()) out += ',';
        out += c;
    }
    return out;
}

std::string record_csv(std::string_view key, const Record& r, int64_t now) {
    std::string out;
    auto f = [&](std::string_view v) {
        if (!out.empty()) out += ',';
        csv_text(out, v);
    };
    out.reserve(128);
    csv_text(out, key);
    f(r.active(now) ? "true" : "false");
    f(to_string(r.klass));
    f(r.reason);
    f(r.status);
    f(to_string(r.source));
    f(std::to_string(r.first_seen));
    f(std::to_string(r.last_seen));
    f(std::to_string(r.count));
    f(std::to_string(r.expiry));
    f(r.remote_mta);
    f(r.diagnostic);
    f(r.evidence);
    f(r.first_seen ? iso_time(r.first_seen) : std::string());
    f(r.last_seen ? iso_time(r.last_seen) : std::string());
    f(r.expiry ? iso_time(r.expiry) : std::string());
    f(r.message_id);
    f(r.headers.empty() ? std::string() : headers_json(r.headers));
    return out;
}

std::optional<std::vector<std::string>> split_csv(std::string_view line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < line.size() && line[i + 1] == '"') {
                    out.back() += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                out.back() += c;
            }
        } else if (c == '"' && out.back().empty()) {
            quoted = true;
        } else if (c == ',') {
            out.emplace_back();
        } else if (c != '\r') {
            out.back() += c;
        }
    }
    if (quoted) return std::nullopt;
    return out;
}

std::string_view strip_bom(std::string_view line) noexcept {
    if (line.starts_with(kUtf8Bom)) line.remove_prefix(kUtf8Bom.size());
    return line;
}

ImportLine parse_import_line(ImportFormat f, std::string_view line,
                             const std::vector<std::string>& columns) {
    ImportLine out;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string_view::npos || line[b] == '#') {
        out.skip = true;
        return out;
    }
    line.remove_prefix(b);
    if (f == ImportFormat::Plain) {
        out.address = std::string(line);
        return out;  // bare
    }
    Record r;
    r.klass = Class::Manual;
    r.source = Source::Import;
    r.suppressed = true;
    bool has_class = false;
    if (f == ImportFormat::Json) {
        auto kv = flat_json(line);
        if (!kv) {
            out.error = "not a JSON object";
            return out;
        }
        for (auto& [k, v] : *kv)
            if (!apply(r, out.address, has_class, k, v)) {
                out.error = "bad value for \"" + k + "\": " + v;
                return out;
            }
    } else {
        auto fields = split_csv(line);
        if (!fields) {
            out.error = "unterminated quoted field";
            out.incomplete = true;
            return out;
        }
        if (columns.empty()) {  // this is the header line
            out.skip = true;
            return out;
        }
        for (size_t i = 0; i < fields->size() && i < columns.size(); ++i)
            if (!apply(r, out.address, has_class, columns[i], csv_untext((*fields)[i]))) {
                out.error = "bad value in column " + columns[i] + ": " + (*fields)[i];
                return out;
            }
    }
    if (out.address.empty()) {
        out.error = "no address";
        return out;
    }
    out.bare = !has_class;
    out.record = std::move(r);
    return out;
}

}  // namespace store
