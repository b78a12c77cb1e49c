// config.h - sendguard.conf, loaded once, validated once, read cheaply
//
// One configuration file in Postfix main.cf syntax (see syntax.h) sets the
// parameters declared in param_table.h; unset parameters keep their defaults.
// $name expansion is done when the configuration is finalised, against
// the other parameters' final values (file, -o overrides, else default).
// Every value is then converted to its type and checked against its bounds
// once, so the getters below only look a value up.
//
//     config::Config cfg = config::Config::load(config::default_config_path(), overrides);
//     std::chrono::seconds limit = cfg.duration("bounce_time_limit");
//
// Assigning a parameter twice is allowed (the last one wins, as in Postfix);
// warnings() reports it. -o overrides ("name=value") win over the file.
//
// Errors: load()/parse() throw config::Error with a complete message,
//     sendguard.conf:12: invalid bounce_time_limit: 1000s (max 900s)
//     sendguard.conf:3: unknown parameter: bounce_tim_limit
// Getters take a config::Key (params.h): an undeclared name or a getter of
// the wrong type does not compile.
//
// Read tracking, for the test that keeps the table's "used by" column true:
//     auto log = std::make_shared<config::ReadLog>();
//     const config::Config tracked = cfg.tracked(log);
//     bounce::Settings::from(tracked);   // log->was_read(...) for each key
// A typed getter (str, integer, ...) records its parameter and every
// parameter its value was expanded from ($state_directory in
// bounce_quarantine_directory). is_default(), origin_of() and dump() do not
// count. An untracked Config pays one null-pointer test per getter.
// Thread safety: a Config is immutable after construction; share it as
// std::shared_ptr<const Config> and read it from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/error.h"
#include "common/config/params.h"
#include "common/config/value.h"

namespace config {

enum class DumpMode {
    All,         // every parameter, current value (postconf)
    NonDefault,  // only parameters set in the file or by -o (postconf -n)
    Defaults,    // every parameter's default (postconf -d)
};

// $SENDGUARD_CONFIG when set and not empty, else the compiled-in
// SENDGUARD_SYSCONFDIR "/sendguard.conf".
std::string default_config_path();

// The parameters read through a tracked Config (see above). Recording is a
// relaxed atomic store per read, so a log may be shared by threads.
class ReadLog {
public:
    ReadLog() : read_(params().size()) {}
    bool was_read(AnyKey key) const noexcept { return read_[key.index()].load(std::memory_order_relaxed); }
    // Names of the parameters read, in table order.
    std::vector<std::string_view> names() const;
    void clear() noexcept;

private:
    friend class Config;
    std::vector<std::atomic<bool>> read_;  // parallel to params()
};

class Config {
public:
    // All defaults; throws only if the table itself is broken.
    static Config defaults();
    // Reads and parses the file at path (at most kMaxText bytes).
    static Config load(const std::string& path, const std::vector<std::string>& overrides = {});
    // Parses text; origin names it in messages ("sendguard.conf").
    static Config parse(std::string_view text, std::string_view origin,
                        const std::vector<std::string>& overrides = {});

    // String, Path, Char, List, Mode: the expanded text.
    const std::string& str(TextKey key) const;
    long long integer(Key<Type::Int> key) const;
    bool boolean(Key<Type::Bool> key) const;
    std::chrono::seconds duration(Key<Type::Duration> key) const;
    uint64_t size(Key<Type::Size> key) const;
    Rate rate(Key<Type::Rate> key) const;
    char character(Key<Type::Char> key) const;
    const std::vector<std::string>& list(Key<Type::List> key) const;
    unsigned mode(Key<Type::Mode> key) const;
    const DurationMap& duration_map(Key<Type::DurationMap> key) const;

    // For the program that owns a map parameter: throws Error
    //     sendguard.conf:7: invalid bounce_reason_expiry: unknown key notareason (hint)
    // for the first key known() rejects. Config cannot know the keys
    // itself (reason names belong to common/dsn, domains to the operator).
    void check_map_keys(Key<Type::DurationMap> key, const std::function<bool(std::string_view)>& known,
                        std::string_view hint) const;

    // True unless the file or an override set the parameter.
    bool is_default(AnyKey key) const;
    // "file:line", "-o" or "default".
    std::string origin_of(AnyKey key) const;

    // "name = value" lines sorted by name, as postconf prints them; values
    // are shown as written unless expand is true (postconf -x).
    std::string dump(DumpMode mode, bool expand = false) const;

    // Non-fatal remarks, e.g. "sendguard.conf:9: overriding earlier entry:
    // bounce_time_limit=60s (line 4)"; callers may log them.
    const std::vector<std::string>& warnings() const noexcept { return warnings_; }

    // A copy of this configuration whose getters record into log.
    Config tracked(std::shared_ptr<ReadLog> log) const;

private:
    struct Entry {
        std::string raw;        // as written (or the default)
        std::string expanded;   // after $name expansion
        std::string origin;     // "file:line", "-o" or "default"
        Value value;            // typed form of expanded
        bool set = false;       // by the file or -o
        std::vector<size_t> refs;  // parameters the value refers to ($name)
    };

    Config() = default;
    template <Type... Ts>
    const Entry& entry(Key<Ts...> key) const { return entries_[key.index()]; }
    // entry() for a typed getter: records the read when tracked.
    template <Type... Ts>
    const Entry& read(Key<Ts...> key) const {
        if (reads_) note_read(key.index());
        return entries_[key.index()];
    }
    void note_read(size_t i) const noexcept;
    void finalise(std::string_view origin, const std::vector<size_t>& order);

    std::vector<Entry> entries_;  // parallel to params()
    std::vector<std::string> warnings_;
    std::shared_ptr<ReadLog> reads_;  // null unless tracked()
};

// The complete sendguard.conf(5) manual page (mdoc), generated from params().
// The same for every build: the build's configuration directory is not in
// it. man_page(table) generates it from another table (tests).
std::string man_page();
std::string man_page(std::span<const Param> table);

}  // namespace config
