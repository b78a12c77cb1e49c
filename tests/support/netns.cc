// netns.cc - see netns.h
#include "tests/support/netns.h"

#include "common/sys/fd.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sched.h>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace harness {
namespace {

const std::string kEtcNetns = "/etc/netns";

void destroy(const std::string& name, bool remove_etc_netns) noexcept {
    // Everything in the namespace was started by this test.
    RunResult r = run({"ip", "netns", "pids", name}, Millis(5000));
    std::istringstream in(r.out);
    for (pid_t pid; in >> pid;)
        if (pid > 1 && pid != ::getpid()) ::kill(pid, SIGKILL);
    if (!r.out.empty()) {
        std::this_thread::sleep_for(Millis(50));
        reap_orphans();
    }
    RunResult d = run({"ip", "netns", "del", name}, Millis(5000));
    if (!d.ok()) std::fprintf(stderr, "harness: %s\n", d.describe().c_str());
    std::error_code ec;
    std::filesystem::remove_all(kEtcNetns + "/" + name, ec);
    if (remove_etc_netns) ::rmdir(kEtcNetns.c_str());  // fails harmlessly when not empty
}

bool refused(const std::string& err) {
    return err.find("Operation not permitted") != std::string::npos ||
           err.find("Permission denied") != std::string::npos ||
           err.find("Invalid argument") != std::string::npos ||
           err.find("not supported") != std::string::npos;
}

}  // namespace

std::optional<std::string> NetNs::unavailable() {
    if (::geteuid() != 0) return "network namespaces need root (ip netns add)";
    if (!have_program("ip")) return "ip(8) (iproute2) is not installed";
    return std::nullopt;
}

NetNs::NetNs(std::string name) {
    static std::atomic<int> counter{0};
    name_ = name.empty() ? "sg-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)
                         : std::move(name);
    struct stat st {};
    bool made_etc_netns = ::stat(kEtcNetns.c_str(), &st) != 0;

    RunResult add = run({"ip", "netns", "add", name_}, Millis(10000));
    if (!add.ok()) {
        std::string msg = "cannot create network namespace: " + add.describe();
        if (refused(add.err)) throw NetNsUnavailable(msg);
        throw NetNsError(msg);
    }
    std::string n = name_;
    guard_ = register_cleanup("netns " + n, [n, made_etc_netns] { destroy(n, made_etc_netns); });

    try {
        RunResult up = run({"ip", "-n", name_, "link", "set", "lo", "up"}, Millis(10000));
        if (!up.ok()) throw NetNsError("loopback up in " + name_ + ": " + up.describe());
        make_dirs(kEtcNetns + "/" + name_, 0755);
        write_etc("resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:2\n");
        write_etc("hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost\n");
    } catch (...) {
        guard_.run();  // a throwing constructor runs no destructor
        throw;
    }
}

NetNs::~NetNs() { guard_.run(); }

std::vector<std::string> NetNs::wrap(std::vector<std::string> argv) const {
    std::vector<std::string> out{"ip", "netns", "exec", name_};
    out.insert(out.end(), std::make_move_iterator(argv.begin()),
               std::make_move_iterator(argv.end()));
    return out;
}

void NetNs::write_etc(std::string_view file, std::string_view text) const {
    if (file.find('/') != std::string_view::npos || file.empty() || file[0] == '.')
        throw std::invalid_argument("NetNs::write_etc: bad file name");
    write_file(kEtcNetns + "/" + name_ + "/" + std::string(file), text, 0644);
}

std::vector<pid_t> NetNs::pids() const {
    std::vector<pid_t> out;
    RunResult r = run({"ip", "netns", "pids", name_}, Millis(5000));
    std::istringstream in(r.out);
    for (pid_t pid; in >> pid;) out.push_back(pid);
    return out;
}

void NetNs::run_in_thread(const std::function<void()>& fn) const {
    std::string path = "/run/netns/" + name_;
    sys::Fd nsfd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!nsfd) throw std::system_error(errno, std::generic_category(), "open " + path);
    std::exception_ptr failure;
    std::thread t([&] {
        try {
            if (::setns(nsfd.get(), CLONE_NEWNET) < 0)
                throw std::system_error(errno, std::generic_category(), "setns " + path);
            fn();
        } catch (...) {
            failure = std::current_exception();
        }
    });
    t.join();
    if (failure) std::rethrow_exception(failure);
}

std::unique_ptr<NetNs> make_netns_or_skip() {
    skip_if(NetNs::unavailable());
    try {
        return std::make_unique<NetNs>();
    } catch (const NetNsUnavailable& e) {
        skip_test(e.what());
    }
}

}  // namespace harness
