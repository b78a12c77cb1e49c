// params.cc - lookups over the parameter table (rows in param_table.h)
#include "common/config/params.h"

#include <algorithm>
#include <array>

namespace config {
namespace {

using table::kParams;

constexpr size_t kCount = std::size(kParams);

// Indexes of kParams sorted by name, for binary search.
const std::array<unsigned short, kCount>& sorted_index() {
    static const auto index = [] {
        std::array<unsigned short, kCount> a{};
        for (size_t i = 0; i < kCount; ++i) a[i] = static_cast<unsigned short>(i);
        std::sort(a.begin(), a.end(),
                  [](unsigned short x, unsigned short y) { return kParams[x].name < kParams[y].name; });
        return a;
    }();
    return index;
}

}  // namespace

std::span<const Param> params() { return kParams; }

const Param* find_param(std::string_view name) {
    const auto& index = sorted_index();
    auto it = std::lower_bound(index.begin(), index.end(), name,
                               [](unsigned short i, std::string_view n) { return kParams[i].name < n; });
    if (it == index.end() || kParams[*it].name != name) return nullptr;
    return &kParams[*it];
}

std::string_view type_name(Type type) {
    switch (type) {
    case Type::String: return "string";
    case Type::Path: return "path";
    case Type::Bool: return "boolean";
    case Type::Int: return "integer";
    case Type::Duration: return "duration";
    case Type::Size: return "size";
    case Type::Rate: return "rate";
    case Type::Char: return "character";
    case Type::List: return "list";
    case Type::Mode: return "octal mode";
    case Type::DurationMap: return "duration map";
    }
    return "unknown";
}

std::string_view program_name(User user) {
    switch (user) {
    case kMilter: return "sendguard-milter";
    case kPolicyd: return "sendguard-policyd";
    case kBounce: return "sendguard-bounce";
    case kCli: return "sendguard";
    default: return "";
    }
}

}  // namespace config
