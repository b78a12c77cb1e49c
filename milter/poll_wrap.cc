// poll_wrap.cc - see poll_wrap.h
#include "milter/poll_wrap.h"

#include "milter/connection_limit.h"

extern "C" int __wrap_poll(pollfd* fds, nfds_t n, int timeout) {
    if (n == 1 && timeout == milter::kLibmilterCommandWaitMs) {
        const milter::ConnectionLimit* limit = milter::active();
        timeout = milter::worker_poll_timeout(fds, n, timeout, limit && limit->holds(fds[0].fd));
    }
    return __real_poll(fds, n, timeout);
}
