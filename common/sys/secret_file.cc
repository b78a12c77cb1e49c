// secret_file.cc - see secret_file.h
#include "common/sys/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string.h>
#include <system_error>

#include "common/sys/fd.h"

namespace sys {

std::string read_secret_file(const std::string& path, std::size_t max) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) throw SecretFileError(path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw SecretFileError(path + ": cannot stat: " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw SecretFileError(path + ": not a regular file");
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw SecretFileError(path + ": refusing a key file that others can read or write (mode " + mode +
                              "); run: chmod o-rwx " + path);
    }
    bool truncated = false;
    std::string data;
    try {
        data = read_all(fd.get(), max, &truncated);
    } catch (const std::system_error& e) {
        throw SecretFileError(path + ": cannot read: " + e.code().message());
    }
    if (truncated) {
        ::explicit_bzero(data.data(), data.size());
        throw SecretFileError(path + ": larger than " + std::to_string(max) + " bytes");
    }
    return data;
}

}  // namespace sys
