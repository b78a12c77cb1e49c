// secret_file.h - reading a file that holds secrets (VERP keys, DKIM keys)
//
//     std::string data = sys::read_secret_file("/etc/sendguard/verp.keys", 64 * 1024);
//
// The file must be a regular file that others (neither its owner nor its
// group) can neither read nor write; the mode is checked on the descriptor
// that is read (fstat), so the check is about this very file. The caller
// wipes the returned text when done (OPENSSL_cleanse).
//
// Errors: SecretFileError, whose what() names the path and what to do:
//   PATH: cannot open: No such file or directory
//   PATH: not a regular file
//   PATH: refusing a key file that others can read or write (mode 0644); run: chmod o-rwx PATH
//   PATH: larger than N bytes
// Thread safety: reentrant.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace sys {

class SecretFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string read_secret_file(const std::string& path, std::size_t max);

}  // namespace sys
