// postfix_config.cc - PostfixInstance: main.cf, master.cf and the hooks that
// add milters, policy services, transports, pipe services and SASL users.
// See postfix_harness.h.
#include "tests/support/postfix_harness.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <sys/stat.h>

namespace harness {
namespace {

// Services every instance needs.  Chroot "n" everywhere: the instance's
// paths are absolute and nothing is copied into a jail.  postlog writes
// maillog_file.  Fields: service type private unpriv chroot wakeup maxproc.
constexpr const char* kBaseMaster = R"(pickup    unix  n  -  n  60    1  pickup
cleanup   unix  n  -  n  -     0  cleanup
qmgr      unix  n  -  n  300   1  qmgr
rewrite   unix  -  -  n  -     -  trivial-rewrite
bounce    unix  -  -  n  -     0  bounce
defer     unix  -  -  n  -     0  bounce
trace     unix  -  -  n  -     0  bounce
verify    unix  -  -  n  -     1  verify
flush     unix  n  -  n  1000? 0  flush
proxymap  unix  -  -  n  -     -  proxymap
proxywrite unix -  -  n  -     1  proxymap
smtp      unix  -  -  n  -     -  smtp
relay     unix  -  -  n  -     -  smtp
showq     unix  n  -  n  -     -  showq
error     unix  -  -  n  -     -  error
retry     unix  -  -  n  -     -  error
discard   unix  -  -  n  -     -  discard
local     unix  -  n  n  -     -  local
lmtp      unix  -  -  n  -     -  lmtp
anvil     unix  -  -  n  -     1  anvil
scache    unix  -  -  n  -     1  scache
postlog   unix-dgram n - n -   1  postlogd
)";

void check_token(const std::string& what, const std::string& s) {
    if (s.find_first_of("\r\n") != std::string::npos)
        throw std::invalid_argument(what + ": line breaks are not allowed: " + s);
}

std::string master_arg(const std::string& a) {
    if (a.find_first_of(" \t") == std::string::npos && !a.empty()) return a;
    return "{ " + a + " }";
}

// A shell script for add_capture_transport: $1 sender, $2.. recipients,
// stdin the message.  Each delivery gets its own file via mktemp(1).
std::string capture_script(const std::string& dir) {
    return "#!/bin/sh\n"
           "# sendguard test harness: store one message with its envelope\n"
           "umask 022\n"
           "f=$(mktemp '" + dir + "/msg.XXXXXXXX') || exit 75\n"
           "{\n"
           "  printf 'X-Capture-Sender: <%s>\\n' \"$1\"; shift\n"
           "  for r in \"$@\"; do printf 'X-Capture-Recipient: <%s>\\n' \"$r\"; done\n"
           "  printf '\\n'\n"
           "  cat\n"
           "} > \"$f.tmp\" && mv \"$f.tmp\" \"$f\" || exit 75\n"
           "exit 0\n";
}

// FACTS.md: pipe(8) runs the command as user=; every directory on the path
// to the binary must be searchable by that user.  The check is for "other"
// permissions (the users we run as, nobody, own nothing here); nullopt: ok.
std::optional<std::string> unreachable_by_others(const std::string& path) {
    if (path.empty() || path[0] != '/') return std::nullopt;  // PATH lookup: not ours
    struct stat st {};
    for (size_t p = path.find('/', 1); p != std::string::npos; p = path.find('/', p + 1)) {
        std::string dir = path.substr(0, p);
        if (::stat(dir.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH)) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
            return dir + " is not searchable by other users (mode " + mode + ")";
        }
    }
    if (::stat(path.c_str(), &st) != 0) return path + " does not exist";
    if (!(st.st_mode & S_IXOTH)) return path + " is not executable by other users";
    return std::nullopt;
}

}  // namespace

void PostfixInstance::set(const std::string& name, const std::string& value) {
    put(name, value);
    apply_if_running();
}

void PostfixInstance::put(const std::string& name, const std::string& value) {
    check_token("main.cf " + name, name + value);
    auto it = std::find_if(params_.begin(), params_.end(),
                           [&](const auto& p) { return p.first == name; });
    if (it != params_.end())
        it->second = value;
    else
        params_.emplace_back(name, value);
}

std::string PostfixInstance::get(const std::string& name) const {
    for (const auto& [k, v] : params_)
        if (k == name) return v;
    return {};
}

void PostfixInstance::append(const std::string& name, const std::string& item) {
    put_append(name, item);
    apply_if_running();
}

void PostfixInstance::put_append(const std::string& name, const std::string& item) {
    std::string cur = get(name);
    put(name, cur.empty() ? item : cur + ", " + item);
}

void PostfixInstance::add_master_line(const std::string& entry) {
    master_extra_.push_back(entry);
    apply_if_running();
}

void PostfixInstance::add_milter(const std::string& endpoint, bool smtpd, bool non_smtpd) {
    if (smtpd) put_append("smtpd_milters", endpoint);
    if (non_smtpd) put_append("non_smtpd_milters", endpoint);
    apply_if_running();
}

void PostfixInstance::add_policy_service(const std::string& endpoint,
                                         const std::string& restriction_list) {
    append(restriction_list, "check_policy_service " + endpoint);
}

void PostfixInstance::add_transport(const std::string& key, const std::string& value) {
    check_token("transport " + key, key + value);
    transports_.emplace_back(key, value);
    put("transport_maps", "texthash:" + config_dir_ + "/transport");
    apply_if_running();
}

void PostfixInstance::add_pipe_transport(const PipeTransport& t) {
    if (t.name.empty() || t.argv.empty()) throw std::invalid_argument("pipe transport: name/argv");
    if (t.user.rfind("root", 0) != 0)
        if (auto why = unreachable_by_others(t.argv[0]))
            throw std::invalid_argument("pipe transport " + t.name + ": user " + t.user +
                                        " cannot run " + t.argv[0] + ": " + *why);
    std::string e = t.name + " unix - n n - " + t.maxproc + " pipe\n  flags=" + t.flags +
                    " user=" + t.user;
    for (const auto& a : t.attributes) e += " " + master_arg(a);
    e += " argv=";
    for (size_t i = 0; i < t.argv.size(); ++i) e += (i ? " " : "") + master_arg(t.argv[i]);
    master_extra_.push_back(e);
    put(t.name + "_destination_recipient_limit", std::to_string(t.recipient_limit));
    apply_if_running();
}

void PostfixInstance::add_capture_transport(const std::string& name) {
    std::string dir = dir_.sub("capture-" + name);
    make_dirs(dir, 0755);
    chown_to(dir, "nobody");
    std::string script = config_dir_ + "/capture-" + name + ".sh";
    write_file(script, capture_script(dir), 0755);
    captures_.push_back(name);
    add_pipe_transport({.name = name,
                        .user = "nobody",
                        .argv = {"/bin/sh", script, "${sender}", "${recipient}"},
                        .attributes = {"null_sender="}});
}

std::vector<CapturedMessage> PostfixInstance::captured(const std::string& name) const {
    namespace fs = std::filesystem;
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_.sub("capture-" + name), ec)) {
        std::string f = e.path().filename().string();
        if (f.size() > 4 && f.compare(f.size() - 4, 4, ".tmp") == 0) continue;  // in progress
        files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
        std::error_code e1, e2;
        auto ta = fs::last_write_time(a, e1), tb = fs::last_write_time(b, e2);
        return ta != tb ? ta < tb : a < b;
    });
    std::vector<CapturedMessage> out;
    for (const auto& f : files) {
        std::string text = file_text(f);
        CapturedMessage m;
        m.file = f;
        size_t pos = 0;
        while (pos < text.size()) {
            size_t eol = text.find('\n', pos);
            if (eol == std::string::npos) eol = text.size();
            std::string line = text.substr(pos, eol - pos);
            pos = eol + 1;
            if (line.empty()) break;
            auto addr = [&](size_t n) {
                std::string a = line.substr(n);
                return a.size() >= 2 ? a.substr(1, a.size() - 2) : a;  // strip <>
            };
            if (line.rfind("X-Capture-Sender: ", 0) == 0) m.sender = addr(18);
            if (line.rfind("X-Capture-Recipient: ", 0) == 0) m.recipients.push_back(addr(21));
        }
        m.content = pos < text.size() ? text.substr(pos) : "";
        out.push_back(std::move(m));
    }
    return out;
}

void PostfixInstance::enable_sasl(const std::string& realm) {
    check_token("sasl realm", realm);
    sasl_realm_ = realm;
    std::string sasl_dir = config_dir_ + "/sasl";
    make_dirs(sasl_dir, 0755);
    make_dirs(dir_.sub("sasldb"), 0755);  // outside config/: postfix check wants it root-owned
    // Debian's Postfix looks for <config_directory>/sasl/smtpd.conf;
    // cyrus_sasl_config_path says the same for an upstream build.
    write_file(sasl_dir + "/smtpd.conf",
               "pwcheck_method: auxprop\n"
               "auxprop_plugin: sasldb\n"
               "sasldb_path: " + dir_.sub("sasldb/sasldb2") + "\n"
               "mech_list: PLAIN LOGIN\n");
    put("smtpd_sasl_auth_enable", "yes");
    put("smtpd_sasl_type", "cyrus");
    put("smtpd_sasl_path", "smtpd");
    put("cyrus_sasl_config_path", sasl_dir);
    put("smtpd_sasl_local_domain", realm);
    put("smtpd_sasl_security_options", "noanonymous");
    apply_if_running();
}

void PostfixInstance::add_sasl_user(const std::string& user, const std::string& password) {
    if (sasl_realm_.empty()) enable_sasl();
    add_sasl_user(user, password, sasl_realm_);
}

void PostfixInstance::add_sasl_user(const std::string& user, const std::string& password,
                                    const std::string& realm) {
    if (sasl_realm_.empty()) enable_sasl();
    check_token("sasl user", user + password + realm);
    std::string db = dir_.sub("sasldb/sasldb2");
    RunResult r = run(SpawnSpec{.argv = {"saslpasswd2", "-f", db, "-c", "-p", "-u", realm, user},
                                .stdin_data = password},
                      Millis(15000));
    if (!r.ok()) fail("saslpasswd2: " + r.describe());
    chown_to(db, "postfix");  // smtpd reads it after dropping privileges
    ::chmod(db.c_str(), 0600);
}

std::string PostfixInstance::render_main_cf() const {
    std::string s = "# written by the sendguard test harness (tests/support/postfix_config.cc)\n";
    for (const auto& [k, v] : params_) s += k + " = " + v + "\n";
    return s;
}

std::string PostfixInstance::render_master_cf() const {
    std::string s = "# written by the sendguard test harness (tests/support/postfix_config.cc)\n";
    s += smtpd_ip_ + ":" + std::to_string(opts_.smtpd_port) + " inet n - " +
         (opts_.smtpd_chroot ? "y" : "n") + " - - smtpd\n";
    s += kBaseMaster;
    for (const auto& e : master_extra_) s += e + "\n";
    return s;
}

void PostfixInstance::write_config() const {
    std::string t = "# key  transport:nexthop\n";
    for (const auto& [k, v] : transports_) t += k + " " + v + "\n";
    const std::pair<std::string, std::string> files[] = {
        {config_dir_ + "/main.cf", render_main_cf()},
        {config_dir_ + "/master.cf", render_master_cf()},
        {config_dir_ + "/transport", t}};
    for (const auto& [path, text] : files) {
        write_file(path, text);
        backdate(path);  // else every Postfix program naps until the file is 2s old
    }
}

void PostfixInstance::apply_if_running() {
    if (!started_) return;
    write_config();
    reload();
}

}  // namespace harness
