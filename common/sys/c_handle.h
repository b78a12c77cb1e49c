// c_handle.h - owning smart pointers for handles of C libraries
//
// CHandle<T, Free> is a std::unique_ptr whose deleter calls the C library's
// own release function, so every handle has exactly one owner:
//
//     using MimeParser = sys::CHandle<GMimeParser, g_object_unref>;
//
// A deleter type (not decltype(&fn)) keeps the pointer one word wide and lets
// the release function be an overload set or take a void*.
// Thread safety: as std::unique_ptr.
#pragma once

#include <memory>

namespace sys {

template <auto Free>
struct CFree {
    template <class T>
    void operator()(T* p) const noexcept { Free(p); }
};

template <class T, auto Free>
using CHandle = std::unique_ptr<T, CFree<Free>>;

}  // namespace sys
