// names.cc - stable lower-case names of the dsn enums (log keys, store records)
#include <array>

#include "common/dsn/dsn.h"
#include "common/dsn/text.h"

namespace dsn {

namespace {

constexpr std::array<std::string_view, 5> kKinds = {"none", "dsn", "arf", "autoreply", "ndr"};
constexpr std::array<std::string_view, 6> kActions = {"none", "failed", "delayed",
                                                      "delivered", "relayed", "expanded"};
constexpr std::array<std::string_view, 5> kClasses = {"hard", "soft", "complaint",
                                                      "autoreply", "other"};
constexpr std::array<std::string_view, 23> kReasons = {
    "userunknown", "hostunknown", "mailboxfull", "mesgtoobig", "filtered", "blocked",
    "spamdetected", "policyviolation", "ratelimited", "expired", "systemerror",
    "networkerror", "securityerror", "norelaying", "suspend", "hasmoved", "notaccept",
    "contenterror", "syntaxerror", "vacation", "feedback", "delivered", "undefined"};
static_assert(kReasons.size() == static_cast<size_t>(Reason::Undefined) + 1);

template <class Table, class E>
std::string_view name_of(const Table& t, E e) {
    auto i = static_cast<size_t>(e);
    return i < t.size() ? t[i] : std::string_view("unknown");
}

}  // namespace

std::string_view to_string(Kind k) { return name_of(kKinds, k); }
std::string_view to_string(Action a) { return name_of(kActions, a); }
std::string_view to_string(Class c) { return name_of(kClasses, c); }
std::string_view to_string(Reason r) { return name_of(kReasons, r); }

std::optional<Reason> reason_from_string(std::string_view name) {
    for (size_t i = 0; i < kReasons.size(); ++i)
        if (text::iequals(kReasons[i], text::trim(name))) return static_cast<Reason>(i);
    return std::nullopt;
}

}  // namespace dsn
