// test_store_support.h - helpers shared by the test_store*.cc files
//
// TempDir: a fresh directory from mkdtemp(3), removed with its contents when
// the object goes. event(): a store::Event in one line.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "common/config/config.h"
#include "common/store/lmdb.h"
#include "common/store/setup.h"
#include "common/store/suppression.h"

namespace store_test {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "sg-store-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr)
            throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path_ = tmpl;
        pid_ = ::getpid();
    }
    ~TempDir() {
        if (::getpid() != pid_)
            return;  // a forked child leaves the parent's directory alone
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const noexcept { return path_; }
    std::string env_dir() const { return store::suppression_dir(path_); }

private:
    std::string path_;
    pid_t pid_;
};

// The shipped policy: the parameter table's defaults, as the programs read them.
inline store::Policy default_policy() {
    return store::suppression_policy(config::Config::defaults(), [](std::string_view) { return true; });
}

inline store::Event event(std::string address, store::Class klass, std::string reason,
                          int64_t when, std::string evidence = {}) {
    store::Event ev;
    ev.address = std::move(address);
    ev.klass = klass;
    ev.reason = std::move(reason);
    ev.status = klass == store::Class::Soft ? "4.2.2" : "5.1.1";
    ev.diagnostic = "smtp; 550 5.1.1 test";
    ev.remote_mta = "mx.example.net";
    // Each event is its own report unless a test says otherwise: record()
    // ignores a repeat of the report it stored last.
    ev.evidence = evidence.empty() ? "Q" + std::to_string(when) : std::move(evidence);
    ev.source = klass == store::Class::Complaint ? store::Source::Arf : store::Source::Dsn;
    ev.when = when;
    return ev;
}

// Test envs skip fsync (durable = false): the tests check logic, not crash
// safety, and fsync on a shared build machine makes them slow and erratic.
inline store::EnvOptions test_opts(size_t initial = size_t{8} << 20,
                                   size_t max = size_t{1} << 30) {
    store::EnvOptions o;
    o.map_size = initial;
    o.max_map_size = max;
    o.max_readers = 126;
    o.durable = false;
    return o;
}

}  // namespace store_test
