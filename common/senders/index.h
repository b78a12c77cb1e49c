// index.h - the compact hash indexes behind senders::Rules
//
//   NameIndex  strings -> dense ids 0, 1, 2, ... in the order added, the
//              text kept in one arena; intern(s) adds, find(s) looks up
//   KeySet     a set of 64-bit keys; insert(k), contains(k)
//
// Both are flat open-addressing tables (linear probing, power-of-two
// capacity, at most half full), so a lookup touches a slot or two and, for
// a name, the arena only when 32 bits of the hash match: about a third of
// the memory of std::unordered_map nodes, and fewer cache misses. Built
// once, then only read.
// Errors: none but std::bad_alloc; NameIndex holds at most 2^32 - 2 names
// (intern() throws std::length_error past it).
// Thread safety: const members may run on any number of threads at once;
// intern() and insert() on one thread, before the index is shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace senders {

class NameIndex {
public:
    uint32_t intern(std::string_view s);
    std::optional<uint32_t> find(std::string_view s) const;
    size_t size() const noexcept { return ends_.size(); }
    std::string_view name(uint32_t id) const noexcept;
    // For the capacity to hold n names without growing.
    void reserve(size_t n);

private:
    static uint32_t hash(std::string_view s) noexcept;
    void grow(size_t capacity);
    std::string text_;             // every name, back to back
    std::vector<size_t> ends_;     // id -> end of its text in text_
    std::vector<uint64_t> slots_;  // 0 empty, else hash << 32 | (id + 1)
};

class KeySet {
public:
    void insert(uint64_t key);  // key != kEmpty
    bool contains(uint64_t key) const noexcept;
    size_t size() const noexcept { return size_; }
    void reserve(size_t n);

    static constexpr uint64_t kEmpty = ~uint64_t{0};

private:
    static uint64_t hash(uint64_t key) noexcept;
    void grow(size_t capacity);
    std::vector<uint64_t> slots_;  // kEmpty or a key
    size_t size_ = 0;
};

}  // namespace senders
