// test_dsn_support.h - the parser as sendguard-bounce runs it, for tests
//
// dsn::Limits has no defaults of its own: the tests parse with the limits
// the shipped parameter table gives (bounce_max_recipients,
// bounce_diagnostic_limit), or with explicit ones.
#pragma once

#include <string_view>

#include "common/config/config.h"
#include "common/dsn/dsn.h"
#include "common/dsn/limits_setup.h"
#include "common/dsn/mime.h"

namespace dsn_test {

inline const dsn::Limits& limits() {
    static const dsn::Limits l = dsn::limits_from(config::Config::defaults());
    return l;
}
inline dsn::Report parse(std::string_view message) { return dsn::parse(message, limits()); }
inline dsn::Report parse(std::string_view message, const dsn::Limits& l) { return dsn::parse(message, l); }
inline dsn::Mail read_mail(std::string_view message) { return dsn::read_mail(message, limits().part_text()); }
inline dsn::Mail read_mail(std::string_view message, size_t part_limit) { return dsn::read_mail(message, part_limit); }

}  // namespace dsn_test
