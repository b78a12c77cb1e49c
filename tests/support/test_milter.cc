// test_milter.cc - see test_milter.h
#include "tests/support/test_milter.h"

#include "tests/support/net_wait.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <sys/stat.h>

namespace harness {
namespace {

SpawnSpec spawn_spec(const std::string& spec, const std::string& log,
                     std::vector<std::string> args) {
    std::vector<std::string> argv{SG_TEST_MILTER_PATH, "-s", spec, "-l", log};
    argv.insert(argv.end(), args.begin(), args.end());
    return SpawnSpec{.argv = argv};
}

std::string default_spec(const TempDir& dir, const std::string& spec) {
    return spec.empty() ? "unix:" + dir.sub("milter.sock") : spec;
}

// A UNIX socket is up once it exists (libmilter binds and listens before
// smfi_main); a TCP one once it accepts.
bool up(const std::string& spec) {
    if (spec.rfind("unix:", 0) == 0) {
        struct stat st{};
        return ::stat(spec.c_str() + 5, &st) == 0 && S_ISSOCK(st.st_mode);
    }
    size_t at = spec.find('@');
    return spec.rfind("inet:", 0) == 0 && at != std::string::npos &&
           bool(connect_tcp(spec.substr(at + 1),
                            static_cast<uint16_t>(std::stoi(spec.substr(5, at - 5))),
                            std::chrono::milliseconds(500)));
}

}  // namespace

TestMilter::TestMilter(std::vector<std::string> args, std::string spec)
    : dir_("sg-milter-"),
      spec_(default_spec(dir_, spec)),
      log_(dir_.sub("events")),
      proc_(spawn_spec(spec_, log_, std::move(args))) {
    bool ok = wait_until([&] { return !proc_.running() || up(spec_); }, std::chrono::seconds(10));
    if (!ok || !proc_.running())
        throw std::runtime_error("sg_test_milter did not start on " + spec_ + ": " + proc_.err());
}

TestMilter::~TestMilter() { proc_.stop(std::chrono::milliseconds(0)); }

MilterClient TestMilter::client(MilterClientOptions opts) const {
    return MilterClient::open(spec_, opts);
}

std::vector<std::string> TestMilter::events() const {
    std::vector<std::string> out;
    std::string text = file_text(log_, 256u << 20);
    size_t i = 0;
    while (i < text.size()) {
        size_t nl = text.find('\n', i);
        if (nl == std::string::npos) break;  // a line still being written
        out.push_back(text.substr(i, nl - i));
        i = nl + 1;
    }
    return out;
}

bool TestMilter::has_event(std::string_view line) const {
    std::vector<std::string> e = events();
    return std::find(e.begin(), e.end(), line) != e.end();
}

bool TestMilter::wait_event(std::string_view line, std::chrono::milliseconds timeout,
                            size_t skip) const {
    return wait_until(
        [&] {
            std::vector<std::string> e = events();
            return static_cast<size_t>(std::count(e.begin(), e.end(), line)) > skip;
        },
        timeout);
}

std::string milter_event(std::string_view name, const std::vector<std::string>& args) {
    std::string out(name);
    for (const auto& a : args) {
        out += " \"";
        for (unsigned char c : a) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c < 0x20 || c > 0x7e) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
        out += '"';
    }
    return out;
}

}  // namespace harness
