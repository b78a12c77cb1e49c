// align.h - DMARC identifier alignment (RFC 7489 §3.1)
//
//   aligned(mode, auth_domain, from_domain, psl)
//     strict   the two domains are equal (ASCII case ignored, A-labels,
//              a trailing dot ignored): "bounce.example.co.uk" does not
//              align with "example.co.uk"
//     relaxed  their organisational domains (psl.h) are equal:
//              "bounce.example.co.uk" aligns with "example.co.uk",
//              "a.co.uk" does not align with "b.co.uk"
//   An empty domain never aligns.
//
// Our own code, not OpenDMARC's opendmarc_policy_check_alignment: in 1.4.2
// that falls back to the organisational comparison in strict mode too.
//
// Errors: none (values). Thread safety: reentrant (Psl is shared, read-only).
#pragma once

#include <string_view>

#include "common/mailauth/psl.h"

namespace mailauth {

enum class AlignMode { Relaxed, Strict };

// "r", "s" (the DMARC tag values).
std::string_view to_string(AlignMode m) noexcept;

bool aligned(AlignMode mode, std::string_view auth_domain, std::string_view from_domain, const Psl& psl);

}  // namespace mailauth
