// signer.cc - see signer.h
#include "common/dkim/signer.h"

// libopendkim's header declares a global "struct dkim", which would clash
// with this library's namespace, and uses C's _Bool: it is read inside a
// namespace of its own (its functions are extern "C", so linkage is
// unchanged), after the system headers it includes.
#include <inttypes.h>
#include <sys/param.h>
#include <sys/time.h>
#include <sys/types.h>
#define _Bool bool
namespace odk {
#include <opendkim/dkim.h>
}  // namespace odk
#undef _Bool

#include <strings.h>

#include <cstring>
#include <stdexcept>

#include "common/dkim/reclaim.h"
#include "common/sys/c_handle.h"

namespace dkim {
using namespace ::odk;

namespace {

using Handle = sys::CHandle<DKIM, odk::dkim_free>;

// A NULL-terminated char* array over names, as DKIM_OPTS_SIGNHDRS wants it.
struct CList {
    explicit CList(const std::vector<std::string>& names) {
        for (const auto& n : names) ptrs.push_back(n.c_str());
        ptrs.push_back(nullptr);
    }
    std::vector<const char*> ptrs;
};

void set(DKIM_LIB* lib, int opt, void* value, size_t len, std::string_view what) {
    if (const DKIM_STAT st = dkim_options(lib, DKIM_OP_SETOPT, opt, value, len); st != DKIM_STAT_OK)
        throw std::runtime_error("libopendkim refuses " + std::string(what) + ": " + dkim_getresultstr(st));
}

// Postfix hands milters folded header values with bare LF; DKIM
// canonicalisation (RFC 6376 3.4) works on CRLF lines.
void append_crlf(std::string& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
        out += text[i];
    }
}

}  // namespace

// The header lists stay alive as long as the library: libopendkim may keep
// pointers into them.
struct Library::Impl {
    std::vector<std::string> sign_names, over_names;
    std::unique_ptr<CList> sign, over;
    sys::CHandle<DKIM_LIB, odk::dkim_close> lib;
    reclaim::KeyCache keys;  // decoded private keys, by PEM text
};

Library::Library(const LibraryOptions& o) : impl_(std::make_unique<Impl>()) {
    impl_->lib.reset(dkim_init(reclaim::alloc, reclaim::release));
    if (!impl_->lib) throw std::runtime_error("dkim_init failed");
    DKIM_LIB* lib = impl_->lib.get();
    unsigned flags = DKIM_LIBFLAGS_FIXCRLF;
    set(lib, DKIM_OPTS_FLAGS, &flags, sizeof flags, "its flags");
    bool from = false;
    for (const auto& h : o.sign_headers) from = from || strcasecmp(h.c_str(), "From") == 0;
    if (!from) throw std::runtime_error("the signed header fields must include From (RFC 6376 5.4)");
    impl_->sign_names = o.sign_headers;
    impl_->over_names = o.oversign_headers;
    impl_->sign = std::make_unique<CList>(impl_->sign_names);
    impl_->over = std::make_unique<CList>(impl_->over_names);
    set(lib, DKIM_OPTS_SIGNHDRS, impl_->sign->ptrs.data(), sizeof(char**), "the header list (it must name From)");
    set(lib, DKIM_OPTS_OVERSIGNHDRS, impl_->over->ptrs.data(), sizeof(char**), "the oversigned header list");
    if (o.fixed_time) {
        std::uint64_t t = *o.fixed_time;
        set(lib, DKIM_OPTS_FIXEDTIME, &t, sizeof t, "a fixed time");
    }
    if (!o.query_file.empty()) {
        dkim_query_t method = DKIM_QUERY_FILE;
        set(lib, DKIM_OPTS_QUERYMETHOD, &method, sizeof method, "the query method");
        set(lib, DKIM_OPTS_QUERYINFO, const_cast<char*>(o.query_file.c_str()), o.query_file.size(), "the query file");
    }
}

Library::~Library() = default;

// arena is declared first: it outlives the DKIM handle, and what
// dkim_free leaves is released after it (reclaim.h).
struct MessageSigner::Handle {
    reclaim::HandleArena arena;
    ::dkim::Handle dkim;
    const Key* key = nullptr;
    ~Handle() {
        {
            reclaim::HandleScope scope(arena);
            dkim.reset();
        }
        arena.reset();
    }
};

MessageSigner::MessageSigner(const Library& lib, const std::vector<std::shared_ptr<const Key>>& keys,
                             std::string_view id)
    : id_(id.empty() ? std::string("NOQUEUE") : std::string(id)) {
    // libopendkim keeps the id, selector, domain and key pointers: id_ and
    // the Keys (owned by the key table) outlive the handles.
    const std::string& qid = id_;
    for (const auto& k : keys) {
        DKIM_STAT st = DKIM_STAT_OK;
        auto h = std::make_unique<Handle>();
        h->key = k.get();
        h->arena.pem = k->key.pem();
        h->arena.cache = &lib.impl().keys;
        const dkim_alg_t alg =
            k->key.algorithm() == Algorithm::Ed25519Sha256 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;
        h->dkim.reset(dkim_sign(lib.impl().lib.get(), reinterpret_cast<const unsigned char*>(qid.c_str()), &h->arena,
                                reinterpret_cast<dkim_sigkey_t>(const_cast<char*>(k->key.pem().c_str())),
                                reinterpret_cast<const unsigned char*>(k->selector.c_str()),
                                reinterpret_cast<const unsigned char*>(k->domain.c_str()), DKIM_CANON_RELAXED,
                                DKIM_CANON_RELAXED, alg, -1, &st));
        if (!h->dkim) {
            fail("dkim_sign", st, h.get());
            return;
        }
        handles_.push_back(std::move(h));
    }
}

MessageSigner::~MessageSigner() = default;

void MessageSigner::fail(const std::string& what, int status, const Handle* h) {
    if (!error_.empty()) return;
    error_ = what + " failed";
    if (h && h->key) error_ += " for " + h->key->dns_name();
    error_ += ": " + std::string(dkim_getresultstr(status));
    if (h && h->dkim)
        if (const char* e = dkim_geterror(h->dkim.get()); e && *e) error_ += " (" + std::string(e) + ")";
}

void MessageSigner::header(std::string_view name, std::string_view value) {
    if (!ok()) return;
    scratch_.assign(name);
    scratch_ += ':';
    append_crlf(scratch_, value);
    for (auto& h : handles_) {
        const DKIM_STAT st = dkim_header(h->dkim.get(), reinterpret_cast<u_char*>(scratch_.data()), scratch_.size());
        if (st != DKIM_STAT_OK) return fail("dkim_header", st, h.get());
    }
}

void MessageSigner::eoh() {
    if (!ok()) return;
    for (auto& h : handles_)
        if (const DKIM_STAT st = dkim_eoh(h->dkim.get()); st != DKIM_STAT_OK) return fail("dkim_eoh", st, h.get());
}

void MessageSigner::body(std::string_view chunk) {
    if (!ok() || chunk.empty()) return;
    for (auto& h : handles_) {
        const DKIM_STAT st = dkim_body(h->dkim.get(), reinterpret_cast<u_char*>(const_cast<char*>(chunk.data())),
                                       chunk.size());
        if (st != DKIM_STAT_OK) return fail("dkim_body", st, h.get());
    }
}

std::vector<Signature> MessageSigner::finish() {
    std::vector<Signature> out;
    if (!ok()) return out;
    for (auto& h : handles_) {
        DKIM_STAT eom = DKIM_STAT_OK;
        {
            reclaim::HandleScope scope(h->arena);  // the key is loaded here
            eom = dkim_eom(h->dkim.get(), nullptr);
        }
        if (const DKIM_STAT st = eom; st != DKIM_STAT_OK) {
            fail("dkim_eom", st, h.get());
            return {};
        }
        u_char* buf = nullptr;
        size_t len = 0;
        const DKIM_STAT st = dkim_getsighdr_d(h->dkim.get(), std::strlen(DKIM_SIGNHEADER) + 2, &buf, &len);
        if (st != DKIM_STAT_OK || !buf) {
            fail("dkim_getsighdr_d", st, h.get());
            return {};
        }
        // With DKIM_LIBFLAGS_FIXCRLF libopendkim folds with "\r\n\t"; a
        // milter's header value has bare LF line breaks (the MTA writes its
        // own line ends).
        std::string value;
        for (size_t i = 0; i < len; ++i)
            if (buf[i] != '\r') value += static_cast<char>(buf[i]);
        out.push_back(Signature{std::move(value), h->key->domain, h->key->selector, h->key->key.algorithm()});
    }
    return out;
}

std::vector<VerifyResult> verify(const Library& lib, std::string_view message) {
    std::vector<VerifyResult> out;
    DKIM_STAT st = DKIM_STAT_OK;
    reclaim::HandleArena arena;  // outlives d
    ::dkim::Handle d(dkim_verify(lib.impl().lib.get(), reinterpret_cast<const unsigned char*>("verify"), &arena, &st));
    if (!d) return {{"", "", false, std::string("dkim_verify: ") + dkim_getresultstr(st)}};
    std::size_t end = message.find("\r\n\r\n");
    const std::string_view head = message.substr(0, end == std::string_view::npos ? message.size() : end + 2);
    const std::string_view body = end == std::string_view::npos ? std::string_view() : message.substr(end + 4);
    // Header fields: a line starting with white space continues the field.
    std::size_t start = 0;
    while (start < head.size()) {
        std::size_t stop = start;
        do {
            stop = head.find("\r\n", stop);
            if (stop == std::string_view::npos) stop = head.size();
            else stop += 2;
        } while (stop < head.size() && (head[stop] == ' ' || head[stop] == '\t'));
        std::string field(head.substr(start, stop - start));
        while (!field.empty() && (field.back() == '\n' || field.back() == '\r')) field.pop_back();
        dkim_header(d.get(), reinterpret_cast<u_char*>(field.data()), field.size());
        start = stop;
    }
    dkim_eoh(d.get());
    dkim_body(d.get(), reinterpret_cast<u_char*>(const_cast<char*>(body.data())), body.size());
    dkim_eom(d.get(), nullptr);
    DKIM_SIGINFO** sigs = nullptr;
    int n = 0;
    if (dkim_getsiglist(d.get(), &sigs, &n) != DKIM_STAT_OK) return out;
    for (int i = 0; i < n; ++i) {
        VerifyResult r;
        if (const u_char* dom = dkim_sig_getdomain(sigs[i])) r.domain = reinterpret_cast<const char*>(dom);
        if (const u_char* sel = dkim_sig_getselector(sigs[i])) r.selector = reinterpret_cast<const char*>(sel);
        r.pass = DKIM_SIG_CHECK(sigs[i]);
        if (!r.pass) {
            const int e = dkim_sig_geterror(sigs[i]);
            r.error = e != DKIM_SIGERROR_OK ? dkim_sig_geterrorstr(e)
                                            : (dkim_sig_getbh(sigs[i]) == DKIM_SIGBH_MISMATCH ? "body hash mismatch"
                                                                                              : "not verified");
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace dkim
