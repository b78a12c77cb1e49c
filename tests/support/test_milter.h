// test_milter.h - runs sg_test_milter, the libmilter milter that records what it sees
//
// sg_test_milter (tests/support/test_milter_main.cc, options documented
// there) is a real libmilter milter: the milter-protocol client is tested
// against the library the production milter links, not against itself.
//
//   harness::TestMilter m({"-r", "envfrom=reject", "-a", "chgfrom|<b@x>|RET=HDRS"});
//   harness::MilterClient c = m.client();
//   ... c.transaction({...}) ...
//   BOOST_TEST(m.wait_event("close"));
//   BOOST_TEST(m.has_event(harness::milter_event("helo", {"client.test"})));
//
// The milter listens on a UNIX socket in its own temporary directory (or on
// the libmilter socket spec given) and appends its event lines to a file
// there; events() reads them back.  Lines of steps sent without a reply
// (no-reply flags, ABORT, QUIT) may land after the client returns: wait for
// "close" (QUIT) before checking them.  The destructor kills the milter
// (libmilter's own SIGTERM shutdown waits seconds; this one has no state).
//
// Errors: a milter that does not come up within 10s throws
// std::runtime_error with its stderr.  Thread safety: one thread.
#pragma once

#include "tests/support/milter_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

class TestMilter {
public:
    // args: sg_test_milter options other than -s and -l.  spec "" : a UNIX
    // socket in the temporary directory.
    explicit TestMilter(std::vector<std::string> args, std::string spec = "");
    ~TestMilter();
    TestMilter(const TestMilter&) = delete;
    TestMilter& operator=(const TestMilter&) = delete;

    const std::string& spec() const noexcept { return spec_; }
    MilterClient client(MilterClientOptions opts = {}) const;
    std::vector<std::string> events() const;
    bool has_event(std::string_view line) const;
    // Until a line equal to line is logged (after skip earlier such lines).
    bool wait_event(std::string_view line, std::chrono::milliseconds timeout = std::chrono::seconds(5),
                    size_t skip = 0) const;
    Process& process() noexcept { return proc_; }

private:
    TempDir dir_;
    std::string spec_, log_;
    Process proc_;
};

// The event line sg_test_milter writes: name, then each argument quoted.
std::string milter_event(std::string_view name, const std::vector<std::string>& args = {});

}  // namespace harness
