// bench_noop_milter - a libmilter milter that decides nothing
//
// usage: bench_noop_milter SOCKET [WAIT_MS]
// What libmilter (Debian's, with its pool of workers) and the milter
// protocol cost by themselves: it negotiates the protocol steps and
// macros sendguard-milter negotiates (milter/callbacks.cc: no HELO, DATA,
// body or unknown commands; no reply to CONNECT, to each header and to the
// end of headers) and answers every callback at once, CONTINUE where the
// MTA waits for an answer. At the end of each message it changes the
// envelope sender as sendguard-milter's VERP does (one SMFIR_CHGFROM), to
// a fixed address. bench_milter runs it beside sendguard-milter: its rate
// bounds what any milter on this libmilter reaches on the machine.
// With WAIT_MS its workers wait that long for a connection's next command
// instead of libmilter's 1 ms, as sendguard-milter's do
// (milter/poll_wrap.h; here every one-descriptor 1 ms POLLIN poll, as
// this program has no other). Stops on SIGTERM (libmilter's own handling).
#include <libmilter/mfapi.h>
#include <poll.h>

#include <cstdio>
#include <cstdlib>

namespace {

int g_wait_ms = 1;

sfsistat negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long,
                   unsigned long* pf0, unsigned long* pf1, unsigned long* pf2, unsigned long* pf3) {
    *pf0 = f0 & (SMFIF_CHGFROM | SMFIF_SETSYMLIST);
    *pf1 = f1 & (SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NR_CONN |
                 SMFIP_NR_HDR | SMFIP_NR_EOH);
    *pf2 = *pf3 = 0;
    if (*pf0 & SMFIF_SETSYMLIST) {
        smfi_setsymlist(ctx, SMFIM_CONNECT, const_cast<char*>("{daemon_name}"));
        smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char*>("i {auth_authen}"));
        smfi_setsymlist(ctx, SMFIM_ENVRCPT, const_cast<char*>("{rcpt_mailer}"));
        smfi_setsymlist(ctx, SMFIM_EOH, const_cast<char*>("i"));
        smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char*>("i"));
    }
    return SMFIS_CONTINUE;
}

sfsistat no_reply(SMFICTX*, char*, _SOCK_ADDR*) { return SMFIS_NOREPLY; }
sfsistat cont_argv(SMFICTX*, char**) { return SMFIS_CONTINUE; }
sfsistat header(SMFICTX*, char*, char*) { return SMFIS_NOREPLY; }
sfsistat eoh(SMFICTX*) { return SMFIS_NOREPLY; }
sfsistat cont(SMFICTX*) { return SMFIS_CONTINUE; }

sfsistat eom(SMFICTX* ctx) {
    static char from[] = "<news+noop@bounces.customer-a.example>";
    smfi_chgfrom(ctx, from, nullptr);
    return SMFIS_CONTINUE;
}

}  // namespace

extern "C" int __real_poll(pollfd* fds, nfds_t n, int timeout);
extern "C" int __wrap_poll(pollfd* fds, nfds_t n, int timeout) {
    if (n == 1 && timeout == 1 && fds[0].events == POLLIN) timeout = g_wait_ms;
    return __real_poll(fds, n, timeout);
}

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fputs("usage: bench_noop_milter SOCKET [WAIT_MS]\n", stderr);
        return 2;
    }
    if (argc == 3) g_wait_ms = std::atoi(argv[2]);
    smfiDesc desc = {};
    desc.xxfi_name = const_cast<char*>("bench-noop");
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_CHGFROM | SMFIF_SETSYMLIST;
    desc.xxfi_connect = no_reply;
    desc.xxfi_envfrom = cont_argv;
    desc.xxfi_envrcpt = cont_argv;
    desc.xxfi_header = header;
    desc.xxfi_eoh = eoh;
    desc.xxfi_eom = eom;
    desc.xxfi_abort = cont;
    desc.xxfi_close = cont;
    desc.xxfi_negotiate = negotiate;
    if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[1]) != MI_SUCCESS ||
        smfi_opensocket(true) != MI_SUCCESS) {
        std::fprintf(stderr, "bench_noop_milter: cannot listen on %s\n", argv[1]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
