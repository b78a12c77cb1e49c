// smtp_client.cc - see smtp_client.h
#include "tests/support/smtp_client.h"

#include "tests/support/net_wait.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/time.h>
#include <system_error>
#include <unistd.h>

namespace harness {
namespace {

constexpr size_t kMaxLine = 4096;
constexpr size_t kMaxLines = 100;

void set_timeouts(int fd, std::chrono::milliseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

std::string Reply::text() const {
    std::string out;
    for (const auto& l : lines) {
        if (!out.empty()) out += '\n';
        out += l;
    }
    return out;
}

std::string Reply::str() const {
    if (code == 0) return "(no reply)";
    return std::to_string(code) + (lines.empty() ? "" : " " + lines.front());
}

std::string SmtpTranscript::queue_id() const {
    if (!accepted() || data_end->lines.empty()) return {};
    const std::string& l = data_end->lines.front();
    size_t p = l.find("queued as ");
    if (p == std::string::npos) return {};
    std::string id = l.substr(p + 10);
    size_t end = id.find_first_of(" \t");
    return end == std::string::npos ? id : id.substr(0, end);
}

std::string SmtpTranscript::str() const {
    std::string out = "greeting: " + greeting.str() + "\nehlo: " + ehlo.str() + "\n";
    if (auth) out += "auth: " + auth->str() + "\n";
    out += "mail: " + mail.str() + "\n";
    for (const auto& r : rcpt) out += "rcpt: " + r.str() + "\n";
    if (data_start) out += "data: " + data_start->str() + "\n";
    if (data_end) out += "dot: " + data_end->str() + "\n";
    return out;
}

std::string base64(std::string_view in) {
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                     (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += tbl[(v >> 6) & 63];
        out += tbl[v & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += tbl[(v >> 18) & 63];
        out += tbl[(v >> 12) & 63];
        out += i + 1 < in.size() ? tbl[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string smtp_data_block(std::string_view message) {
    std::string out;
    out.reserve(message.size() + message.size() / 20 + 8);
    bool bol = true;
    for (size_t i = 0; i < message.size(); ++i) {
        char c = message[i];
        if (bol && c == '.') out += '.';
        if (c == '\r' && i + 1 < message.size() && message[i + 1] == '\n') continue;
        if (c == '\n') {
            out += "\r\n";
            bol = true;
            continue;
        }
        out += c;
        bol = false;
    }
    if (!bol) out += "\r\n";
    out += ".\r\n";
    return out;
}

SmtpClient SmtpClient::connect(const std::string& ip, uint16_t port, const NetNs* ns,
                               std::chrono::milliseconds timeout) {
    std::string err;
    sys::Fd fd = connect_tcp(ip, port, std::min(timeout, std::chrono::milliseconds(10000)), ns,
                             &err);
    if (!fd) throw SmtpError(err);
    return SmtpClient(std::move(fd), timeout);
}

SmtpClient::SmtpClient(sys::Fd fd, std::chrono::milliseconds timeout) : fd_(std::move(fd)) {
    set_timeouts(fd_.get(), timeout);
    greeting_ = read_reply();
}

void SmtpClient::send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw SmtpError(std::string("smtp send: ") + std::strerror(errno));
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
}

Reply SmtpClient::read_reply() {
    Reply r;
    for (;;) {
        size_t eol;
        while ((eol = buf_.find('\n')) == std::string::npos) {
            if (buf_.size() > kMaxLine) throw SmtpError("smtp reply line too long");
            char tmp[4096];
            ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                throw SmtpError("smtp reply timed out");
            if (n < 0) throw SmtpError(std::string("smtp recv: ") + std::strerror(errno));
            if (n == 0) throw SmtpError("smtp connection closed by server");
            buf_.append(tmp, static_cast<size_t>(n));
        }
        std::string line = buf_.substr(0, eol);
        buf_.erase(0, eol + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.size() > kMaxLine) throw SmtpError("smtp reply line too long");
        if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
            !std::isdigit(static_cast<unsigned char>(line[1])) ||
            !std::isdigit(static_cast<unsigned char>(line[2])) ||
            (line.size() > 3 && line[3] != ' ' && line[3] != '-'))
            throw SmtpError("malformed smtp reply: " + line.substr(0, 200));
        int code = std::stoi(line.substr(0, 3));
        if (r.code != 0 && code != r.code) throw SmtpError("smtp reply code changed: " + line);
        r.code = code;
        r.lines.push_back(line.size() > 4 ? line.substr(4) : "");
        if (r.lines.size() > kMaxLines) throw SmtpError("smtp reply too long");
        if (line.size() <= 3 || line[3] == ' ') return r;
    }
}

Reply SmtpClient::command(std::string_view line) {
    send_raw(std::string(line) + "\r\n");
    return read_reply();
}

Reply SmtpClient::ehlo(std::string_view name) {
    Reply r = command("EHLO " + std::string(name));
    extensions_.clear();
    for (size_t i = 1; r.code == 250 && i < r.lines.size(); ++i)
        extensions_.push_back(upper(r.lines[i]));
    return r;
}

bool SmtpClient::has_extension(std::string_view keyword) const {
    std::string k = upper(std::string(keyword));
    for (const auto& e : extensions_)
        if (e == k || e.rfind(k + " ", 0) == 0) return true;
    return false;
}

Reply SmtpClient::auth_plain(std::string_view user, std::string_view password) {
    std::string resp;
    resp += '\0';
    resp += user;
    resp += '\0';
    resp += password;
    return command("AUTH PLAIN " + base64(resp));
}

Reply SmtpClient::mail_from(std::string_view addr, std::string_view params) {
    std::string cmd = "MAIL FROM:<" + std::string(addr) + ">";
    if (!params.empty()) cmd += " " + std::string(params);
    return command(cmd);
}

Reply SmtpClient::rcpt_to(std::string_view addr) {
    return command("RCPT TO:<" + std::string(addr) + ">");
}

Reply SmtpClient::data(std::string_view message, Reply* start) {
    Reply s = command("DATA");
    if (start) *start = s;
    if (s.code != 354) return s;
    send_raw(smtp_data_block(message));
    return read_reply();
}

Reply SmtpClient::quit() {
    try {
        return command("QUIT");
    } catch (const SmtpError&) {
        return Reply{};  // the server may already have closed the connection
    }
}

SmtpTranscript send_mail(const std::string& ip, uint16_t port, const SmtpEnvelope& env,
                         const NetNs* ns) {
    SmtpTranscript t;
    SmtpClient c = SmtpClient::connect(ip, port, ns);
    t.greeting = c.greeting();
    if (t.greeting.code != 220) return t;
    t.ehlo = c.ehlo(env.helo);
    if (t.ehlo.code != 250) return t;
    if (env.auth_plain) {
        t.auth = c.auth_plain(env.auth_plain->first, env.auth_plain->second);
        if (t.auth->code != 235) {
            c.quit();
            return t;
        }
    }
    t.mail = c.mail_from(env.mail_from, env.mail_params);
    if (t.mail.code != 250) {
        c.quit();
        return t;
    }
    bool any = false;
    for (const auto& r : env.rcpt_to) {
        t.rcpt.push_back(c.rcpt_to(r));
        any = any || t.rcpt.back().positive();
    }
    if (any) {
        Reply start;
        Reply end = c.data(env.data, &start);
        t.data_start = start;
        if (start.code == 354) t.data_end = end;
    }
    c.quit();
    return t;
}

}  // namespace harness
