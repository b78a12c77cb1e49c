// commands.cc - see commands.h
#include "bounce-pipe/commands.h"

#include <signal.h>
#include <sysexits.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <string_view>

#include "common/address/verp_setup.h"
#include "common/config/load.h"
#include "common/store/setup.h"
#include "bounce-pipe/transport.h"
#include "common/log/json.h"
#include "common/log/log.h"
#include "common/sys/fd.h"

namespace bounce {
namespace {

// pipe(8) logs what the command prints; a leading enhanced status code
// overrides the exit status, so it must agree with it (4.x.x and 75).
int tempfail(std::string_view queue_id, std::string_view code, std::string_view what) {
    std::string line = std::string(code) + " " + logging::printable(what, 300) + "\n";
    (void)!::write(1, line.data(), line.size());
    logging::warning(queue_id, logging::Line("bounce").kv("action", "defer").kv("reason", what));
    return EX_TEMPFAIL;
}

extern "C" void on_alarm(int) {
    static const char msg[] = "4.3.0 sendguard-bounce: time limit exceeded\n";
    (void)!::write(1, msg, sizeof msg - 1);
    ::_exit(EX_TEMPFAIL);  // nothing was committed that is not whole: LMDB txns are atomic
}

void arm_watchdog(unsigned seconds) {
    struct sigaction sa {};
    sa.sa_handler = on_alarm;
    ::sigaction(SIGALRM, &sa, nullptr);
    ::alarm(seconds);
}

}  // namespace

int run_transport(const TransportArgs& a) noexcept {
    logging::Sink sink = logging::Sink::Syslog;
    logging::open("sendguard-bounce", sink);
    logging::set_verbose(a.verbose);
    arm_watchdog(60);  // the built-in default, until the configuration is read
    try {
        config::Config cfg = config::load(a.config_path, a.overrides);
        if (cfg.boolean("log_to_stderr")) logging::open(cfg.str("syslog_name").c_str(), logging::Sink::Stderr);
        else logging::open(cfg.str("syslog_name").c_str(), sink);
        arm_watchdog(static_cast<unsigned>(cfg.duration("bounce_time_limit").count()));
        if (a.recipient.empty()) return tempfail(a.queue_id, "4.3.5", "no recipient argument: check master.cf argv");

        Settings settings = Settings::from(cfg);
        bool oversized = false;
        std::string message = sys::read_all(0, settings.max_message_size, &oversized);
        if (oversized) {  // keep what was read; drain the rest so pipe(8) sees a clean exit
            char buf[65536];
            while (::read(0, buf, sizeof buf) > 0) {}
        }
        Transport t(std::move(settings), store::open_suppression_store(cfg), address::verp_codecs(cfg));
        Envelope env{a.sender, a.recipient, a.original_recipient, a.queue_id};
        Verdict v = t.deliver(env, message, oversized, static_cast<int64_t>(std::time(nullptr)));
        if (v.exit_code != EX_OK) return tempfail(a.queue_id, "4.3.0", v.reply);
        return EX_OK;
    } catch (const config::Error& e) {
        return tempfail(a.queue_id, "4.3.5", std::string("configuration error: ") + e.what());
    } catch (const address::KeyFileError& e) {
        return tempfail(a.queue_id, "4.3.5", std::string("VERP key file: ") + e.what());
    } catch (const store::Error& e) {
        return tempfail(a.queue_id, "4.3.0", std::string("suppression store: ") + e.what());
    } catch (const std::exception& e) {
        return tempfail(a.queue_id, "4.3.0", e.what());
    } catch (...) {
        return tempfail(a.queue_id, "4.3.0", "unknown error");
    }
}

int run_parse_only(const std::vector<std::string>& files) noexcept {
    int status = 0;
    auto one = [&](const std::string& path) {
        logging::JsonObject o;
        o.add("file", path);
        try {
            std::string msg = sys::read_file(path);
            dsn::Report r = dsn::parse(msg);
            o.add("is_bounce", r.is_bounce).add("kind", dsn::to_string(r.kind));
            if (!r.feedback_type.empty()) o.add("feedback_type", r.feedback_type);
            o.add_raw("recipients", recipients_json(r));
        } catch (const std::exception& e) {
            o.add("error", e.what());
            status = 1;
        }
        std::string line = o.str() + "\n";
        std::fwrite(line.data(), 1, line.size(), stdout);
    };
    try {
        if (!files.empty()) {
            for (const auto& f : files) one(f);
        } else {
            std::string line;
            while (std::getline(std::cin, line)) {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (!line.empty()) one(line);
            }
        }
    } catch (...) {
        return 1;
    }
    std::fflush(stdout);
    return status;
}

}  // namespace bounce
