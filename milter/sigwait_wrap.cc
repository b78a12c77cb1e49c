// sigwait_wrap.cc - see sigwait_wrap.h
#include "milter/sigwait_wrap.h"

extern "C" int __wrap_sigwait(const sigset_t* set, int* sig) {
    sigset_t without_hup = *set;
    sigdelset(&without_hup, SIGHUP);
    return __real_sigwait(&without_hup, sig);
}
