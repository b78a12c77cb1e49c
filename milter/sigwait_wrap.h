// sigwait_wrap.h - SIGHUP reloads sendguard-milter instead of stopping it
//
// libmilter's signal thread (libmilter signal.c, mi_signal_thread)
// sigwait()s SIGHUP, SIGTERM and SIGINT and handles SIGHUP like SIGTERM:
// it would stop the milter where every other sendguard daemon reloads. The
// program is linked with -Wl,--wrap=sigwait (milter/CMakeLists.txt), so the
// linker sends libmilter's call to __wrap_sigwait(), which removes SIGHUP
// from the set and waits for the rest with the real sigwait(). SIGTERM and
// SIGINT stay libmilter's: they stop smfi_main() the way libmilter stops.
// SIGHUP stays blocked in every thread (common/daemon blocks it from the
// start) and the service's own thread takes it with sigwaitinfo()
// (service.cc) and calls control.reload().
//
// Only the program links the wrapper (-Wl,--undefined=__wrap_sigwait);
// tests that link the milter's library call the real sigwait().
#pragma once

#include <signal.h>

extern "C" {
int __real_sigwait(const sigset_t* set, int* sig);
int __wrap_sigwait(const sigset_t* set, int* sig);
}
