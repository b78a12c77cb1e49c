// align.cc - see align.h
#include "common/mailauth/align.h"

#include <string>

#include "common/sys/ascii.h"

namespace mailauth {
namespace {

std::string_view without_dot(std::string_view d) {
    if (!d.empty() && d.back() == '.') d.remove_suffix(1);
    return d;
}

}  // namespace

std::string_view to_string(AlignMode m) noexcept { return m == AlignMode::Strict ? "s" : "r"; }

bool aligned(AlignMode mode, std::string_view auth_domain, std::string_view from_domain, const Psl& psl) {
    const std::string_view a = without_dot(auth_domain), f = without_dot(from_domain);
    if (a.empty() || f.empty()) return false;
    if (mode == AlignMode::Strict) return sys::iequals(a, f);
    return psl.organisational_domain(a) == psl.organisational_domain(f);
}

}  // namespace mailauth
