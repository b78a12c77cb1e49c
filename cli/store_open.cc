// store_open.cc - the suppression store as the commands open it
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "cli/commands.h"
#include "common/store/setup.h"
#include "common/store/suppression.h"

namespace cli {

bool wants_help(const std::vector<std::string>& args) {
    for (const auto& a : args)
        if (a == "-h" || a == "--help") return true;
    return false;
}

std::shared_ptr<store::Env> open_store(const config::Config& cfg, bool read_only) {
    const std::string dir = store::suppression_dir(cfg.str("state_directory"));
    if (read_only) {
        struct stat st {};
        if (::stat((dir + "/data.mdb").c_str(), &st) != 0 && errno == ENOENT) return nullptr;
        if (::access((dir + "/lock.mdb").c_str(), W_OK) != 0 && (errno == EACCES || errno == EROFS))
            std::fprintf(stderr,
                         "sendguard: warning: %s/lock.mdb is not writable (%s): reading without "
                         "locks, results may be inconsistent while the store is being written\n",
                         dir.c_str(), std::strerror(errno));
    }
    try {
        return store::open_suppression_store(cfg, read_only);
    } catch (const store::Error& e) {
        // A reader did nothing but open: the error's own text would only
        // repeat the path. A writer may have failed creating state_directory.
        std::string_view what = e.what();
        if (what.starts_with("store: ")) what.remove_prefix(7);  // this message names the store already
        const std::string why = read_only && e.code() != 0 ? mdb_strerror(e.code()) : std::string(what);
        std::string hint;
        if (e.code() == EACCES && read_only) {
            hint = " (readers need read access to data.mdb and lock.mdb)";
        } else if (e.code() == EACCES || e.code() == EROFS) {
            // Say what stands in the way; becoming the owner of
            // state_directory helps only when that is what is wrong.
            const std::string why = store::write_obstacle(cfg.str("state_directory"));
            hint = " (" + (why.empty() ? std::string("run as the owner of state_directory") : why) + ")";
        }
        throw std::runtime_error("cannot open suppression store " + dir + ": " + why + hint);
    }
}

}  // namespace cli
