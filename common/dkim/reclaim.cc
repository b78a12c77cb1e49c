// reclaim.cc - see reclaim.h
#include "common/dkim/reclaim.h"

#include <dlfcn.h>
#include <link.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

// Any function of libopendkim's, to find its code (reclaim.h: dkim.h is
// not read here).
extern "C" const char* dkim_getresultstr(int status);

namespace dkim::reclaim {

// Each block libopendkim allocates starts with this header (32 bytes, so
// the caller's part keeps malloc's alignment).
struct alignas(16) Block {
    Block* prev;
    Block* next;
    HandleArena* arena;
};
static_assert(sizeof(Block) % alignof(std::max_align_t) == 0);

namespace {

thread_local HandleArena* current = nullptr;
// Set while this file's own code calls OpenSSL (the cache, reset()), so
// those calls are not taken for the library's.
thread_local bool own_call = false;

struct OwnCall {
    OwnCall() noexcept : saved(own_call) { own_call = true; }
    ~OwnCall() { own_call = saved; }
    bool saved;
};


#ifndef SG_DKIM_RENAMED
// With the shared library, the interposed functions are also reached by
// libcrypto's own calls (an EVP_PKEY_CTX dropping its reference to the
// key, say): only calls returning into libopendkim's code are its own.
struct Range {
    std::uintptr_t lo = 0, hi = 0;
};
Range odk_range() {
    Range r;
    Dl_info info{};
    if (!dladdr(reinterpret_cast<void*>(&::dkim_getresultstr), &info) || !info.dli_fbase) return r;
    struct Find {
        const void* base;
        Range* out;
    } find{info.dli_fbase, &r};
    dl_iterate_phdr(
        [](dl_phdr_info* i, std::size_t, void* data) -> int {
            auto* f = static_cast<Find*>(data);
            bool mine = false;
            for (int k = 0; k < i->dlpi_phnum; ++k)
                if (i->dlpi_phdr[k].p_type == PT_LOAD &&
                    reinterpret_cast<const void*>(i->dlpi_addr + i->dlpi_phdr[k].p_vaddr - i->dlpi_phdr[k].p_offset) ==
                        f->base)
                    mine = true;
            if (!mine) return 0;
            for (int k = 0; k < i->dlpi_phnum; ++k)
                if (i->dlpi_phdr[k].p_type == PT_LOAD && (i->dlpi_phdr[k].p_flags & PF_X)) {
                    f->out->lo = i->dlpi_addr + i->dlpi_phdr[k].p_vaddr;
                    f->out->hi = f->out->lo + i->dlpi_phdr[k].p_memsz;
                }
            return 1;
        },
        &find);
    return r;
}
bool from_library(const void* ret) {
    static const Range r = odk_range();
    const auto a = reinterpret_cast<std::uintptr_t>(ret);
    return a >= r.lo && a < r.hi;
}
#else
bool from_library(const void*) { return true; }  // only its references are renamed
#endif

// The handle a call of libopendkim's is accounted to, or NULL.
HandleArena* active(const void* ret) noexcept {
    return own_call || !current || !from_library(ret) ? nullptr : current;
}

}  // namespace

// The originals: with libopendkim.a renamed, OpenSSL's own functions; with
// the shared library, the next definition after this program's.
#ifdef SG_DKIM_RENAMED
namespace {
EVP_PKEY* real_pem_read(BIO* b, EVP_PKEY** x, pem_password_cb* cb, void* u) {
    return ::PEM_read_bio_PrivateKey(b, x, cb, u);
}
BIO* real_new_mem_buf(const void* buf, int len) { return ::BIO_new_mem_buf(buf, len); }
int real_bio_free(BIO* b) { return ::BIO_free(b); }
void real_pkey_free(EVP_PKEY* k) { ::EVP_PKEY_free(k); }
}  // namespace
#else
namespace {
template <class F>
F next_definition(std::atomic<void*>& slot, const char* name) {
    void* p = slot.load(std::memory_order_acquire);
    if (!p) {
        p = dlsym(RTLD_NEXT, name);
        if (!p) {
            std::fprintf(stderr, "common/dkim: %s not found after this program (libcrypto missing?)\n", name);
            std::abort();
        }
        slot.store(p, std::memory_order_release);
    }
    return reinterpret_cast<F>(p);
}
std::atomic<void*> pem_read_slot, new_mem_buf_slot, bio_free_slot, pkey_free_slot;
EVP_PKEY* real_pem_read(BIO* b, EVP_PKEY** x, pem_password_cb* cb, void* u) {
    return next_definition<EVP_PKEY* (*)(BIO*, EVP_PKEY**, pem_password_cb*, void*)>(pem_read_slot,
                                                                                     "PEM_read_bio_PrivateKey")(
        b, x, cb, u);
}
BIO* real_new_mem_buf(const void* buf, int len) {
    return next_definition<BIO* (*)(const void*, int)>(new_mem_buf_slot, "BIO_new_mem_buf")(buf, len);
}
int real_bio_free(BIO* b) { return next_definition<int (*)(BIO*)>(bio_free_slot, "BIO_free")(b); }
void real_pkey_free(EVP_PKEY* k) { next_definition<void (*)(EVP_PKEY*)>(pkey_free_slot, "EVP_PKEY_free")(k); }
}  // namespace
#endif

namespace {

EVP_PKEY* on_pem_read(const void* ret, BIO* b, EVP_PKEY** x, pem_password_cb* cb, void* u) {
    HandleArena* a = active(ret);
    if (!a || !a->cache || a->pem.empty() || x || cb || u) return real_pem_read(b, x, cb, u);
    // Only the handle's own key text, read from its start.
    char* data = nullptr;
    const long len = BIO_get_mem_data(b, &data);
    if (len < 0 || static_cast<std::size_t>(len) != a->pem.size() || !data ||
        std::memcmp(data, a->pem.data(), a->pem.size()) != 0)
        return real_pem_read(b, x, cb, u);
    EVP_PKEY* k = nullptr;
    {
        OwnCall own;
        k = a->cache->get(a->pem, b);
    }
    if (!k) return nullptr;
    if (a->key && a->key != k) {
        // A second, different key object for one handle (the cache started
        // again in between): only one is accounted; this one is the
        // library's to free, as without the cache.
        return k;
    }
    a->key = k;
    ++a->key_refs;
    return k;
}

BIO* on_new_mem_buf(const void* ret, const void* buf, int len) {
    BIO* b = real_new_mem_buf(buf, len);
    if (HandleArena* a = active(ret); a && b)
        for (BIO*& slot : a->bios)
            if (!slot) {
                slot = b;
                break;
            }
    return b;
}

int on_bio_free(const void* ret, BIO* b) {
    if (HandleArena* a = active(ret); a && b)
        for (BIO*& slot : a->bios)
            if (slot == b) slot = nullptr;
    return real_bio_free(b);
}

void on_pkey_free(const void* ret, EVP_PKEY* k) {
    if (HandleArena* a = active(ret); a && k && k == a->key && a->key_refs > 0) --a->key_refs;
    real_pkey_free(k);
}

}  // namespace

KeyCache::~KeyCache() {
    OwnCall own;
    std::lock_guard lock(mu_);
    clear_locked();
}

void KeyCache::clear_locked() {
    for (auto& [pem, key] : keys_) real_pkey_free(key);
    keys_.clear();
}

std::size_t KeyCache::size() const {
    std::lock_guard lock(mu_);
    return keys_.size();
}

EVP_PKEY* KeyCache::get(std::string_view pem, BIO* bio) {
    std::lock_guard lock(mu_);
    auto it = keys_.find(pem);
    if (it == keys_.end()) {
        EVP_PKEY* k = real_pem_read(bio, nullptr, nullptr, nullptr);
        if (!k) return nullptr;
        if (keys_.size() >= limit) clear_locked();
        it = keys_.emplace(std::string(pem), k).first;
    }
    if (EVP_PKEY_up_ref(it->second) != 1) return nullptr;
    return it->second;
}

std::size_t HandleArena::reset() noexcept {
    OwnCall own;
    for (BIO*& b : bios)
        if (b) {
            real_bio_free(b);
            b = nullptr;
        }
    for (; key_refs > 0; --key_refs) real_pkey_free(key);
    key = nullptr;
    std::size_t n = 0;
    while (head) {
        Block* b = head;
        head = b->next;
        std::free(b);
        ++n;
    }
    return n;
}

void* alloc(void* closure, std::size_t n) {
    if (n > SIZE_MAX - sizeof(Block)) return nullptr;
    auto* b = static_cast<Block*>(std::malloc(sizeof(Block) + n));
    if (!b) return nullptr;
    auto* a = static_cast<HandleArena*>(closure);
    b->arena = a;
    b->prev = nullptr;
    b->next = a ? a->head : nullptr;
    if (a) {
        if (a->head) a->head->prev = b;
        a->head = b;
    }
    return b + 1;
}

void release(void*, void* p) {
    if (!p) return;
    Block* b = static_cast<Block*>(p) - 1;
    if (HandleArena* a = b->arena) {
        if (b->prev) b->prev->next = b->next;
        else a->head = b->next;
        if (b->next) b->next->prev = b->prev;
    }
    std::free(b);
}

HandleScope::HandleScope(HandleArena& arena) noexcept : saved_(current) { current = &arena; }
HandleScope::~HandleScope() { current = saved_; }

}  // namespace dkim::reclaim

// The four entry points libopendkim's calls reach (reclaim.h).
#ifdef SG_DKIM_RENAMED
#define SG_ODK(name) sg_odk_##name
#else
#define SG_ODK(name) name
#endif
extern "C" {
EVP_PKEY* SG_ODK(PEM_read_bio_PrivateKey)(BIO* b, EVP_PKEY** x, pem_password_cb* cb, void* u) {
    return dkim::reclaim::on_pem_read(__builtin_return_address(0), b, x, cb, u);
}
BIO* SG_ODK(BIO_new_mem_buf)(const void* buf, int len) { return dkim::reclaim::on_new_mem_buf(__builtin_return_address(0), buf, len); }
int SG_ODK(BIO_free)(BIO* b) { return dkim::reclaim::on_bio_free(__builtin_return_address(0), b); }
void SG_ODK(EVP_PKEY_free)(EVP_PKEY* k) { dkim::reclaim::on_pkey_free(__builtin_return_address(0), k); }
}
