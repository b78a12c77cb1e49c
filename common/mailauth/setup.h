// setup.h - the relay's identity the configuration describes
//
//   relay_from(cfg)   Relay (fixit.h) from relay_public_addresses (IPv4 or
//                     IPv6, each in its canonical text; loopback, the
//                     unspecified address and link-local ones are refused:
//                     receivers never see them, and libspf2 passes any
//                     127.0.0.0/8 client), relay_helo_name (a host
//                     name, lower case, no trailing dot) and
//                     relay_spf_include (printable ASCII; a domain alone
//                     is taken as include:DOMAIN)
//
// Errors: config::Error naming the parameter's file and line.
// Thread safety: none needed (start-up code).
#pragma once

#include "common/config/config.h"
#include "common/mailauth/fixit.h"

namespace mailauth {

Relay relay_from(const config::Config& cfg);

}  // namespace mailauth
