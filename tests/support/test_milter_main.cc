// test_milter_main.cc - sg_test_milter, a libmilter milter that records what it sees
//
// The milter-protocol client (milter_client.h) is tested against Debian's
// real libmilter through this program; tests/support/test_milter.h starts it.
//
//   sg_test_milter -s unix:/tmp/x/milter.sock -l /tmp/x/events [options]
//
//   -s SPEC         libmilter socket (smfi_setconn): unix:/path, inet:PORT@HOST
//   -l FILE         append one line per callback to FILE (see below)
//   -m NAMES        comma-separated macro names looked up (smfi_getsymval)
//                   in every callback; each one set is logged
//   -n FLAGS        protocol flags requested at negotiation, comma-separated:
//                   noconnect nohelo nomail norcpt nobody nohdrs noeoh
//                   nounknown nodata nr_conn nr_helo nr_mail nr_rcpt nr_data
//                   nr_unkn nr_hdr nr_eoh nr_body skip leadspc rcpt_rej;
//                   callbacks of an nr_ stage answer SMFIS_NOREPLY
//   -S STAGE=NAMES  macro list for a stage (smfi_setsymlist), STAGE one of
//                   connect helo envfrom envrcpt data eoh eom
//   -r STAGE[/ARG]=REPLY
//                   how a callback answers (default continue), STAGE one of
//                   connect helo envfrom envrcpt data header eoh body eom
//                   unknown; /ARG limits the rule to calls whose first
//                   argument is ARG (an address with <>, a header name).
//                   REPLY: continue accept reject tempfail discard skip
//                   hang (never answers) exit (the process exits at once:
//                   the connection closes mid-conversation), or
//                   "NNN X.Y.Z text" (smfi_setreply, then reject or tempfail)
//   -a ACTION|ARG|...
//                   a modification at end of message, in order given:
//                   chgfrom|SENDER[|ARGS] addheader|NAME|VALUE
//                   insheader|INDEX|NAME|VALUE chgheader|NAME|INDEX|VALUE
//                   addrcpt|RCPT addrcpt_par|RCPT|ARGS delrcpt|RCPT
//                   quarantine|REASON replbody|TEXT progress
//
// Callbacks are noexcept: an exception in one ends the program (abort)
// instead of unwinding through libmilter's C frames.
//
// Event lines: the callback name, then its arguments, each in double quotes
// with '"', '\' and bytes outside 0x20-0x7e written \", \\, \xNN:
//   negotiate "ACTIONS" "PROTOCOL"       (what the MTA offered, hex)
//   connect "HOST" "FAMILY" "PORT" "ADDR" (FAMILY 4, 6, L or U)
//   helo "NAME"        envfrom "<a@b>" "ARG"...   envrcpt "<c@d>" "ARG"...
//   data   header "NAME" "VALUE"   eoh   body "LEN" "TEXT"   eom   abort
//   unknown "CMD"   close
//   macro "STAGE" "NAME" "VALUE"         (after the line of its callback)
// Each line is one write(2) to an O_APPEND file, written before the reply.
// Exit status: 0 after smfi_main returns, 64 for bad arguments, 71 when
// libmilter cannot be set up.
#include <libmilter/mfapi.h>

#include <fcntl.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Rule {
    std::string stage, arg;  // arg "" matches every call
    std::string reply;
};

struct Settings {
    int log_fd = -1;
    std::vector<std::string> macros;
    unsigned long protocol = 0;
    bool negotiate_flags = false;
    std::map<int, std::string> symlists;
    std::vector<Rule> rules;
    std::vector<std::vector<std::string>> actions;
};

Settings g;  // set up by main before smfi_main, read-only afterwards

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t i = 0;
    for (;;) {
        size_t j = s.find(sep, i);
        out.emplace_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
        if (j == std::string_view::npos) return out;
        i = j + 1;
    }
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
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
    return out + "\"";
}

void event(std::string_view name, const std::vector<std::string>& args = {}) {
    if (g.log_fd < 0) return;
    std::string line(name);
    for (const auto& a : args) line += " " + quote(a);
    line += '\n';
    if (::write(g.log_fd, line.data(), line.size()) < 0) std::perror("sg_test_milter: log");
}

void log_macros(SMFICTX* ctx, const char* stage) {
    for (const auto& m : g.macros) {
        const char* v = smfi_getsymval(ctx, const_cast<char*>(m.c_str()));
        if (v) event("macro", {stage, m, v});
    }
}

struct FlagName {
    const char* name;
    unsigned long bit;
};
constexpr FlagName kFlags[] = {
    {"noconnect", SMFIP_NOCONNECT}, {"nohelo", SMFIP_NOHELO}, {"nomail", SMFIP_NOMAIL},
    {"norcpt", SMFIP_NORCPT}, {"nobody", SMFIP_NOBODY}, {"nohdrs", SMFIP_NOHDRS},
    {"noeoh", SMFIP_NOEOH}, {"nounknown", SMFIP_NOUNKNOWN}, {"nodata", SMFIP_NODATA},
    {"nr_conn", SMFIP_NR_CONN}, {"nr_helo", SMFIP_NR_HELO}, {"nr_mail", SMFIP_NR_MAIL},
    {"nr_rcpt", SMFIP_NR_RCPT}, {"nr_data", SMFIP_NR_DATA}, {"nr_unkn", SMFIP_NR_UNKN},
    {"nr_hdr", SMFIP_NR_HDR}, {"nr_eoh", SMFIP_NR_EOH}, {"nr_body", SMFIP_NR_BODY},
    {"skip", SMFIP_SKIP}, {"leadspc", SMFIP_HDR_LEADSPC}, {"rcpt_rej", SMFIP_RCPT_REJ},
};

struct StageName {
    const char* name;
    int stage;
};
constexpr StageName kStages[] = {
    {"connect", SMFIM_CONNECT}, {"helo", SMFIM_HELO}, {"envfrom", SMFIM_ENVFROM},
    {"envrcpt", SMFIM_ENVRCPT}, {"data", SMFIM_DATA}, {"eoh", SMFIM_EOH}, {"eom", SMFIM_EOM},
};

// The answer of a callback: the first matching rule, else continue.
sfsistat answer(SMFICTX* ctx, const char* stage, unsigned long noreply_bit,
                std::string_view first_arg = {}) {
    log_macros(ctx, stage);
    if (noreply_bit && (g.protocol & noreply_bit)) return SMFIS_NOREPLY;
    for (const auto& r : g.rules) {
        if (r.stage != stage || (!r.arg.empty() && r.arg != first_arg)) continue;
        const std::string& a = r.reply;
        if (a == "accept") return SMFIS_ACCEPT;
        if (a == "reject") return SMFIS_REJECT;
        if (a == "tempfail") return SMFIS_TEMPFAIL;
        if (a == "discard") return SMFIS_DISCARD;
        if (a == "skip") return SMFIS_SKIP;
        if (a == "exit") _exit(0);
        if (a == "hang")
            for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
        if (!a.empty() && a[0] >= '4' && a[0] <= '5') {
            std::vector<std::string> w = split(a, ' ');
            std::string rcode = w[0], xcode = w.size() > 1 ? w[1] : "";
            size_t at = rcode.size() + xcode.size() + 2;
            std::string text = a.size() > at ? a.substr(at) : "";
            smfi_setreply(ctx, rcode.data(), xcode.data(), text.data());
            return a[0] == '5' ? SMFIS_REJECT : SMFIS_TEMPFAIL;
        }
        return SMFIS_CONTINUE;
    }
    return SMFIS_CONTINUE;
}

std::vector<std::string> argv_list(char** argv) {
    std::vector<std::string> out;
    for (; argv && *argv; ++argv) out.emplace_back(*argv);
    return out;
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long,
                      unsigned long, unsigned long* pf0, unsigned long* pf1, unsigned long* pf2,
                      unsigned long* pf3) noexcept {
    char a[32], p[32];
    std::snprintf(a, sizeof a, "0x%lx", f0);
    std::snprintf(p, sizeof p, "0x%lx", f1);
    event("negotiate", {a, p});
    *pf0 = f0;
    *pf1 = g.negotiate_flags ? (g.protocol & f1) : 0;
    *pf2 = *pf3 = 0;
    for (const auto& [stage, names] : g.symlists)
        smfi_setsymlist(ctx, stage, const_cast<char*>(names.c_str()));
    return SMFIS_CONTINUE;
}

sfsistat on_connect(SMFICTX* ctx, char* host, _SOCK_ADDR* sa) noexcept {
    std::string family = "U", port, addr;
    char buf[INET6_ADDRSTRLEN] = "";
    if (sa && sa->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        family = "4";
        port = std::to_string(ntohs(in->sin_port));
        addr = inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf) ? buf : "?";
    } else if (sa && sa->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        family = "6";
        port = std::to_string(ntohs(in6->sin6_port));
        addr = inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf) ? buf : "?";
    } else if (sa && sa->sa_family == AF_UNIX) {
        family = "L";
        addr = reinterpret_cast<const sockaddr_un*>(sa)->sun_path;
    }
    event("connect", {host ? host : "", family, port, addr});
    return answer(ctx, "connect", SMFIP_NR_CONN);
}

sfsistat on_helo(SMFICTX* ctx, char* name) noexcept {
    event("helo", {name ? name : ""});
    return answer(ctx, "helo", SMFIP_NR_HELO);
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv) noexcept {
    std::vector<std::string> a = argv_list(argv);
    event("envfrom", a);
    return answer(ctx, "envfrom", SMFIP_NR_MAIL, a.empty() ? "" : a[0]);
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv) noexcept {
    std::vector<std::string> a = argv_list(argv);
    event("envrcpt", a);
    return answer(ctx, "envrcpt", SMFIP_NR_RCPT, a.empty() ? "" : a[0]);
}

sfsistat on_data(SMFICTX* ctx) noexcept {
    event("data");
    return answer(ctx, "data", SMFIP_NR_DATA);
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) noexcept {
    event("header", {name ? name : "", value ? value : ""});
    return answer(ctx, "header", SMFIP_NR_HDR, name ? name : "");
}

sfsistat on_eoh(SMFICTX* ctx) noexcept {
    event("eoh");
    return answer(ctx, "eoh", SMFIP_NR_EOH);
}

sfsistat on_body(SMFICTX* ctx, unsigned char* chunk, size_t len) noexcept {
    std::string_view text(reinterpret_cast<const char*>(chunk), len);
    event("body", {std::to_string(len), std::string(text.substr(0, 4096))});
    return answer(ctx, "body", SMFIP_NR_BODY);
}

// The modifications of -a, in order; a failing call is logged.
void modify(SMFICTX* ctx) {
    for (const auto& a : g.actions) {
        std::vector<std::string> v = a;
        v.resize(4);
        auto c = [&](size_t i) { return v[i].data(); };
        int rc = MI_FAILURE;
        if (a[0] == "chgfrom") rc = smfi_chgfrom(ctx, c(1), a.size() > 2 ? c(2) : nullptr);
        else if (a[0] == "addheader") rc = smfi_addheader(ctx, c(1), c(2));
        else if (a[0] == "insheader") rc = smfi_insheader(ctx, std::atoi(c(1)), c(2), c(3));
        else if (a[0] == "chgheader") rc = smfi_chgheader(ctx, c(1), std::atoi(c(2)), c(3));
        else if (a[0] == "addrcpt") rc = smfi_addrcpt(ctx, c(1));
        else if (a[0] == "addrcpt_par") rc = smfi_addrcpt_par(ctx, c(1), c(2));
        else if (a[0] == "delrcpt") rc = smfi_delrcpt(ctx, c(1));
        else if (a[0] == "quarantine") rc = smfi_quarantine(ctx, c(1));
        else if (a[0] == "replbody")
            rc = smfi_replacebody(ctx, reinterpret_cast<unsigned char*>(c(1)),
                                  static_cast<int>(v[1].size()));
        else if (a[0] == "progress") rc = smfi_progress(ctx);
        if (rc != MI_SUCCESS) event("action-failed", {a[0]});
    }
}

sfsistat on_eom(SMFICTX* ctx) noexcept {
    event("eom");
    modify(ctx);
    return answer(ctx, "eom", 0);
}

sfsistat on_abort(SMFICTX*) noexcept {
    event("abort");
    return SMFIS_CONTINUE;
}

sfsistat on_close(SMFICTX*) noexcept {
    event("close");
    return SMFIS_CONTINUE;
}

sfsistat on_unknown(SMFICTX* ctx, const char* cmd) noexcept {
    event("unknown", {cmd ? cmd : ""});
    return answer(ctx, "unknown", SMFIP_NR_UNKN);
}

int usage(const char* why) {
    std::fprintf(stderr, "sg_test_milter: %s\n", why);
    return 64;
}

}  // namespace

int main(int argc, char** argv) {
    std::string spec;
    int opt;
    while ((opt = ::getopt(argc, argv, "s:l:m:n:S:r:a:")) != -1) {
        std::string v = optarg;
        switch (opt) {
        case 's': spec = v; break;
        case 'l':
            g.log_fd = ::open(optarg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (g.log_fd < 0) return usage(("cannot open " + v).c_str());
            break;
        case 'm': g.macros = split(v, ','); break;
        case 'n':
            g.negotiate_flags = true;
            for (const auto& f : split(v, ',')) {
                bool found = false;
                for (const auto& k : kFlags)
                    if (f == k.name) g.protocol |= k.bit, found = true;
                if (!found && !f.empty()) return usage(("unknown flag " + f).c_str());
            }
            break;
        case 'S': {
            size_t eq = v.find('=');
            bool found = false;
            for (const auto& k : kStages)
                if (eq != std::string::npos && v.substr(0, eq) == k.name)
                    g.symlists[k.stage] = v.substr(eq + 1), found = true;
            if (!found) return usage(("bad -S " + v).c_str());
            break;
        }
        case 'r': {
            size_t eq = v.find('=');
            if (eq == std::string::npos) return usage(("bad -r " + v).c_str());
            std::string key = v.substr(0, eq);
            size_t slash = key.find('/');
            g.rules.push_back({key.substr(0, slash),
                               slash == std::string::npos ? "" : key.substr(slash + 1),
                               v.substr(eq + 1)});
            break;
        }
        case 'a': g.actions.push_back(split(v, '|')); break;
        default: return usage("bad option");
        }
    }
    if (spec.empty()) return usage("-s SPEC is required");

    smfiDesc desc{};
    desc.xxfi_name = const_cast<char*>("sg_test_milter");
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR |
                      SMFIF_DELRCPT | SMFIF_CHGFROM | SMFIF_QUARANTINE | SMFIF_CHGBODY |
                      SMFIF_SETSYMLIST;
    desc.xxfi_connect = on_connect;
    desc.xxfi_helo = on_helo;
    desc.xxfi_envfrom = on_envfrom;
    desc.xxfi_envrcpt = on_envrcpt;
    desc.xxfi_header = on_header;
    desc.xxfi_eoh = on_eoh;
    desc.xxfi_body = on_body;
    desc.xxfi_eom = on_eom;
    desc.xxfi_abort = on_abort;
    desc.xxfi_close = on_close;
    desc.xxfi_unknown = on_unknown;
    desc.xxfi_data = on_data;
    desc.xxfi_negotiate = on_negotiate;

    if (smfi_setconn(spec.data()) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
        smfi_setbacklog(256) != MI_SUCCESS || smfi_opensocket(true) != MI_SUCCESS) {
        std::fprintf(stderr, "sg_test_milter: cannot set up %s\n", spec.c_str());
        return 71;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 71;
}
