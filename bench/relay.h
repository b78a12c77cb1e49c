// relay.h - Postfix relay throughput, one listener per variant (bench only)
//
// The frame bench_milter and bench_dkim share. One private Postfix
// (config, queue and log under the run directory, started with
// `postfix -c`) relays everything to Postfix's own smtp-sink on
// 127.0.0.2. It has one smtpd listener on 127.0.0.1 per Variant; they
// differ in smtpd_milters and, for policy services, in
// smtpd_recipient_restrictions and smtpd_end_of_data_restrictions. smtp-source feeds each listener in turn
// (messages over 10 sessions, 512 bytes of body, recipients per message),
// rounds times: A B C A B C ..., so load from other processes on the
// machine falls on every variant alike. A run's time is from
// smtp-source's start until the sink has counted (smtp-sink -c) every
// message of the run: a message counts once Postfix has relayed it. A
// warm-up of 50 messages to each listener comes first and is not counted.
//
//   Relay relay(dir, users(), variants, {"milter", 2000, 5, 2});  starts
//   relay.after_warm_up = [&] { ... };                    optional
//   Outcome o = relay.run();                              prints a line per run
//   summary(variants, o, 0, i, 0.90, options);          ratio to variant 0
//
// The caller starts each variant's milter or policy process (it must listen
// before run()) and stops it afterwards; Variant::process names it for
// the CPU figure. Errors: std::runtime_error. Needs root.
#pragma once

#include <sys/types.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

namespace bench {

// Unprivileged users and groups the pieces run as, as installed.
struct Users {
    uid_t sendguard_uid;
    gid_t sendguard_gid;
    uid_t postfix_uid;
    gid_t postfix_gid;
};
Users users();  // throws when sendguard, postfix, nobody or postdrop is missing

struct Variant {
    std::string label;    // "no milter", "sendguard-milter"
    std::string milters;  // smtpd_milters of its listener; "" none
    pid_t process = -1;   // the milter process whose CPU time is counted; -1 none
    // smtpd_recipient_restrictions and smtpd_end_of_data_restrictions of
    // its listener (say "check_policy_service inet:127.0.0.1:PORT"); ""
    // leaves Postfix's.
    std::string recipient_restrictions = {};
    std::string end_of_data_restrictions = {};
};

struct Options {
    const char* tag = "milter";  // prefix of every output line
    int messages = 2000;
    int rounds = 5;
    int recipients = 2;
};

struct Outcome {
    std::vector<std::vector<double>> seconds;  // [variant][round]
    std::vector<double> cpu;                   // [variant] seconds of its process in the runs
    bool complete = true;                      // every run delivered every message
};

class Relay {
public:
    Relay(std::string dir, const Users& u, std::vector<Variant> variants, Options o);
    ~Relay();  // stops Postfix and the sink
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    std::function<void()> after_warm_up;  // e.g. counting the milter's log lines
    Outcome run();
    // One message through the variant's listener to a second sink that
    // keeps it (smtp-sink -d; recipient kSampleRecipient, routed there by
    // transport_maps): the message as relayed, "" when none came in 30 s.
    std::string sample(size_t variant);

private:
    double measure(size_t variant, int messages, int recipients, bool& complete);
    std::string dir_;
    std::vector<Variant> variants_;
    Options o_;
    std::vector<uint16_t> ports_;
    pid_t sink_ = -1;
    pid_t sample_sink_ = -1;
    bool started_ = false;
    long sunk_ = 0;
};

// "label: R msgs/s (median of N runs), ratio Q to BASE (median of N
// rounds[; target >= T: met|MISSED]); per round ..." (no target when
// target is 0). Returns the median ratio.
double summary(const std::vector<Variant>& v, const Outcome& o, size_t base, size_t which,
               double target, const Options& opt);
// "label: CPU X ms per message (...)" for a variant with a process.
void cpu_summary(const std::vector<Variant>& v, const Outcome& o, size_t which, const Options& opt);

// Helpers the benches share.
[[noreturn]] void fail(const std::string& what);
void write_file(const std::string& path, const std::string& text, mode_t mode = 0644);
std::string read_file(const std::string& path);
void make_dir(const std::string& path, mode_t mode, uid_t uid = 0, gid_t gid = 0);
uint16_t free_port(const char* ip);
pid_t spawn(const std::vector<std::string>& argv, const std::string& out);
int run(const std::vector<std::string>& argv, const std::string& out);
void stop(pid_t pid);
bool wait_for_file(const std::string& path, int seconds);
long proc_kb(pid_t pid, const char* field);  // "VmRSS:" or "VmHWM:" in kB
double cpu_seconds(pid_t pid);               // user + system, all threads
size_t count_of(const std::string& text, const std::string& what);
std::string lines(std::initializer_list<std::string> l);
// Preconditions of every relay bench: root and Debian's postfix package.
bool can_run(const char* tag);  // false: printed why (the caller exits 77)
std::string make_run_dir(const char* name, const char* parent = "/tmp");  // PARENT/sg-bench-NAME-XXXXXX, 0755
void finish_run_dir(const char* tag, const std::string& dir, int status);  // removes it unless kept

}  // namespace bench
