// test_dkim_leak.cc - signing many messages does not grow the heap
//
// libopendkim 2.11.0~beta2 leaves a signing handle's loaded Ed25519 key
// behind dkim_free (about 740 bytes a message); common/dkim/reclaim.h
// releases what a handle leaves. Here 2000 Ed25519 messages (and 300 RSA
// ones) are signed, each with its own MessageSigner as sendguard-milter
// does, after a warm-up, and the bytes in use by the process's allocator
// (mallinfo2, or the sanitizer's count under ASan) may grow by at most
// 64 KiB. Also: the reclaim arena frees the blocks a handle left, and one
// key is decoded once however many messages it signs.
#include <malloc.h>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/dkim/reclaim.h"
#include "common/dkim/signer.h"
#include "tests/unit/test_dkim_support.h"

extern "C" std::size_t __sanitizer_get_current_allocated_bytes() __attribute__((weak));

using dkim_test::KeyKind;

namespace {

std::size_t heap_in_use() {
    if (__sanitizer_get_current_allocated_bytes) return __sanitizer_get_current_allocated_bytes();
    return mallinfo2().uordblks;
}

struct Fixture {
    dkim_test::Keys k;
    dkim::KeyTable table = dkim::KeyTable::parse("customer-a.example rsa " + k.file("r", KeyKind::Rsa2048) +
                                                     "\ncustomer-a.example ed " + k.file("e", KeyKind::Ed25519) + "\n",
                                                 "keys");
    dkim::Library lib{[] {
        dkim::LibraryOptions o;
        o.sign_headers = {"From", "To", "Subject", "Date", "Message-ID"};
        o.oversign_headers = {"From"};
        return o;
    }()};
    std::shared_ptr<const dkim::Key> key(const char* sel) const { return table.find("customer-a.example", sel); }
};

bool sign_one(const dkim::Library& lib, const std::shared_ptr<const dkim::Key>& key, int n) {
    dkim::MessageSigner s(lib, {key}, "QID" + std::to_string(n));
    s.header("From", " Customer A <news@customer-a.example>");
    s.header("To", " bob@example.net");
    s.header("Subject", " Message " + std::to_string(n));
    s.header("Message-ID", " <" + std::to_string(n) + "@customer-a.example>");
    s.eoh();
    s.body("Hello,\r\n\r\nthis is message " + std::to_string(n) + ".\r\n");
    return s.finish().size() == 1 && s.ok();
}

std::size_t growth(const dkim::Library& lib, const std::shared_ptr<const dkim::Key>& key, int messages) {
    for (int i = 0; i < 50; ++i) BOOST_REQUIRE(sign_one(lib, key, i));
    const std::size_t before = heap_in_use();
    int failed = 0;
    for (int i = 0; i < messages; ++i) failed += !sign_one(lib, key, i);
    const std::size_t after = heap_in_use();
    BOOST_TEST(failed == 0);
    BOOST_TEST_MESSAGE("heap before " << before << " after " << after << " for " << messages << " messages");
    return after > before ? after - before : 0;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(ed25519_signatures_do_not_grow_the_heap, Fixture) {
    BOOST_TEST(growth(lib, key("ed"), 2000) < 64u * 1024);
}

BOOST_FIXTURE_TEST_CASE(rsa_signatures_do_not_grow_the_heap, Fixture) {
    BOOST_TEST(growth(lib, key("rsa"), 300) < 64u * 1024);
}

BOOST_AUTO_TEST_CASE(arena_frees_what_a_handle_left) {
    dkim::reclaim::HandleArena arena;
    void* kept = dkim::reclaim::alloc(&arena, 100);
    void* freed = dkim::reclaim::alloc(&arena, 200);
    void* other = dkim::reclaim::alloc(&arena, 300);
    void* unowned = dkim::reclaim::alloc(nullptr, 50);
    BOOST_REQUIRE(kept && freed && other && unowned);
    dkim::reclaim::release(&arena, freed);
    dkim::reclaim::release(nullptr, unowned);  // the closure given is not needed
    BOOST_TEST(arena.reset() == 2u);
    BOOST_TEST(arena.reset() == 0u);
    BOOST_TEST(dkim::reclaim::alloc(&arena, static_cast<std::size_t>(-1)) == nullptr);
}

BOOST_AUTO_TEST_CASE(a_key_is_decoded_once) {
    // Count decodes by what the signer's KeyCache holds: one entry per key
    // text, reused by every message.
    dkim::reclaim::KeyCache cache;
    const std::string& pem = dkim_test::pem(KeyKind::Ed25519);
    std::vector<EVP_PKEY*> got;
    for (int i = 0; i < 3; ++i) {
        BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        got.push_back(cache.get(pem, b));
        BIO_free(b);
    }
    BOOST_TEST(cache.size() == 1u);
    BOOST_TEST((got[0] && got[0] == got[1] && got[1] == got[2]));
    for (EVP_PKEY* k : got) EVP_PKEY_free(k);
    BIO* bad = BIO_new_mem_buf("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", -1);
    BOOST_TEST(cache.get("not a key", bad) == nullptr);
    BIO_free(bad);
    BOOST_TEST(cache.size() == 1u);
}
