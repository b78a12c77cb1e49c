// psl.h - organisational domains (RFC 7489 §3.2) from the public suffix list
//
// DESCRIPTION
//   Psl::load(path) reads the public suffix list (Debian's publicsuffix
//   package: kPublicSuffixFile) with libpsl; when the file cannot be read
//   it falls back to the list compiled into libpsl, if it has one, and
//   says so (from_file() is false). Psl::from_text(text) builds one from
//   the text of a list (tests).
//
//   organisational_domain(d) is the registrable domain of d: one label
//   more than the longest public suffix it ends in ("mail.example.co.uk"
//   -> "example.co.uk"). A domain that is itself a public suffix ("co.uk"),
//   or that libpsl cannot place, is its own organisational domain
//   (RFC 7489 §3.2 step 3: "otherwise the domain itself"). Input and output
//   are lower-case A-labels (address::normalise_domain); a trailing dot is
//   ignored.
//
// ERRORS
//   load() and from_text() throw std::runtime_error when no list can be
//   had at all (start-up).
//
// THREAD SAFETY
//   Immutable after load; libpsl's lookups only read the context, so one
//   Psl may be shared by every thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace mailauth {

inline constexpr const char* kPublicSuffixFile = "/usr/share/publicsuffix/public_suffix_list.dat";

class Psl {
public:
    static std::shared_ptr<const Psl> load(const std::string& path = kPublicSuffixFile);
    static std::shared_ptr<const Psl> from_text(std::string_view list);
    ~Psl();
    Psl(const Psl&) = delete;
    Psl& operator=(const Psl&) = delete;

    std::string organisational_domain(std::string_view domain) const;
    bool from_file() const noexcept { return from_file_; }
    const std::string& source() const noexcept { return source_; }

    struct Ctx;  // libpsl's psl_ctx_t, owned

private:
    Psl(Ctx* ctx, bool from_file, std::string source) : ctx_(ctx), from_file_(from_file), source_(std::move(source)) {}
    Ctx* ctx_;
    bool from_file_;
    std::string source_;
};

}  // namespace mailauth
