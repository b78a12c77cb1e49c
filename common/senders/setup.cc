// setup.cc - see setup.h
#include "common/senders/setup.h"

#include "common/address/verp_setup.h"

#include "common/config/table_file.h"
#include "common/config/value.h"

namespace senders {
namespace {

using ListKey = config::Key<config::Type::List>;

[[noreturn]] void invalid(const config::Config& cfg, config::AnyKey key, std::string_view value,
                          std::string_view why) {
    throw config::Error(cfg.origin_of(key) + ": invalid " + std::string(key.name()) + ": " +
                        config::quote_value(value) + ": " + std::string(why));
}

// One file a table parameter lists, read within the table limits.
config::TableFile read_table(const config::Config& cfg, ListKey key, const std::string& path,
                             const config::TableLimits& lim) {
    if (!path.starts_with('/'))
        invalid(cfg, key, path, "a table file is named by its absolute path");
    try {
        return config::TableFile::load(path, lim);
    } catch (const config::Error& e) {
        // "path:line: ..." and "path: ..." name their place; a file that
        // cannot be read is named by the parameter that lists it.
        if (std::string_view(e.what()).starts_with(path + ":")) throw;
        throw config::Error(cfg.origin_of(key) + ": " + std::string(key.name()) + ": " + e.what());
    }
}

std::vector<address::Domain> bounce_domains(const config::Config& cfg) {
    std::vector<address::Domain> out;
    for (const std::string& d : cfg.list("bounce_domains")) {
        // A LABEL.* pattern (address::BounceDomains): bounce_labels().
        if (address::is_bounce_domain_pattern(d)) continue;
        const address::Result<address::Domain> n = address::normalise_domain(d);
        if (!n) invalid(cfg, "bounce_domains", d, address::to_string(n.error()));
        out.push_back(*n);
    }
    return out;
}

// The LABELs of bounce_domains' LABEL.* entries, lower case.
std::vector<std::string> bounce_labels(const config::Config& cfg) {
    std::vector<std::string> out;
    for (const std::string& d : cfg.list("bounce_domains")) {
        if (!address::is_bounce_domain_pattern(d)) continue;
        const std::string label = d.substr(0, d.size() - 2);
        const address::Result<address::Domain> n = address::normalise_domain(label);
        if (!n || n->is_literal() || n->str().find('.') != std::string::npos)
            invalid(cfg, "bounce_domains", d, "expected LABEL.* with one DNS label, like bounces.*");
        out.push_back(n->str());
    }
    return out;
}

}  // namespace

std::shared_ptr<const Rules> load_rules(const config::Config& cfg) {
    const config::TableLimits lim{
        .max_line = cfg.size("milter_table_max_line"),
        .max_key = kMaxLogin,
        .max_entries = static_cast<size_t>(cfg.integer("milter_table_max_entries")),
        .max_bytes = cfg.size("milter_table_max_size"),
    };
    RulesBuilder b(cfg.boolean("milter_login_owns_domain"), bounce_domains(cfg), bounce_labels(cfg));
    // One file at a time: a file's text is dropped once its lines are indexed.
    for (const std::string& path : cfg.list("milter_sender_tables"))
        b.add_sender_table(read_table(cfg, "milter_sender_tables", path, lim));
    for (const std::string& path : cfg.list("milter_network_tables"))
        b.add_network_table(read_table(cfg, "milter_network_tables", path, lim));
    b.set_local_senders(cfg.list("milter_local_senders"), cfg.origin_of("milter_local_senders"));
    return std::move(b).build();
}

}  // namespace senders
