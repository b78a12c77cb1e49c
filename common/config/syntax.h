// syntax.h - main.cf-style logical lines and $name expansion
//
// read_assignments() splits a configuration text into `name = value`
// assignments exactly as Postfix reads main.cf (readlline(3)):
//   - empty and whitespace-only lines are ignored, and so are lines whose
//     first non-whitespace character is '#' (a '#' later in a line is text);
//   - a line that starts with whitespace continues the previous logical
//     line: the newline is deleted, the leading whitespace is kept;
//   - a logical line is `name = value`; whitespace around both is removed.
// A line may end in CRLF. Other control characters are rejected, and so are
// logical lines over kMaxLine bytes and texts over kMaxText bytes.
//
// Expander replaces $name, ${name} and $(name) in parameter values with the
// (recursively expanded) value of that parameter; $$ is a literal '$'.
// Results are memoised, so each value is expanded once; a loop
// (a = $b, b = $a) is an error naming the chain.
//
// Errors: config::Error whose message names the place ("file:line: ...").
// Thread safety: functions are reentrant; an Expander is used by one thread.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace config {

inline constexpr size_t kMaxLine = 64 * 1024;     // logical line, bytes
inline constexpr size_t kMaxValue = 64 * 1024;    // value after expansion
inline constexpr size_t kMaxText = 1024 * 1024;   // whole file

struct Assignment {
    std::string name;
    std::string value;
    unsigned line = 0;  // first physical line of the logical line
};

// Throws Error "origin:line: ..." for a syntax error. Names are not checked
// against the parameter table here.
std::vector<Assignment> read_assignments(std::string_view text, std::string_view origin);

// The logical lines of text as read_assignments() sees them (comments and
// blank lines skipped, continuation lines joined, CRLF taken), each with the
// number of its first physical line; main.cf and table files share it.
// Errors name origin:line: a control character, a logical line over
// max_line bytes ("line too long (max <max_line_text>)"), or a continuation
// line with nothing before it (orphan says what is missing).
void read_logical_lines(std::string_view text, std::string_view origin, size_t max_line,
                        std::string_view max_line_text, std::string_view orphan,
                        const std::function<void(std::string_view logical, unsigned first)>& each);

// Splits one -o override "name=value". Throws Error "-o: ...".
Assignment read_override(std::string_view text);

class Expander {
public:
    // raw[i] is the unexpanded value of params()[i]; where(i) names its
    // place for messages ("sendguard.conf:7", "-o", "default").
    Expander(const std::vector<std::string>& raw, std::function<std::string(size_t)> where);

    // The expanded value of params()[i]; throws Error.
    const std::string& get(size_t i);
    // The parameters params()[i] refers to directly ($name), once each;
    // valid after get(i).
    const std::vector<size_t>& refs(size_t i) const { return refs_[i]; }

private:
    enum class State : unsigned char { Todo, Busy, Done };
    [[noreturn]] void fail(size_t i, const std::string& why) const;
    void expand(size_t i);

    const std::vector<std::string>& raw_;
    std::function<std::string(size_t)> where_;
    std::vector<std::string> out_;
    std::vector<State> state_;
    std::vector<std::vector<size_t>> refs_;
    std::vector<size_t> stack_;  // parameters being expanded, outermost first
};

}  // namespace config
