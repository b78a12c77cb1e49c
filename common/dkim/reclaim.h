// reclaim.h - what libopendkim leaves behind a handle, released; decoded keys, cached
//
// DESCRIPTION
//   libopendkim 2.11.0~beta2 (Debian 12) loads a signing handle's private
//   key in dkim_eom (dkim_privkey_load): a struct dkim_crypto from the
//   library's allocator, a memory BIO over the PEM text (BIO_new_mem_buf),
//   the EVP_PKEY PEM_read_bio_PrivateKey decodes from it, and a buffer for
//   the signature. dkim_free releases them for RSA but not for Ed25519
//   (about 740 bytes a signature; fixed upstream after 2.11.0~beta2). And
//   the key is decoded from PEM on every message.
//
//   Nothing here reads a private structure of the library. Instead, what
//   the library takes for one handle is accounted to that handle, and what
//   is still held after dkim_free is released, whatever the library's
//   version releases itself:
//   - Memory: dkim_init gets alloc()/release(), and every handle a memory
//     closure (dkim_sign's and dkim_verify's memclosure), a HandleArena:
//     each block carries a small header linking it into its handle's list;
//     HandleArena::reset() frees the blocks dkim_free left.
//   - OpenSSL objects: while a HandleScope is active on a thread (the
//     signer's dkim_eom and dkim_free calls), BIO_new_mem_buf results are
//     recorded, and BIO_free and EVP_PKEY_free calls on recorded objects
//     are counted; PEM_read_bio_PrivateKey, when the BIO holds exactly the
//     handle's PEM text, returns the Library's cached EVP_PKEY for that
//     text with one reference taken for the library (decoded once). After
//     dkim_free, HandleArena::reset() frees the BIOs and drops the key
//     references the library did not release. Outside a scope the four
//     functions are OpenSSL's own, unchanged.
//   How the four functions are reached: with libopendkim shared, the
//   program defines them (they interpose; the originals are found with
//   dlsym(RTLD_NEXT); libcrypto's own calls reach them too, so only calls
//   whose return address is in libopendkim's code are accounted); with
//   libopendkim.a (SENDGUARD_STATIC_DEPS), the
//   build renames the archive's references to sg_odk_NAME (objcopy
//   --redefine-sym, SG_DKIM_RENAMED), so only libopendkim's calls come here.
//
//   KeyCache: PEM text -> EVP_PKEY, at most KeyCache::limit keys (then it
//   starts again; keys in use keep their own references).
//
// ERRORS
//   Allocation failure: alloc() returns NULL (libopendkim reports
//   DKIM_STAT_NORESOURCE). A PEM text that does not decode: the library
//   sees NULL from PEM_read_bio_PrivateKey, as without the cache.
//
// THREAD SAFETY
//   A HandleArena belongs to one handle (one thread at a time); scopes are
//   per thread; KeyCache is locked.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;
typedef struct bio_st BIO;

namespace dkim::reclaim {

class KeyCache {
public:
    static constexpr std::size_t limit = 4096;
    KeyCache() = default;
    ~KeyCache();
    KeyCache(const KeyCache&) = delete;
    KeyCache& operator=(const KeyCache&) = delete;
    // The key decoded from pem (bio reads it), a reference for the
    // caller; NULL when it does not decode.
    EVP_PKEY* get(std::string_view pem, BIO* bio);
    std::size_t size() const;

private:
    void clear_locked();
    mutable std::mutex mu_;
    std::map<std::string, EVP_PKEY*, std::less<>> keys_;
};

struct Block;
class HandleArena {
public:
    HandleArena() = default;
    ~HandleArena() { reset(); }
    HandleArena(const HandleArena&) = delete;
    HandleArena& operator=(const HandleArena&) = delete;
    // After dkim_free: release what the library left (blocks, BIOs, key
    // references). Returns the number of blocks freed.
    std::size_t reset() noexcept;

    // Recorded while a scope is active (the interposed functions).
    static constexpr int max_bios = 8;
    Block* head = nullptr;
    BIO* bios[max_bios] = {};
    EVP_PKEY* key = nullptr;  // handed to the library
    int key_refs = 0;         // references handed minus those it dropped
    std::string_view pem;     // the handle's key text (signing handles)
    KeyCache* cache = nullptr;
};

// libopendkim's allocator (dkim_init), closure a HandleArena* or NULL.
void* alloc(void* closure, std::size_t n);
void release(void* closure, void* p);

// Makes arena the thread's current handle for the interposed functions.
class HandleScope {
public:
    explicit HandleScope(HandleArena& arena) noexcept;
    ~HandleScope();
    HandleScope(const HandleScope&) = delete;
    HandleScope& operator=(const HandleScope&) = delete;

private:
    HandleArena* saved_;
};

}  // namespace dkim::reclaim
