// sendmail_harness.cc - SendmailInstance: configuration, start-up in its own
// UTS and mount namespaces, syslog capture, queue and teardown.  See
// sendmail_harness.h.
#include "tests/support/sendmail_harness.h"

#include "tests/support/net_wait.h"
#include "tests/support/require.h"

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <system_error>
#include <thread>
#include <unistd.h>

#ifndef SG_SENDMAIL_TREE
#define SG_SENDMAIL_TREE "/var/cache/sendguard-tests/sendmail/tree"
#endif

namespace harness {
namespace {

namespace fs = std::filesystem;

const char* const kBinary = "/usr/libexec/sendmail/sendmail.test";  // deps.sh: no set-gid
const char* const kM4 = "/usr/bin/m4";
const char* const kCfDir = "/usr/share/sendmail/cf/";

// The directory of the tree holding its shared libraries (libwrap0,
// liblockfile1): usr/lib/<multiarch>.
std::string tree_lib_dir(const std::string& tree) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(tree + "/usr/lib", ec))
        if (fs::exists(e.path() / "libwrap.so.0", ec)) return e.path().string();
    return tree + "/usr/lib";
}

// Cyrus SASL's plugin directory on this host (/usr/lib/<multiarch>/sasl2),
// where it also looks for Sendmail.conf; "" when there is none.
std::string host_sasl_plugin_dir() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/lib", ec)) {
        fs::path d = e.path() / "sasl2";
        if (fs::exists(d / "libsasldb.so", ec)) return d.string();
    }
    return fs::exists("/usr/lib/sasl2/libsasldb.so", ec) ? "/usr/lib/sasl2" : "";
}

std::string sh_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

void check_mc_token(const std::string& what, const std::string& s) {
    if (s.find_first_of("`'\r\n") != std::string::npos)
        throw std::invalid_argument(what + ": m4 quotes and line breaks are not allowed: " + s);
}

// True when /proc/net/tcp has a listening socket on ip:port (state 0A).
// Probing with connect() instead would start an SMTP session, and with it
// a milter connection the tests would then see.
bool listening(const std::string& ip, uint16_t port) {
    in_addr a{};
    if (::inet_pton(AF_INET, ip.c_str(), &a) != 1) return false;
    char want[32];
    std::snprintf(want, sizeof want, "%08X:%04X", static_cast<unsigned>(a.s_addr),
                  static_cast<unsigned>(port));
    std::istringstream in(file_text("/proc/net/tcp", 4u << 20));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string sl, local, remote, st;
        if ((f >> sl >> local >> remote >> st) && local == want && st == "0A") return true;
    }
    return false;
}

std::vector<std::string> lines_of(const std::string& t, size_t from) {
    std::vector<std::string> out;
    size_t pos = std::min(from, t.size());
    for (;;) {
        size_t eol = t.find('\n', pos);
        if (eol == std::string::npos) break;  // a partial last line waits for more
        out.push_back(t.substr(pos, eol - pos));
        pos = eol + 1;
    }
    return out;
}

std::string tail_of(const std::string& path, size_t lines) {
    std::vector<std::string> all;
    try {
        all = lines_of(file_text(path), 0);
    } catch (...) {
        return "(unreadable)\n";
    }
    std::string out;
    for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
        out += all[i] + "\n";
    return out;
}

}  // namespace

// Receives the daemon's syslog(3) datagrams on syslog.sock (its /dev/log)
// and appends each, without the "<PRI>" prefix, as one line to maillog.
class SendmailInstance::Syslog {
public:
    Syslog(const std::string& socket_path, const std::string& log_path) {
        fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!fd_) throw std::system_error(errno, std::generic_category(), "syslog socket");
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        if (socket_path.size() >= sizeof sa.sun_path)
            throw std::runtime_error("syslog socket path too long: " + socket_path);
        std::memcpy(sa.sun_path, socket_path.c_str(), socket_path.size() + 1);
        if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
            throw std::system_error(errno, std::generic_category(), "bind " + socket_path);
        ::chmod(socket_path.c_str(), 0666);
        log_.reset(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
        if (!log_) throw std::system_error(errno, std::generic_category(), "open " + log_path);
        thread_ = std::thread([this] { receive(); });
    }
    ~Syslog() {
        stop_ = true;
        thread_.join();
    }
    Syslog(const Syslog&) = delete;
    Syslog& operator=(const Syslog&) = delete;

private:
    void receive() noexcept {
        char buf[8192];
        pollfd p{fd_.get(), POLLIN, 0};
        // After stop_, whatever is still queued on the socket is drained.
        for (;;) {
            int n = ::poll(&p, 1, 50);
            if (n <= 0) {
                if (stop_) return;
                continue;
            }
            ssize_t len = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (len <= 0) continue;
            std::string_view msg(buf, static_cast<size_t>(len));
            if (!msg.empty() && msg.front() == '<') {
                size_t gt = msg.find('>');
                if (gt != std::string_view::npos && gt < 5) msg.remove_prefix(gt + 1);
            }
            while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\0')) msg.remove_suffix(1);
            std::string line(msg);
            line += '\n';
            if (::write(log_.get(), line.data(), line.size()) < 0) return;
        }
    }

    sys::Fd fd_, log_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::string SendmailInstance::tree() {
    const char* t = std::getenv("SENDGUARD_SENDMAIL_TREE");
    return t && *t ? t : SG_SENDMAIL_TREE;
}

std::optional<std::string> SendmailInstance::missing() {
    const std::string t = tree();
    if (::access((t + "/.complete").c_str(), R_OK) != 0 ||
        ::access((t + kBinary).c_str(), X_OK) != 0 || ::access((t + kM4).c_str(), X_OK) != 0 ||
        ::access((t + kCfDir + "m4/cf.m4").c_str(), R_OK) != 0)
        return "Debian's Sendmail 8.17 unpacked at " + t + " (run scripts/deps.sh as root)";
    if (::geteuid() != 0) return "root (Sendmail e2e tests mount and set a hostname in namespaces)";
    if (!have_program("unshare")) return "unshare(1) (util-linux)";
    if (!have_program("saslpasswd2")) return "saslpasswd2 (apt-get install sasl2-bin)";
    if (host_sasl_plugin_dir().empty())
        return "Cyrus SASL plugins (apt-get install libsasl2-modules)";
    return std::nullopt;
}

void require_sendmail() {
    std::optional<std::string> m = SendmailInstance::missing();
    require(!m, m.value_or(""));
}

SendmailInstance::SendmailInstance(SendmailOptions opts)
    : opts_(std::move(opts)), dir_("sg-sendmail-") {
    check_mc_token("hostname", opts_.hostname);
    if (opts_.hostname.find('.') == std::string::npos)
        throw std::invalid_argument("hostname must be qualified (Sendmail sleeps 60s otherwise): " +
                                    opts_.hostname);
    check_mc_token("smart_host", opts_.smart_host);
    dir_.mkdir("etc");
    queue_dir_ = dir_.mkdir("queue", 0700);
    sasl_dir_ = dir_.sub("sasl");
    sasldb_ = sasl_dir_ + "/sasldb2";
    cf_path_ = dir_.sub("test.cf");
    log_path_ = dir_.sub("maillog");
    traffic_path_ = dir_.sub("traffic");
    if (opts_.port == 0) opts_.port = free_tcp_port(ip_);
}

SendmailInstance::~SendmailInstance() {
    if (started_ && current_test_failed())
        std::fprintf(stderr, "harness: test failed; tail of %s:\n%s--- tail of %s:\n%s\n",
                     log_path_.c_str(), log_tail(40).c_str(), traffic_path_.c_str(),
                     traffic_tail(40).c_str());
    stop();
}

void SendmailInstance::check_not_started(const char* what) const {
    if (started_) throw std::logic_error(std::string(what) + ": Sendmail is already running");
}

void SendmailInstance::fail(const std::string& what) const {
    throw std::runtime_error(what + "\n--- tail of " + log_path_ + " ---\n" + log_tail(30));
}

void SendmailInstance::add_milter(const std::string& name, const std::string& socket,
                                  const std::string& flags, const std::string& timeouts) {
    check_not_started("add_milter");
    const char* const kNameChars =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    if (name.empty() || name.find_first_not_of(kNameChars) != std::string::npos)
        throw std::invalid_argument("milter name must be letters, digits, '_' or '-': " + name);
    for (const auto* s : {&socket, &flags, &timeouts}) check_mc_token("milter " + name, *s);
    std::string equates = "S=" + socket;
    if (!flags.empty()) equates += ", F=" + flags;
    if (!timeouts.empty()) equates += ", T=" + timeouts;
    milters_.push_back("INPUT_MAIL_FILTER(`" + name + "', `" + equates + "')dnl");
}

void SendmailInstance::enable_sasl() {
    check_not_started("enable_sasl");
    sasl_ = true;
    make_dirs(sasl_dir_);
    // Only what PLAIN and LOGIN against the sasldb need: Cyrus loads every
    // plugin in the directory it is given.
    const std::string from = host_sasl_plugin_dir();
    for (const char* p : {"libplain.so", "liblogin.so", "libsasldb.so"})
        fs::copy_file(from + "/" + p, sasl_dir_ + "/" + p, fs::copy_options::overwrite_existing);
    write_sasl_conf();
}

void SendmailInstance::write_sasl_conf() const {
    write_file(sasl_dir_ + "/Sendmail.conf",
               "# sendguard test harness: Cyrus SASL for this Sendmail only\n"
               "pwcheck_method: auxprop\n"
               "auxprop_plugin: sasldb\n"
               "sasldb_path: " + sasldb_ + "\n"
               "mech_list: PLAIN LOGIN\n");
}

void SendmailInstance::add_sasl_user(const std::string& login, const std::string& password) {
    if (!sasl_) throw std::logic_error("add_sasl_user: call enable_sasl() first");
    RunResult r = run(SpawnSpec{.argv = {"saslpasswd2", "-f", sasldb_, "-c", "-p", "-u",
                                         opts_.hostname, login},
                                .stdin_data = password},
                      Millis(10000));
    if (!r.ok()) fail("saslpasswd2 " + login + ": " + r.describe());
}

void SendmailInstance::add_mc_line(const std::string& line) {
    check_not_started("add_mc_line");
    if (line.find_first_of("\r\n") != std::string::npos)
        throw std::invalid_argument("add_mc_line: one line at a time: " + line);
    mc_lines_.push_back(line);
}

std::string SendmailInstance::render_mc() const {
    const std::string r = dir_.path();
    std::string mc =
        "divert(-1)\n"
        "# sendguard test harness (tests/support/sendmail_harness.cc)\n"
        "divert(0)dnl\n"
        "OSTYPE(`linux')dnl\n"
        "define(`MAIL_SETTINGS_DIR', `" + r + "/etc/')dnl\n"
        "define(`QUEUE_DIR', `" + queue_dir_ + "')dnl\n"
        "define(`confPID_FILE', `" + r + "/sendmail.pid')dnl\n"
        "define(`STATUS_FILE', `" + r + "/statistics')dnl\n"
        "define(`ALIAS_FILE', `" + r + "/etc/aliases')dnl\n"
        "define(`HELP_FILE', `" + tree() + "/etc/mail/helpfile')dnl\n"
        // /tmp is world-writable (sticky): without this Sendmail calls a
        // milter socket under it unsafe and ignores the milter.
        "define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl\n"
        "define(`confDONT_PROBE_INTERFACES', `True')dnl\n"
        "define(`confTO_IDENT', `0')dnl\n"
        "define(`confLOG_LEVEL', `14')dnl\n"
        "define(`confMILTER_LOG_LEVEL', `14')dnl\n"
        "FEATURE(`no_default_msa')dnl\n"
        "FEATURE(`nocanonify')dnl\n"
        "FEATURE(`accept_unresolvable_domains')dnl\n"
        "DAEMON_OPTIONS(`Port=" + std::to_string(opts_.port) + ", Addr=" + ip_ +
        ", Name=MTA')dnl\n";
    if (opts_.smart_host.empty()) {
        mc += "define(`confDELIVERY_MODE', `queueonly')dnl\n";
    } else {
        // "[127.0.0.2]:2525": the host goes to SMART_HOST, the port to the
        // esmtp mailer's arguments.
        std::string host = opts_.smart_host, port;
        size_t colon = host.rfind(':');
        if (colon != std::string::npos && colon > host.rfind(']')) {
            port = host.substr(colon + 1);
            host.resize(colon);
        }
        mc += "define(`SMART_HOST', `esmtp:" + host + "')dnl\n";
        if (!port.empty()) mc += "define(`ESMTP_MAILER_ARGS', `TCP $h " + port + "')dnl\n";
        mc += "define(`confDELIVERY_MODE', `background')dnl\n";
    }
    // Without enable_sasl() no AUTH at all: Sendmail would otherwise offer
    // the host's Cyrus defaults (DIGEST-MD5 against /etc/sasldb2).
    if (sasl_)
        mc += "define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl\n"
              "TRUST_AUTH_MECH(`PLAIN LOGIN')dnl\n";
    else
        mc += "define(`confAUTH_MECHANISMS', `')dnl\n";
    for (const auto& l : mc_lines_) mc += l + "\n";
    for (const auto& m : milters_) mc += m + "\n";
    mc += "MAILER(`smtp')dnl\n";
    return mc;
}

// The command run in the new namespaces, as sh -c text.  The mounts are
// private to the namespace (unshare -m makes propagation private).
std::vector<std::string> SendmailInstance::launch_argv() const {
    const std::string r = dir_.path();
    std::string script = "set -e\n";
    // /dev/log -> our socket: an overlay keeps every device of /dev.
    script += "if mount -t overlay overlay -o lowerdir=/dev,upperdir=" + sh_quote(r + "/dev") +
              ",workdir=" + sh_quote(r + "/devwork") + " /dev; then ln -sfn " +
              sh_quote(r + "/syslog.sock") + " /dev/log; else echo 'harness: no /dev overlay: " +
              "no maillog' >&2; fi\n";
    script += "mount --bind " + sh_quote(r + "/etc/hosts") + " /etc/hosts\n";
    if (sasl_) {
        script += "mount --bind " + sh_quote(sasl_dir_) + " " +
                  sh_quote(host_sasl_plugin_dir()) + "\n";
        script += "for d in /etc/sasl2 /etc/sasl; do if [ -d \"$d\" ]; then mount --bind " +
                  sh_quote(sasl_dir_) + " \"$d\"; fi; done\n";
    }
    script += "hostname " + sh_quote(opts_.hostname) + "\n";
    script += "exec " + sh_quote(tree() + kBinary) + " -bD -C " + sh_quote(cf_path_) + " -X " +
              sh_quote(traffic_path_) + "\n";
    return {"unshare", "-m", "-u", "sh", "-c", script};
}

void SendmailInstance::start() {
    if (started_) return;
    become_subreaper();  // background deliveries outlive their parents
    const std::string r = dir_.path(), t = tree();
    write_file(r + "/etc/aliases", "");
    write_file(r + "/statistics", "");  // Sendmail updates it only when it exists
    write_file(r + "/etc/hosts", "127.0.0.1\tlocalhost\n127.0.0.1\t" + opts_.hostname + "\n");
    make_dirs(r + "/dev");
    make_dirs(r + "/devwork");
    write_file(r + "/test.mc", render_mc());
    RunResult m4 =
        run({t + kM4, "-D_CF_DIR_=" + t + kCfDir, t + kCfDir + "m4/cf.m4", r + "/test.mc"},
            Millis(30000));
    if (!m4.ok() || !m4.err.empty()) fail("m4 " + r + "/test.mc: " + m4.describe());
    write_file(cf_path_, m4.out);

    syslog_ = std::make_unique<Syslog>(r + "/syslog.sock", log_path_);
    guard_ = register_cleanup("sendmail " + r, [r] {
        kill_processes_using(r);
        reap_orphans();
    });
    proc_ = std::make_unique<Process>(SpawnSpec{
        .argv = launch_argv(),
        .env = {"LD_LIBRARY_PATH=" + tree_lib_dir(t)},
        .cwd = r,
        .stdout_path = r + "/sendmail.out",
        .stderr_path = r + "/sendmail.out"});
    started_ = true;  // from here on stop() cleans up
    // Sendmail writes its pid file once its daemon sockets listen.
    const std::string pid_file = r + "/sendmail.pid";
    bool up = wait_until(
        [&] {
            if (!proc_->running()) return true;
            return std::atoi(file_text(pid_file, 4096).c_str()) == proc_->pid() &&
                   listening(ip_, opts_.port);
        },
        Millis(10000));
    if (!proc_->running() || !up)
        fail("sendmail does not listen on " + ip_ + ":" + std::to_string(opts_.port) + " (" +
             (proc_->running() ? std::string("still starting after 10s") : proc_->status()->str()) +
             "); its output:\n" + file_text(r + "/sendmail.out", 65536));
}

void SendmailInstance::stop() noexcept {
    try {
        if (started_) {
            started_ = false;
            if (proc_) {
                if (!proc_->running())
                    std::fprintf(stderr, "harness: sendmail of %s had already exited: %s\n",
                                 dir_.path().c_str(), proc_->status()->str().c_str());
                proc_->stop(Millis(2000));
            }
            wait_until([&] { return processes_using(dir_.path()).empty(); }, Millis(2000));
            for (const auto& k : kill_processes_using(dir_.path()))
                std::fprintf(stderr, "harness: killed stray process %s of %s\n", k.c_str(),
                             dir_.path().c_str());
            reap_orphans();
        }
        proc_.reset();
        syslog_.reset();
        guard_.release();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "harness: sendmail stop: %s\n", e.what());
    } catch (...) {
    }
}

pid_t SendmailInstance::pid() const noexcept { return proc_ ? proc_->pid() : -1; }

SmtpTranscript SendmailInstance::send(const SmtpEnvelope& env) const {
    return send_mail(ip_, opts_.port, env);
}

SmtpClient SendmailInstance::connect() const { return SmtpClient::connect(ip_, opts_.port); }

std::vector<std::string> SendmailInstance::queue() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(queue_dir_, ec)) {
        std::string n = e.path().filename().string();
        if (n.size() > 2 && n.compare(0, 2, "qf") == 0) out.push_back(n.substr(2));
    }
    return out;
}

std::optional<std::string> SendmailInstance::queued_sender(const std::string& queue_id) const {
    if (queue_id.empty() || queue_id.find('/') != std::string::npos) return std::nullopt;
    const std::string qf = queue_dir_ + "/qf" + queue_id;
    struct stat st {};
    if (::stat(qf.c_str(), &st) != 0) return std::nullopt;
    for (const auto& l : lines_of(file_text(qf), 0)) {
        if (l.empty() || l[0] != 'S') continue;
        std::string s = l.substr(1);
        if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
        return s;
    }
    return std::nullopt;
}

std::string SendmailInstance::log() const { return file_text(log_path_); }

size_t SendmailInstance::log_mark() const {
    struct stat st {};
    return ::stat(log_path_.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

std::vector<std::string> SendmailInstance::log_lines(size_t from) const {
    return lines_of(log(), from);
}

std::optional<std::string> SendmailInstance::wait_for_log(std::string_view substring,
                                                          Millis timeout, size_t from) const {
    std::optional<std::string> hit;
    wait_until(
        [&] {
            for (auto& l : log_lines(from))
                if (l.find(substring) != std::string::npos) {
                    hit = std::move(l);
                    return true;
                }
            return false;
        },
        timeout);
    return hit;
}

std::string SendmailInstance::log_tail(size_t lines) const { return tail_of(log_path_, lines); }

std::string SendmailInstance::traffic_tail(size_t lines) const {
    return tail_of(traffic_path_, lines);
}

std::string sendmail_queue_id(const SmtpTranscript& t) {
    if (!t.accepted() || t.data_end->lines.empty()) return {};
    // "2.0.0 6B1NQLvD005038 Message accepted for delivery"
    std::istringstream in(t.data_end->lines.front());
    std::string status, id, rest;
    if (!(in >> status >> id) || !std::getline(in, rest)) return {};
    return rest.find("Message accepted") != std::string::npos ? id : std::string();
}

}  // namespace harness
