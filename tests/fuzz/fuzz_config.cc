// fuzz_config.cc - Config::parse over arbitrary text
//
// Any input must either parse or throw config::Error; anything else (a
// crash, a sanitizer report, std::logic_error) is a bug. When the first line
// starts with "-o ", the rest of it is used as an override, so overrides
// are fuzzed too. A parsed configuration must dump and parse back. The same
// text is also read as a table file (table_file.h), whose entries must
// stay within its limits and be found by their keys.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/config/table_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> overrides;
    if (text.starts_with("-o ")) {
        size_t nl = text.find('\n');
        overrides.emplace_back(text.substr(3, nl == std::string_view::npos ? std::string_view::npos : nl - 3));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
    try {
        const config::Config c = config::Config::parse(text, "fuzz", overrides);
        const std::string all = c.dump(config::DumpMode::All);
        (void)c.dump(config::DumpMode::NonDefault, true);
        // Round trip: the dump of a valid configuration is a valid file
        // describing the same configuration.
        const config::Config again = config::Config::parse(all, "dump");
        if (again.dump(config::DumpMode::All) != all) std::abort();
    } catch (const config::Error&) {
    }
    try {
        const config::TableLimits lim{.max_line = 512, .max_key = 64, .max_entries = 100, .max_bytes = 64 * 1024};
        const config::TableFile t = config::TableFile::parse(text, "fuzz", lim);
        if (t.entries().size() > lim.max_entries) std::abort();
        for (const auto& e : t.entries()) {
            if (e.key.empty() || e.value.empty() || e.key.size() > lim.max_key || t.find(e.key) != &e) std::abort();
        }
    } catch (const config::Error&) {
    }
    return 0;
}
