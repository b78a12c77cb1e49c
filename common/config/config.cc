// config.cc - see config.h
#include "common/config/config.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "common/config/syntax.h"
#include "common/sys/fd.h"
#include "common/sys/ascii.h"

namespace config {
namespace {

size_t index_of(const Param* p) { return static_cast<size_t>(p - params().data()); }

// Indexes of params() in name order.
std::vector<size_t> by_name() {
    std::vector<size_t> order(params().size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [](size_t a, size_t b) { return params()[a].name < params()[b].name; });
    return order;
}

}  // namespace

std::string default_config_path() {
    const char* env = std::getenv("SENDGUARD_CONFIG");
    if (env && *env) return env;
    // The compiled-in default of config_directory (SENDGUARD_SYSCONFDIR).
    return std::string(find_param("config_directory")->default_value) + "/sendguard.conf";
}

Config Config::defaults() { return parse("", "default"); }

Config Config::load(const std::string& path, const std::vector<std::string>& overrides) {
    std::string text;
    try {
        text = sys::read_file(path, kMaxText + 1);  // one byte more tells "too large"
    } catch (const std::system_error& e) {
        throw Error(e.what());  // "open /etc/sendguard/sendguard.conf: No such file or directory"
    }
    return parse(text, path, overrides);
}

namespace {

// Levenshtein distance, capped: names are short (<= 64 bytes).
size_t distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t up = row[j];
            size_t lower = sys::ascii_lower(a[i - 1]) == sys::ascii_lower(b[j - 1]) ? 0 : 1;
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + lower});
            diag = up;
        }
    }
    return row[b.size()];
}

// " (did you mean NAME?)" for a near miss, else where to find the names.
std::string unknown_hint(std::string_view name) {
    if (name.size() > 64) return " (run \"sendguard config -d\" for the parameter names)";
    const Param* best = nullptr;
    size_t best_d = 4;
    for (const Param& p : params()) {
        size_t d = distance(name, p.name);
        if (d < best_d) {
            best_d = d;
            best = &p;
        }
    }
    if (best) return " (did you mean " + std::string(best->name) + "?)";
    return " (run \"sendguard config -d\" for the parameter names)";
}

}  // namespace

Config Config::parse(std::string_view text, std::string_view origin, const std::vector<std::string>& overrides) {
    Config c;
    c.entries_.resize(params().size());
    for (size_t i = 0; i < params().size(); ++i) {
        c.entries_[i].raw = params()[i].default_value;
        c.entries_[i].origin = "default";
    }

    std::vector<size_t> set_order;  // parameters in the order they were set
    auto assign = [&](Assignment&& a, const std::string& where, bool warn) {
        const Param* p = find_param(a.name);
        if (!p) throw Error(where + ": unknown parameter: " + quote_value(a.name) + unknown_hint(a.name));
        Entry& e = c.entries_[index_of(p)];
        if (e.set && warn)
            c.warnings_.push_back(where + ": overriding earlier entry: " + a.name + "=" + quote_value(e.raw) +
                                  " (" + e.origin + ")");
        e.raw = std::move(a.value);
        e.origin = where;
        e.set = true;
        set_order.push_back(index_of(p));
    };
    for (Assignment& a : read_assignments(text, origin)) {
        const std::string where = std::string(origin) + ":" + std::to_string(a.line);
        assign(std::move(a), where, true);
    }
    for (const std::string& o : overrides) assign(read_override(o), "-o", false);

    // Values that were set are checked first, in file order, so an error
    // points at a line the user wrote rather than at a default that
    // refers to it.
    for (size_t i = 0; i < params().size(); ++i) set_order.push_back(i);
    c.finalise(origin, set_order);
    return c;
}

void Config::finalise(std::string_view origin, const std::vector<size_t>& order) {
    std::vector<std::string> raw;
    raw.reserve(entries_.size());
    for (const Entry& e : entries_) raw.push_back(e.raw);
    // A default has no line of its own; it is blamed on the file as a whole.
    auto where = [this, origin](size_t i) {
        return entries_[i].set ? entries_[i].origin : std::string(origin);
    };
    Expander expander(raw, where);
    std::vector<bool> done(entries_.size());
    for (size_t i : order) {
        if (done[i]) continue;
        done[i] = true;
        Entry& e = entries_[i];
        e.expanded = expander.get(i);
        e.refs = expander.refs(i);
        std::string why;
        auto v = convert(params()[i], e.expanded, why);
        if (!v)
            throw Error(where(i) + ": invalid " + std::string(params()[i].name) + ": " + quote_value(e.expanded) +
                        " (" + why + ")");
        e.value = std::move(*v);
    }
}

const std::string& Config::str(TextKey key) const { return read(key).expanded; }
long long Config::integer(Key<Type::Int> key) const { return std::get<long long>(read(key).value); }
bool Config::boolean(Key<Type::Bool> key) const { return std::get<bool>(read(key).value); }
std::chrono::seconds Config::duration(Key<Type::Duration> key) const {
    return std::get<std::chrono::seconds>(read(key).value);
}
uint64_t Config::size(Key<Type::Size> key) const { return std::get<uint64_t>(read(key).value); }
Rate Config::rate(Key<Type::Rate> key) const { return std::get<Rate>(read(key).value); }
char Config::character(Key<Type::Char> key) const { return std::get<char>(read(key).value); }
const std::vector<std::string>& Config::list(Key<Type::List> key) const {
    return std::get<std::vector<std::string>>(read(key).value);
}
unsigned Config::mode(Key<Type::Mode> key) const { return std::get<unsigned>(read(key).value); }
const DurationMap& Config::duration_map(Key<Type::DurationMap> key) const {
    return std::get<DurationMap>(read(key).value);
}

void Config::check_map_keys(Key<Type::DurationMap> key, const std::function<bool(std::string_view)>& known,
                            std::string_view hint) const {
    for (const auto& [k, v] : duration_map(key).entries)
        if (!known(k))
            throw Error((entry(key).set ? entry(key).origin : std::string("default")) + ": invalid " +
                        std::string(key.name()) + ": unknown key " + k + " (" + std::string(hint) + ")");
}

Config Config::tracked(std::shared_ptr<ReadLog> log) const {
    Config c(*this);
    c.reads_ = std::move(log);
    return c;
}

void Config::note_read(size_t i) const noexcept {
    // Expansion chains are acyclic (a loop fails finalise()) and short.
    if (reads_->read_[i].exchange(true, std::memory_order_relaxed)) return;
    for (size_t r : entries_[i].refs) note_read(r);
}

std::vector<std::string_view> ReadLog::names() const {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < read_.size(); ++i)
        if (read_[i].load(std::memory_order_relaxed)) out.push_back(params()[i].name);
    return out;
}

void ReadLog::clear() noexcept {
    for (auto& r : read_) r.store(false, std::memory_order_relaxed);
}

bool Config::is_default(AnyKey key) const { return !entry(key).set; }

std::string Config::origin_of(AnyKey key) const { return entry(key).origin; }

std::string Config::dump(DumpMode mode, bool expand) const {
    if (mode == DumpMode::Defaults && expand) return defaults().dump(DumpMode::All, true);
    std::string out;
    for (size_t i : by_name()) {
        const Entry& e = entries_[i];
        if (mode == DumpMode::NonDefault && !e.set) continue;
        std::string_view value = mode == DumpMode::Defaults ? params()[i].default_value
                                 : expand                   ? std::string_view(e.expanded)
                                                            : std::string_view(e.raw);
        out.append(params()[i].name);
        out.append(value.empty() ? " =" : " = ");
        out.append(value);
        out += '\n';
    }
    return out;
}

}  // namespace config
