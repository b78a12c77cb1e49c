// local_origin.h - was an unsigned report written by this host's Postfix?
//
// bounce_accept_unsigned = yes trusts every report, so anyone who can send
// mail to the bounce domains can suppress any address. The middle ground,
// bounce_local_mta_names, trusts an unsigned report only when both hold:
//
//   1. its Reporting-MTA (RFC 3464 §2.2.2) is one of the names, and
//   2. its first Received field is the one Postfix's cleanup(8) writes on
//      a message Postfix made itself (a bounce, delay or success notice):
//          Received: by NAME (Postfix) id QUEUEID; DATE
//      with NAME one of the names, nothing before "by" (no "from" clause:
//      mail that came in over SMTP has one, and so has a local submission,
//      "(Postfix, from userid N)"), and QUEUEID the queue id of this
//      delivery, which -q must give: post_mail(3) writes the new
//      message's own id, whereas local(8) forwarding writes the same form
//      with the id of the message it forwards. "Postfix" is mail_name;
//      a site that changed it is not recognised.
//
// Postfix puts its own Received field above every other, so a remote
// sender cannot supply the first one; the Reporting-MTA alone could be
// forged by anyone. A report relayed from another host carries that host's
// Received field first and is not trusted: this only recognises reports
// generated on the host that runs the transport.
//
// Pure function; no exceptions but std::bad_alloc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bounce {

// names: bounce_local_mta_names (empty: never local). queue_id: cleaned;
// "" (no -q) is never local.
bool is_local_report(std::string_view message, std::string_view reporting_mta,
                     const std::vector<std::string>& names, std::string_view queue_id);

}  // namespace bounce
