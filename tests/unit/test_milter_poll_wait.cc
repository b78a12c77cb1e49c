// test_milter_poll_wait.cc - milter::worker_poll_timeout (poll_wrap.h):
// only libmilter's worker waiting for an MTA connection's next command
// waits kCommandWait; every other poll() keeps its time-out.
#include <boost/test/unit_test.hpp>

#include <poll.h>

#include "milter/poll_wrap.h"

namespace {

struct Case {
    const char* name;
    nfds_t n;
    short events;
    int timeout;
    bool mta_connection;
    int want;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_poll_wait)

BOOST_AUTO_TEST_CASE(only_the_workers_command_wait_changes) {
    const int wait = static_cast<int>(milter::kCommandWait.count());
    const Case cases[] = {
        {"libmilter's worker on an MTA connection", 1, POLLIN, 1, true, wait},
        {"the same wait on an fd that is no MTA connection", 1, POLLIN, 1, false, 1},
        {"a write wait (the postlog pipe)", 1, POLLOUT, 1, true, 1},
        {"libmilter's command read (milter_timeout)", 1, POLLIN, 300000, true, 300000},
        {"the pool controller's set", 3, POLLIN, 1, true, 1},
        {"no wait at all", 1, POLLIN, 0, true, 0},
        {"wait for ever", 1, POLLIN, -1, true, -1},
    };
    for (const Case& c : cases) {
        pollfd fds[3] = {{5, c.events, 0}, {6, c.events, 0}, {7, c.events, 0}};
        const int got = milter::worker_poll_timeout(fds, c.n, c.timeout, c.mta_connection);
        BOOST_TEST(got == c.want, c.name << ": got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_SUITE_END()
