// setup.cc - see setup.h
#include "bounce-pipe/setup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace bounce {

config::Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
    std::string p = path.empty() ? config::default_config_path() : path;
    // A missing default file means "all defaults": a fresh install works
    // before anyone wrote a configuration. A file named with -c must exist.
    if (path.empty() && ::access(p.c_str(), F_OK) != 0 && errno == ENOENT)
        return config::Config::parse("", p, overrides);
    return config::Config::load(p, overrides);
}

std::shared_ptr<store::Env> open_store(const config::Config& cfg, bool read_only) {
    store::EnvOptions o;
    o.map_size = cfg.size("store_map_size");
    o.max_map_size = cfg.size("store_max_map_size");
    o.max_readers = static_cast<unsigned>(cfg.integer("store_max_readers"));
    o.read_only = read_only;
    o.durable = cfg.boolean("store_sync");
    // The state directory is ours to create (like Postfix's data_directory);
    // its parent must exist.
    const std::string& dir = cfg.str("state_directory");
    if (!read_only && ::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
        throw store::Error(store::Error::Kind::Io, errno, "mkdir", dir, "");
    return store::Env::open(store::suppression_dir(cfg.str("state_directory")), o);
}

store::Policy store_policy(const config::Config& cfg) {
    store::Policy p;
    p.soft_threshold = static_cast<int>(cfg.integer("bounce_soft_threshold"));
    p.soft_window = cfg.duration("bounce_soft_window");
    p.soft_expiry = cfg.duration("bounce_soft_expiry");
    p.hard_expiry = cfg.duration("bounce_hard_expiry");
    p.complaint_expiry = cfg.duration("bounce_complaint_expiry");
    p.domain_threshold = static_cast<int>(cfg.integer("bounce_domain_threshold"));
    p.max_diagnostic = cfg.size("bounce_diagnostic_limit");
    return p;
}

std::vector<address::VerpCodec> verp_codecs(const config::Config& cfg) {
    std::vector<address::VerpCodec> out;
    const auto& domains = cfg.list("bounce_domains");
    if (domains.empty()) return out;
    auto keys = address::VerpKeys::load_file(cfg.str("verp_key_file"));
    for (const auto& d : domains) {
        address::VerpConfig vc;
        vc.prefix = cfg.str("verp_local_part");
        vc.delimiter = cfg.character("verp_delimiter");
        vc.bounce_domain = d;
        vc.max_age = std::chrono::duration_cast<std::chrono::days>(cfg.duration("verp_max_age"));
        out.emplace_back(vc, keys);
    }
    return out;
}

}  // namespace bounce
