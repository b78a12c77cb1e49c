// psl.cc - see psl.h
#include "common/mailauth/psl.h"

#include <libpsl.h>

#include <cstdio>
#include <stdexcept>

#include "common/sys/ascii.h"

namespace mailauth {

struct Psl::Ctx {
    psl_ctx_t* psl;
};

std::shared_ptr<const Psl> Psl::load(const std::string& path) {
    if (psl_ctx_t* p = psl_load_file(path.c_str()))
        return std::shared_ptr<const Psl>(new Psl(new Ctx{p}, true, path));
    // psl_builtin() is a static context: never freed (psl_free ignores it).
    if (const psl_ctx_t* b = psl_builtin(); b && psl_suffix_count(b) > 0)
        return std::shared_ptr<const Psl>(new Psl(new Ctx{const_cast<psl_ctx_t*>(b)}, false, "libpsl built-in list"));
    throw std::runtime_error("cannot read the public suffix list " + path +
                             " and libpsl has no built-in list: install Debian's publicsuffix package");
}

std::shared_ptr<const Psl> Psl::from_text(std::string_view list) {
    // psl_load_fp reads a FILE; fmemopen gives one over the text.
    std::string copy(list);
    FILE* f = ::fmemopen(copy.data(), copy.size(), "r");
    if (!f) throw std::runtime_error("fmemopen failed for a public suffix list");
    psl_ctx_t* p = psl_load_fp(f);
    std::fclose(f);
    if (!p) throw std::runtime_error("public suffix list text does not load");
    return std::shared_ptr<const Psl>(new Psl(new Ctx{p}, false, "text"));
}

Psl::~Psl() {
    if (ctx_->psl != psl_builtin()) psl_free(ctx_->psl);
    delete ctx_;
}

std::string Psl::organisational_domain(std::string_view domain) const {
    std::string d = sys::to_lower_ascii(domain);
    if (!d.empty() && d.back() == '.') d.pop_back();
    const char* r = psl_registrable_domain(ctx_->psl, d.c_str());
    return r ? std::string(r) : d;
}

}  // namespace mailauth
