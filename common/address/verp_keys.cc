// verp_keys.cc - VERP secrets: validation, key file, wiping (see verp.h)
//
// Messages name the file, the line and what is wrong, never the key.
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <system_error>

#include "common/address/chars.h"
#include "common/address/verp.h"
#include "common/sys/secret_file.h"

namespace address {
namespace {

// Empty when the key is acceptable, else what is wrong with it.
std::string key_problem(std::string_view key) {
    if (key.size() < kVerpMinKeyBytes)
        return "key too short (" + std::to_string(key.size()) + " bytes, minimum " +
               std::to_string(kVerpMinKeyBytes) + ")";
    if (key.size() > kVerpMaxKeyBytes)
        return "key too long (" + std::to_string(key.size()) + " bytes, maximum " +
               std::to_string(kVerpMaxKeyBytes) + ")";
    return {};
}

void wipe(std::string& s) noexcept {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

}  // namespace

VerpKeys::~VerpKeys() {
    for (auto& k : keys_) wipe(k);
}

std::string VerpKeys::hmac_sha256(std::size_t i, std::string_view msg) const {
    const std::string& key = keys_.at(i);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), md, &len) ||
        len != 32)
        throw std::runtime_error("HMAC-SHA256 failed");
    std::string out(reinterpret_cast<const char*>(md), len);
    OPENSSL_cleanse(md, sizeof md);
    return out;
}

VerpKeys VerpKeys::from_strings(std::vector<std::string> keys) {
    VerpKeys v;
    v.keys_ = std::move(keys);  // wiped by ~VerpKeys whatever happens next
    if (v.keys_.empty()) throw std::invalid_argument("no VERP keys given");
    if (v.keys_.size() > kVerpMaxKeys)
        throw std::invalid_argument("too many VERP keys (max " + std::to_string(kVerpMaxKeys) + ")");
    for (std::size_t i = 0; i < v.keys_.size(); ++i) {
        const std::string p = key_problem(v.keys_[i]);
        if (!p.empty()) throw std::invalid_argument("VERP key " + std::to_string(i + 1) + ": " + p);
    }
    return v;
}

VerpKeys VerpKeys::load_file(const std::string& path) {
    std::string data;
    try {
        data = sys::read_secret_file(path, kVerpMaxKeyFile);
    } catch (const sys::SecretFileError& e) {
        throw KeyFileError(e.what());
    }
    struct Wipe {
        std::string& s;
        ~Wipe() { wipe(s); }
    } wipe_data{data};

    VerpKeys v;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos < data.size()) {
        std::size_t nl = data.find('\n', pos);
        if (nl == std::string::npos) nl = data.size();
        ++line_no;
        std::string_view line(data.data() + pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        line = detail::trim_wsp(line);
        if (line.empty() || line.front() == '#') continue;
        const std::string where = path + ":" + std::to_string(line_no) + ": ";
        const std::string p = key_problem(line);
        if (!p.empty()) throw KeyFileError(where + p);
        if (v.keys_.size() >= kVerpMaxKeys)
            throw KeyFileError(where + "too many keys (max " + std::to_string(kVerpMaxKeys) + ")");
        v.keys_.emplace_back(line);
    }
    if (v.keys_.empty()) throw KeyFileError(path + ": no keys (one per line, '#' starts a comment)");
    return v;
}

}  // namespace address
