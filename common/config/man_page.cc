// man_page.cc - sendguard.conf(5), generated from the parameter table
//
// The text is deterministic (no build date) and the same for every build:
// the checked-in man/sendguard.conf.5 must equal it, and a unit test says
// so. The configuration directory a build was made with
// (SENDGUARD_SYSCONFDIR, the default of config_directory) is not printed:
// the page names the usual /etc/sendguard and says a build may choose
// another.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"

namespace config {
namespace {

// The configuration directory the page names, whatever the build's.
constexpr std::string_view kPageSysconfdir = "/etc/sendguard";

// Escapes text for a roff text line: backslashes, and a leading '.' or '\''
// that would make it a request.
std::string text_line(std::string_view s) {
    std::string out;
    if (!s.empty() && (s.front() == '.' || s.front() == '\'')) out = "\\&";
    for (char c : s) {
        if (c == '\\') out += "\\e";
        else out += c;
    }
    return out;
}

// Text lines of at most about 80 bytes, broken between words.
std::string wrapped(std::string_view s) {
    constexpr size_t kWidth = 78;
    std::string out;
    while (s.size() > kWidth) {
        size_t cut = s.rfind(' ', kWidth);
        if (cut == std::string_view::npos || cut == 0) cut = s.find(' ');
        if (cut == std::string_view::npos) break;
        out += text_line(s.substr(0, cut)) + "\n";
        s.remove_prefix(cut + 1);
    }
    if (!s.empty()) out += text_line(s) + "\n";
    return out;
}

// Each sentence starts a new line, as mdoc wants ("new sentence, new line").
std::string sentences(std::string_view doc) {
    std::string out;
    size_t start = 0;
    for (size_t i = 0; i + 2 < doc.size(); ++i) {
        if ((doc[i] == '.' || doc[i] == '?' || doc[i] == '!') && doc[i + 1] == ' ' && doc[i + 2] >= 'A' &&
            doc[i + 2] <= 'Z') {
            out += wrapped(doc.substr(start, i + 1 - start));
            start = i + 2;
        }
    }
    out += wrapped(doc.substr(start));
    return out;
}

// A quoted macro argument: "" stands for a literal quote; \& keeps a lone
// punctuation character from being taken as a delimiter.
std::string quoted(std::string_view s) {
    std::string out = "\"\\&";
    for (char c : s) {
        if (c == '\\') out += "\\e";
        else if (c == '"') out += "\"\"";
        else out += c;
    }
    return out + "\"";
}

std::string plural(long long n, std::string_view word) {
    return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

// "from A to B", "at least A" or "" for the bounds of a numeric type.
template <class Fmt>
std::string bounds(const Param& p, Fmt fmt) {
    if (p.max == kNoLimit) return ", at least " + fmt(p.min);
    return ", from " + fmt(p.min) + " to " + fmt(p.max);
}

std::string count_bounds(const Param& p, std::string_view unit) {
    std::string s;
    if (p.min > 0) s += p.min == 1 ? ", not empty" : ", at least " + plural(p.min, unit);
    if (p.max != kNoLimit) s += ", at most " + plural(p.max, unit);
    return s;
}

std::string describe_type(const Param& p) {
    auto plain = [](long long v) { return std::to_string(v); };
    switch (p.type) {
    case Type::String: return "string" + count_bounds(p, "byte");
    case Type::Path: return std::string("absolute path") + (p.min == 0 ? " or empty" : "");
    case Type::Bool: return "boolean (yes or no)";
    case Type::Int: return "integer" + bounds(p, plain);
    case Type::Duration: return "duration" + bounds(p, format_duration);
    case Type::Size: return "size" + bounds(p, format_size);
    case Type::Rate: return "rate, count" + bounds(p, plain);
    case Type::Char: return "single character";
    case Type::List: return "list" + count_bounds(p, "element");
    case Type::DurationMap:
        return "duration map, each duration" + bounds(p, format_duration) + ", at most " +
               std::to_string(kMaxMapEntries) + " entries";
    case Type::Mode: {
        auto oct = [](long long v) {
            std::string s;
            do { s.insert(s.begin(), static_cast<char>('0' + (v & 7))); v >>= 3; } while (v);
            return "0" + s;
        };
        return "octal mode" + bounds(p, oct);
    }
    }
    return "unknown";
}

std::string used_by(unsigned users) {
    if ((users & kAll) == kAll) return "Used by all programs.\n";
    // The administration tool is a user command, section 1; daemons are in 8.
    std::vector<std::string> names;
    for (unsigned bit = 1; bit & kAll; bit <<= 1)
        if (users & bit)
            names.push_back(std::string(program_name(static_cast<User>(bit))) + (bit == kCli ? " 1" : " 8"));
    std::string out = "Used by\n";
    for (size_t i = 0; i < names.size(); ++i) {
        if (i + 1 == names.size() && i > 0) out += "and\n";
        out += ".Xr " + names[i];
        if (i + 1 == names.size()) out += " .";
        else if (names.size() > 2) out += " ,";
        out += "\n";
    }
    return out;
}

constexpr std::string_view kHead = R"(.\" sendguard.conf.5 - generated from common/config/param_table.h; do not edit.
.\" Change the table, then run: SENDGUARD_UPDATE_MAN=1 ctest -R unit.config
)";

constexpr std::string_view kDescription = R"(.Sh NAME
.Nm sendguard.conf
.Nd sendguard configuration parameters
.Sh DESCRIPTION
.Nm
configures all sendguard programs:
the milter
.Xr sendguard-milter 8 ,
the lookup daemon
.Xr sendguard-policyd 8
(policy service and socketmap maps), the
.Xr pipe 8
bounce transport
.Xr sendguard-bounce 8
and the administration tool
.Xr sendguard 1 .
They all read the same file, by default
.Pa @CONFIG@
(in the configuration directory chosen when the programs were built);
the environment variable
.Ev SENDGUARD_CONFIG
names another one.
A program uses only its own parameters, but every name in the file must be
one of those listed under
.Sx PARAMETERS :
an unknown name is an error.
.Pp
The syntax is that of the Postfix
.Pa main.cf
file
.Pq Xr postconf 5 :
.Bl -bullet
.It
A parameter is set with a line of the form
.Dl name = value
White space around the name and around the value is ignored.
.It
Empty lines and lines of only white space are ignored, and so are lines
whose first non-white-space character is
.Ql # .
A
.Ql #
anywhere else is part of the value.
.It
A line that starts with white space continues the previous line.
The newline is removed; the leading white space is kept.
.It
A value may refer to other parameters as
.Li $name ,
.Li ${name}
or
.Li $(name) ;
.Li $$
stands for a literal dollar sign.
References are expanded after the whole file has been read, against the
final value of each parameter, or its default when it is not set.
A reference to an unknown parameter, or a loop of references, is an error.
.It
When a parameter is set more than once, the last setting wins.
.It
Each program also accepts
.Fl o Ar name Ns = Ns Ar value
options, which override the file.
.El
.Pp
Values have one of these types:
.Bl -tag -width "duration map"
.It string
Any text.
.It path
An absolute file name; some paths may be empty.
.It boolean
.Ql yes
or
.Ql no ,
in any case.
.It integer
A decimal number.
.It duration
A number followed by a unit:
.Ql s
(seconds),
.Ql m
(minutes),
.Ql h
(hours),
.Ql d
(days) or
.Ql w
(weeks).
A number without a unit is seconds.
.It size
A number of bytes, optionally followed by
.Ql k ,
.Ql m
or
.Ql g
(units of 1024, 1024^2 and 1024^3 bytes).
.It rate
A count per unit of time, as
.Ql 5/s ,
.Ql 100/min ,
.Ql 1000/h
or
.Ql 10000/d .
.It character
A single printable character.
.It list
Elements separated by commas, white space or both.
.It octal mode
File permissions in octal, as
.Ql 0660 .
.It duration map
Entries of the form
.Ar key Ns = Ns Ar duration
separated by commas, white space or both, as
.Ql mailboxfull=14d, suspend=90d .
A key consists of lower-case letters, digits,
.Ql \&. ,
.Ql _
and
.Ql - ,
and may appear only once; which keys are accepted is said for each parameter.
.El
.Pp
Every value is checked when a program starts.
An error names the file, the line, the parameter and what is accepted,
for example:
.Dl sendguard.conf:12: invalid bounce_time_limit: 1000s (max 900s)
.Pp
.Ic sendguard config
prints the current settings, like
.Xr postconf 1 .
.Sh PARAMETERS
.Bl -tag -width Ds
)";

constexpr std::string_view kTail = R"(.El
.Sh FILES
.Bl -tag -width Ds
.It Pa @CONFIG@
The configuration file, unless the programs were built with another
configuration directory.
.El
.Sh SEE ALSO
.Xr sendguard 1 ,
.Xr master 5 ,
.Xr postconf 5 ,
.Xr sendguard-bounce 8 ,
.Xr sendguard-milter 8 ,
.Xr sendguard-policyd 8
)";

std::string substitute(std::string_view text) {
    const std::string config = std::string(kPageSysconfdir) + "/sendguard.conf";
    std::string out(text);
    for (size_t at; (at = out.find("@CONFIG@")) != std::string::npos;) out.replace(at, 8, config);
    return out;
}

}  // namespace

std::string man_page() { return man_page(params()); }

std::string man_page(std::span<const Param> table) {
    std::string out(kHead);
    // $Mdocdate$: the date the page is rendered, no hand-kept date to forget.
    out += ".Dd $Mdocdate$\n.Dt SENDGUARD.CONF 5\n.Os\n";
    out += substitute(kDescription);

    std::vector<const Param*> sorted;
    for (const Param& p : table) sorted.push_back(&p);
    std::sort(sorted.begin(), sorted.end(), [](const Param* a, const Param* b) { return a->name < b->name; });

    for (const Param* p : sorted) {
        out += ".It Va " + std::string(p->name) + "\n";
        out += sentences(p->doc);
        out += ".Pp\nType: " + describe_type(*p) + ".\n";
        if (p->name == "config_directory")
            out += "Default:\n.Ql " + quoted(kPageSysconfdir) +
                   " ,\nor the configuration directory chosen when the programs were built.\n";
        else if (p->default_value.empty()) out += "Default: empty.\n";
        else out += "Default:\n.Ql " + quoted(p->default_value) + " .\n";
        out += used_by(p->users);
    }
    out += substitute(kTail);
    return out;
}

}  // namespace config
