// index.cc - see index.h
#include "common/senders/index.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <stdexcept>

namespace senders {
namespace {

// Capacity for n entries at most half full; at least 16.
size_t capacity_for(size_t n) {
    return std::bit_ceil(std::max<size_t>(16, 2 * n));
}

}  // namespace

// --- NameIndex

uint32_t NameIndex::hash(std::string_view s) noexcept {
    const size_t h = std::hash<std::string_view>{}(s);
    return static_cast<uint32_t>(h ^ (h >> 32));
}

std::string_view NameIndex::name(uint32_t id) const noexcept {
    const size_t begin = id == 0 ? 0 : ends_[id - 1];
    return std::string_view(text_).substr(begin, ends_[id] - begin);
}

std::optional<uint32_t> NameIndex::find(std::string_view s) const {
    if (slots_.empty()) return std::nullopt;
    const uint32_t h = hash(s);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const uint64_t slot = slots_[i];
        if (slot == 0) return std::nullopt;
        if (static_cast<uint32_t>(slot >> 32) != h) continue;
        const auto id = static_cast<uint32_t>(slot) - 1;
        if (name(id) == s) return id;
    }
}

uint32_t NameIndex::intern(std::string_view s) {
    if (2 * (size() + 1) > slots_.size()) grow(capacity_for(size() + 1));
    const uint32_t h = hash(s);
    const size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        const uint64_t slot = slots_[i];
        if (slot == 0) break;
        if (static_cast<uint32_t>(slot >> 32) == h && name(static_cast<uint32_t>(slot) - 1) == s)
            return static_cast<uint32_t>(slot) - 1;
    }
    if (size() >= 0xfffffffeu) throw std::length_error("senders: too many names");
    const auto id = static_cast<uint32_t>(size());
    text_.append(s);
    ends_.push_back(text_.size());
    slots_[i] = (uint64_t{h} << 32) | (uint64_t{id} + 1);
    return id;
}

void NameIndex::reserve(size_t n) {
    if (2 * n > slots_.size()) grow(capacity_for(n));
    ends_.reserve(n);
}

void NameIndex::grow(size_t capacity) {
    // The stored hash bits place each entry again: no name is hashed twice.
    std::vector<uint64_t> old(capacity, 0);
    old.swap(slots_);
    const size_t mask = capacity - 1;
    for (const uint64_t slot : old) {
        if (slot == 0) continue;
        size_t i = static_cast<uint32_t>(slot >> 32) & mask;
        while (slots_[i] != 0) i = (i + 1) & mask;
        slots_[i] = slot;
    }
}

// --- KeySet

uint64_t KeySet::hash(uint64_t x) noexcept {
    // splitmix64's finaliser: the key's fields (principal, kind, name id)
    // are small numbers in separate bit ranges; this spreads them.
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

bool KeySet::contains(uint64_t key) const noexcept {
    if (slots_.empty()) return false;
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
        if (slots_[i] == key) return true;
        if (slots_[i] == kEmpty) return false;
    }
}

void KeySet::insert(uint64_t key) {
    if (2 * (size_ + 1) > slots_.size()) grow(capacity_for(size_ + 1));
    const size_t mask = slots_.size() - 1;
    size_t i = hash(key) & mask;
    while (slots_[i] != kEmpty) {
        if (slots_[i] == key) return;
        i = (i + 1) & mask;
    }
    slots_[i] = key;
    ++size_;
}

void KeySet::reserve(size_t n) {
    if (2 * n > slots_.size()) grow(capacity_for(n));
}

void KeySet::grow(size_t capacity) {
    std::vector<uint64_t> old(capacity, kEmpty);
    old.swap(slots_);
    const size_t mask = capacity - 1;
    for (const uint64_t key : old) {
        if (key == kEmpty) continue;
        size_t i = hash(key) & mask;
        while (slots_[i] != kEmpty) i = (i + 1) & mask;
        slots_[i] = key;
    }
}

}  // namespace senders
