// sendguard_milter.cc - see sendguard_milter.h
#include "tests/support/sendguard_milter.h"

#include <sys/stat.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "tests/support/net_wait.h"
#include "tests/support/paths.h"

using namespace std::chrono_literals;

namespace harness {
namespace {

// The number after "Name:" in /proc/PID/status, 0 when absent.
long status_field(pid_t pid, const std::string& name) {
    if (pid <= 0) return 0;
    const std::string s = file_text("/proc/" + std::to_string(pid) + "/status");
    const size_t at = s.find("\n" + name + ":");
    if (at == std::string::npos) return 0;
    return std::strtol(s.c_str() + at + name.size() + 2, nullptr, 10);
}

}  // namespace

SendguardMilter::SendguardMilter(SendguardMilterOptions opts) : opts_(std::move(opts)), dir_("sg-milterd-") {
    ::chmod(dir_.path().c_str(), 0755);
    dir_.mkdir("run", 0755);
    dir_.mkdir("lib", 0700);
    write_file(dir_.sub("verp.keys"), std::string(kVerpKey) + "\n", 0600);
    write_file(dir_.sub("senders"), kSenderTable, 0644);
    write_file(dir_.sub("networks"), kNetworkTable, 0644);
    sock_ = dir_.sub("run/milter.sock");
    std::string listen;
    if (opts_.inet) {
        port_ = free_tcp_port(ip_);
        listen = "milter_listen = inet:" + ip_ + ":" + std::to_string(port_) + "\n";
        spec_ = "inet:" + std::to_string(port_) + "@" + ip_;
    } else {
        spec_ = "unix:" + sock_;
    }
    config_ = "config_directory = " + dir_.path() + "\nstate_directory = " + dir_.sub("lib") +
              "\nrun_directory = " + dir_.sub("run") + "\n" + listen +
              "milter_user = root\nmilter_socket_group =\n"
              "bounce_domains = bounces.*\n" + std::string(opts_.dns ? "" : "milter_reply_check = no\nmilter_preflight = no\n") +
              "milter_sender_tables = " + dir_.sub("senders") +
              "\nmilter_network_tables = " + dir_.sub("networks") + "\n" + opts_.extra;
    write_file(config_path(), config_, 0644);
}

void SendguardMilter::start() {
    std::vector<std::string> argv = {sendguard_bin("sendguard-milter"), "-f", "-c", config_path()};
    if (opts_.verbose) argv.push_back("-v");
    proc_.emplace(SpawnSpec{.argv = argv});
    const bool up = opts_.inet ? wait_for_tcp(ip_, port_, 10s) : wait_for_unix(sock_, 10s);
    if (!up) throw std::runtime_error("sendguard-milter did not listen on " + spec_ + ": " + proc_->err());
}

bool SendguardMilter::running() { return proc_ && proc_->running(); }

MilterClient SendguardMilter::client(MilterClientOptions opts) const { return MilterClient::open(spec_, opts); }

long SendguardMilter::rss_kib() const { return status_field(pid(), "VmRSS"); }

long SendguardMilter::threads() const { return status_field(pid(), "Threads"); }

bool SendguardMilter::logged(const std::string& what, std::chrono::milliseconds within) const {
    return wait_until([&] { return err().find(what) != std::string::npos; }, within);
}

MilterTransaction allowed_transaction(const std::string& queue_id) {
    return {.macros = {.mail = {{"{auth_authen}", "alice@customer-a.example"}},
                       .rcpt = {{"{rcpt_mailer}", "smtp"}},
                       .eoh = {{"i", queue_id}},
                       .eom = {{"i", queue_id}}},
            .mail_from = "news@customer-a.example",
            .esmtp_args = {"RET=HDRS", "ENVID=" + queue_id},
            .rcpts = {"dest@remote.example"},
            .headers = {{"From", " News <news@customer-a.example>"}, {"Subject", " test"}},
            .body = "body\n"};
}

}  // namespace harness
