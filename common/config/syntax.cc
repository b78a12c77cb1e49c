// syntax.cc - see syntax.h
#include "common/config/syntax.h"

#include <algorithm>

#include "common/config/error.h"
#include "common/config/params.h"
#include "common/config/value.h"
#include "common/sys/ascii.h"

namespace config {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_name_char(char c) {
    return sys::is_alnum(c) || c == '_';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

std::string at(std::string_view origin, unsigned line) {
    return std::string(origin) + ":" + std::to_string(line);
}

// Splits "name = value"; `where` prefixes error messages.
Assignment split_assignment(std::string_view text, const std::string& where) {
    size_t eq = text.find('=');
    if (eq == std::string_view::npos)
        throw Error(where + ": syntax error: expected \"name = value\", got \"" + quote_value(text) + "\"");
    std::string_view name = trim(text.substr(0, eq));
    if (name.empty()) throw Error(where + ": syntax error: missing parameter name before '='");
    for (char c : name)
        if (is_blank(c))
            throw Error(where + ": syntax error: bad parameter name \"" + quote_value(name) + "\"");
    return Assignment{std::string(name), std::string(trim(text.substr(eq + 1))), 0};
}

}  // namespace

std::vector<Assignment> read_assignments(std::string_view text, std::string_view origin) {
    if (text.size() > kMaxText)
        throw Error(std::string(origin) + ": file too large (max " + format_size(kMaxText) + ")");

    std::vector<Assignment> out;
    read_logical_lines(text, origin, kMaxLine, format_size(kMaxLine),
                       "syntax error: continuation line without a preceding \"name = value\" line",
                       [&](std::string_view logical, unsigned first) {
                           Assignment a = split_assignment(logical, at(origin, first));
                           a.line = first;
                           out.push_back(std::move(a));
                       });
    return out;
}

void read_logical_lines(std::string_view text, std::string_view origin, size_t max_line,
                        std::string_view max_line_text, std::string_view orphan,
                        const std::function<void(std::string_view, unsigned)>& each) {
    std::string logical;       // the logical line being collected
    unsigned first = 0;        // its first line number; 0 = none
    auto flush = [&] {
        if (first == 0) return;
        each(logical, first);
        logical.clear();
        first = 0;
    };

    unsigned lineno = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        for (char c : line) {
            auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7f)
                throw Error(at(origin, lineno) + ": control character in line");
        }
        std::string_view content = trim(line);
        if (content.empty() || content.front() == '#') continue;  // blank or comment
        if (is_blank(line.front())) {
            if (first == 0) throw Error(at(origin, lineno) + ": " + std::string(orphan));
        } else {
            flush();
            first = lineno;
        }
        if (logical.size() + line.size() > max_line)
            throw Error(at(origin, first) + ": line too long (max " + std::string(max_line_text) + ")");
        logical.append(line);
    }
    flush();
}

Assignment read_override(std::string_view text) {
    if (text.size() > kMaxLine) throw Error("-o: override too long (max " + format_size(kMaxLine) + ")");
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) throw Error("-o: control character in override");
    }
    return split_assignment(text, "-o");
}

Expander::Expander(const std::vector<std::string>& raw, std::function<std::string(size_t)> where)
    : raw_(raw), where_(std::move(where)), out_(raw.size()), state_(raw.size(), State::Todo), refs_(raw.size()) {}

const std::string& Expander::get(size_t i) {
    if (state_.at(i) != State::Done) expand(i);
    return out_[i];
}

void Expander::fail(size_t i, const std::string& why) const {
    throw Error(where_(i) + ": invalid " + std::string(params()[i].name) + ": " + quote_value(raw_[i]) +
                " (" + why + ")");
}

void Expander::expand(size_t i) {
    if (state_[i] == State::Busy) {
        // The loop runs from the first occurrence of i on the stack to i.
        size_t from = 0;
        while (stack_[from] != i) ++from;
        std::string chain;
        for (size_t k = from; k < stack_.size(); ++k) chain += "$" + std::string(params()[stack_[k]].name) + " -> ";
        chain += "$" + std::string(params()[i].name);
        fail(stack_[from], "recursive expansion: " + chain);
    }
    state_[i] = State::Busy;
    stack_.push_back(i);

    const std::string_view in = raw_[i];
    std::string out;
    for (size_t k = 0; k < in.size();) {
        if (in[k] != '$') {
            size_t next = in.find('$', k);
            if (next == std::string_view::npos) next = in.size();
            out.append(in.substr(k, next - k));
            k = next;
        } else if (k + 1 < in.size() && in[k + 1] == '$') {
            out += '$';
            k += 2;
        } else {
            // $name, ${name} or $(name)
            size_t start = k + 1;
            char close = 0;
            if (start < in.size() && (in[start] == '{' || in[start] == '(')) {
                close = in[start] == '{' ? '}' : ')';
                ++start;
            }
            size_t end = start;
            while (end < in.size() && is_name_char(in[end])) ++end;
            std::string_view name = in.substr(start, end - start);
            if (name.empty()) {
                if (close) fail(i, "bad parameter reference; expected ${name}");
                fail(i, "stray '$'; write $$ for a literal '$'");
            }
            if (close) {
                if (end >= in.size() || in[end] != close)
                    fail(i, std::string("bad parameter reference; missing '") + close + "' after $" +
                                (close == '}' ? "{" : "(") + std::string(name));
                ++end;
            }
            const Param* p = find_param(name);
            if (!p) fail(i, "unknown parameter $" + std::string(name));
            const size_t j = static_cast<size_t>(p - params().data());
            out += get(j);
            if (std::find(refs_[i].begin(), refs_[i].end(), j) == refs_[i].end()) refs_[i].push_back(j);
            k = end;
        }
        if (out.size() > kMaxValue) fail(i, "expanded value longer than " + format_size(kMaxValue));
    }

    stack_.pop_back();
    out_[i] = std::move(out);
    state_[i] = State::Done;
}

}  // namespace config
