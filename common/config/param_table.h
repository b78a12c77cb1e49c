// param_table.h - the rows of the parameter table (see params.h)
//
// To add a parameter: add one row below (keep the component groups), run the
// unit tests, then refresh the man page with
//     SENDGUARD_UPDATE_MAN=1 ctest -R unit.config
// Names are lower snake case with the component prefix (store_, verp_, dns_,
// relay_, bounce_, policyd_, milter_) unless shared by all.
//
// The table lives in a header so that parameter names used in the code are
// checked by the compiler (config::Key in params.h). Include params.h, not
// this file.
#pragma once

#ifndef SENDGUARD_SYSCONFDIR
#error "SENDGUARD_SYSCONFDIR must be defined (the build sets it for every user of common::config)"
#endif

namespace config::table {

inline constexpr long long kKiB = 1024;
inline constexpr long long kMiB = 1024 * kKiB;
inline constexpr long long kGiB = 1024 * kMiB;
inline constexpr long long kTiB = 1024 * kGiB;
inline constexpr long long kHour = 3600;
inline constexpr long long kDay = 86400;

// Who reads a group of parameters; test_config_users.cc checks the bits
// against what each program's settings code reads.
inline constexpr unsigned kDaemons = kMilter | kPolicyd | kBounce;
// Every program logs (sendguard: the audit trail of suppression changes).
inline constexpr unsigned kLoggers = kDaemons | kCli;
// The milter writes the send log (VERP tokens) into the same store.
inline constexpr unsigned kStoreUsers = kMilter | kBounce | kPolicyd | kCli;
// The milter signs, the bounce transport verifies, "sendguard verp" shows.
inline constexpr unsigned kVerpUsers = kMilter | kBounce | kCli;

// clang-format off
inline constexpr Param kParams[] = {
// name                           type            default                          min      max       users
// --- shared by all programs
{"config_directory",              Type::Path,     SENDGUARD_SYSCONFDIR,            1,       kNoLimit, kVerpUsers,
 "Directory holding sendguard.conf and the VERP key file; other defaults refer to it as $config_directory."},
{"state_directory",               Type::Path,     "/var/lib/sendguard",            1,       kNoLimit, kStoreUsers,
 "Directory of the LMDB suppression store and of other state written at run time."},
{"run_directory",                 Type::Path,     "/run/sendguard",                1,       kNoLimit, kMilter | kPolicyd,
 "Directory for the UNIX-domain sockets of the sendguard daemons."},
{"syslog_name",                   Type::String,   "sendguard",                     1,       64,       kLoggers,
 "Prefix of the program name in log records, like Postfix syslog_name: $syslog_name/bounce, $syslog_name/policyd, $syslog_name/cli."},
{"syslog_facility",               Type::String,   "mail",                          1,       16,       kLoggers,
 "Syslog facility of the records sent to a syslog target (log_target), such as mail, daemon or local0."},
{"log_target",                    Type::String,   "syslog",                        1,       512,      kLoggers,
 "Where log records go: syslog, syslog:/socket, postlog:/socket (Postfix's postlogd(8): the lines join its maillog_file), file:/path (appended) or stderr."},
{"log_to_stderr",                 Type::Bool,     "no",                            0,       0,        kLoggers,
 "Write log records to standard error whatever log_target says (for foreground runs and tests)."},
{"postlog_command",               Type::Path,     "/usr/sbin/postlog",             0,       kNoLimit, kLoggers,
 "The postlog(1) command taking a postlog: log_target's records when the socket refuses the user (sendguard-bounce under pipe(8)); set-gid postdrop, as postfix set-permissions makes it. Empty: none."},

// --- the LMDB suppression store
{"store_map_size",                Type::Size,     "16m",                           64*kKiB, kTiB,     kStoreUsers,
 "Initial size of the LMDB memory map; the store grows it when full, up to store_max_map_size."},
{"store_max_map_size",            Type::Size,     "4g",                            64*kKiB, kTiB,     kStoreUsers,
 "Ceiling for automatic growth of the LMDB memory map; a write that needs more fails and is retried later."},
{"store_sync",                    Type::Bool,     "yes",                           0,       0,        kStoreUsers,
 "Flush each LMDB commit to disk before reporting success; \"no\" survives process crashes but may lose the last commits on power loss."},
{"store_max_readers",             Type::Int,      "126",                           8,       32768,    kStoreUsers,
 "Largest number of concurrent LMDB readers (processes and threads reading the store)."},

// --- VERP, shared by the milter (signs) and the bounce transport (verifies)
{"verp_key_file",                 Type::Path,     "$config_directory/verp.keys",   0,       kNoLimit, kVerpUsers,
 "File with the secret keys that sign and verify VERP return addresses; keep it unreadable by other users."},
{"verp_delimiter",                Type::Char,     "+",                             0,       0,        kVerpUsers,
 "Separates the VERP local part from the encoded recipient, like Postfix recipient_delimiter."},
{"verp_local_part",               Type::String,   "bounce",                        1,       32,       kVerpUsers,
 "Local part of VERP return addresses, as in bounce+TAG@bounces.example.com."},
{"bounce_domains",                Type::List,     "bounces.*",                     0,       100,      kVerpUsers,
 "Bounce domains whose mail is VERP: domains, or LABEL.* for LABEL.<sender domain> (bounces.* gives example.com bounces.example.com); new return addresses use the first pattern, else the first domain."},
{"verp_max_age",                  Type::Duration, "60d",                           kDay,    1000*kDay, kVerpUsers,
 "How long a VERP return address stays valid; reports sent to an older address suppress nothing (at most 1000d: the tag's day counter wraps after 1024 days)."},

// --- DNS lookups (common/dns): can a sender domain receive mail
{"dns_servers",                   Type::List,     "",                              0,       3,        kMilter | kPolicyd | kCli,
 "Name servers the DNS checks ask, as IPv4 or IPv4:port (at most 3, glibc's limit), such as a local caching resolver on 127.0.0.1; empty: those of /etc/resolv.conf."},
{"dns_lookup_timeout",            Type::Duration, "5s",                            1,       60,       kMilter | kPolicyd | kCli,
 "Time one check of a domain (MX, then A and AAAA) may take in all, retries included; running out is a temporary failure (the milter then answers 4xx or accepts, by its own parameter)."},
{"dns_cache_size",                Type::Int,      "10000",                         0,       10000000, kMilter | kPolicyd | kCli,
 "Most DNS answers (name and type) kept in memory; the one used least recently goes first; 0 caches nothing."},
{"dns_cache_min_ttl",             Type::Duration, "30s",                           0,       kDay,     kMilter | kPolicyd | kCli,
 "Shortest time a DNS answer is kept, whatever its TTL (also for a negative answer without SOA record)."},
{"dns_cache_max_ttl",             Type::Duration, "1h",                            0,       7*kDay,   kMilter | kPolicyd | kCli,
 "Longest time a DNS answer is kept, whatever its TTL (RFC 2308 negative answers included)."},
{"dns_cache_failure_ttl",         Type::Duration, "5s",                            0,       300,      kMilter | kPolicyd | kCli,
 "How long a DNS failure (time-out, SERVFAIL) is remembered, so a dead server does not cost every message dns_lookup_timeout; 0 remembers none (at most 5m: RFC 2308 section 7)."},

// --- the relay's identity: what receivers see of it (milter preflight, sendguard doctor)
{"relay_public_addresses",        Type::List,     "",                              0,       16,       kMilter | kCli,
 "Public IPv4 and IPv6 addresses the relay sends from, as receivers see them: the preflight's SPF is evaluated for each (empty: no preflight); PTR, SPF and bounce MX must name them (sendguard doctor)."},
{"relay_helo_name",               Type::String,   "",                              0,       253,      kMilter | kCli,
 "The relay's HELO/EHLO name (Postfix smtp_helo_name): SPF's %{h} macro, and what the PTR of each relay_public_addresses address should be; empty: none."},
{"relay_spf_include",             Type::String,   "",                              0,       255,      kMilter | kCli,
 "What customers add to their SPF records to authorise the relay, such as include:spf.relay.example, named in fix-it texts; empty: ip4:/ip6: mechanisms of relay_public_addresses."},

// --- the bounce transport (pipe(8) command sendguard-bounce)
{"bounce_accept_unsigned",        Type::Bool,     "no",                            0,       0,        kBounce,
 "Trust reports not sent to a valid VERP address. WARNING: then anyone who can mail the bounce domains can "
 "suppress any address; prefer bounce_local_mta_names."},
{"bounce_local_mta_names",        Type::List,     "",                              0,       64,       kBounce,
 "Host names (myhostname) of this host's Postfix; an unsigned report it generated itself is trusted (the rule: "
 "sendguard-bounce(8))."},
{"bounce_soft_threshold",         Type::Int,      "3",                             1,       1000,     kBounce,
 "Number of soft bounces for one recipient within bounce_soft_window that suppress it."},
{"bounce_soft_window",            Type::Duration, "7d",                            kHour,   365*kDay, kBounce,
 "Period over which soft bounces of one recipient are counted toward bounce_soft_threshold."},
{"bounce_soft_expiry",            Type::Duration, "30d",                           0,       3650*kDay, kBounce,
 "How long a suppression caused by soft bounces lasts; 0 means forever."},
{"bounce_hard_expiry",            Type::Duration, "0",                             0,       3650*kDay, kBounce,
 "How long a suppression caused by a hard bounce lasts; 0 means forever."},
{"bounce_complaint_expiry",       Type::Duration, "0",                             0,       3650*kDay, kBounce,
 "How long a suppression caused by a complaint (ARF feedback report) lasts; 0 means forever."},
{"bounce_reason_expiry",          Type::DurationMap, "mailboxfull=14d, suspend=90d", 0,    3650*kDay, kBounce,
 "Expiry by bounce reason as reason=duration pairs (0 = never), overriding the class expiry above; the reasons are the class names of sendguard-bounce(8), such as mailboxfull, suspend, userunknown."},
{"bounce_domain_threshold",       Type::Int,      "5",                             1,       100000,   kBounce,
 "Number of distinct addresses of one domain failing with host unknown before the whole domain is suppressed."},
{"bounce_max_message_size",       Type::Size,     "10m",                           64*kKiB, kGiB,     kBounce,
 "Largest report the transport reads; a larger message is quarantined whole (the rest streamed to the file) without being parsed."},
{"bounce_max_recipients",         Type::Int,      "1000",                          1,       100000,   kBounce,
 "Most per-recipient entries taken from one report."},
{"bounce_diagnostic_limit",       Type::Size,     "1k",                            64,      4*kKiB,   kBounce,
 "Longest diagnostic text kept with a suppression record; longer text is truncated (at most 4k, what a stored record holds)."},
{"bounce_quarantine_directory",   Type::Path,     "$state_directory/quarantine",   1,       kNoLimit, kBounce,
 "Directory where reports that could not be used are kept for inspection."},
{"bounce_quarantine_limit",       Type::Size,     "256m",                          0,       kTiB,     kBounce,
 "Total size of the quarantine directory; the oldest files are removed beyond it. A message larger than this on its own is not kept: the delivery defers."},
{"bounce_quarantine_max_files",   Type::Int,      "10000",                         0,       10000000, kBounce,
 "Most files kept in the quarantine directory; the oldest are removed beyond it. With 0 nothing can be kept, and a report that would be quarantined defers."},
{"bounce_event_log",              Type::Path,     "$state_directory/events.jsonl", 1,       kNoLimit, kBounce,
 "File to which one JSON line is appended for every report processed."},
{"bounce_time_limit",             Type::Duration, "60s",                           1,       900,      kBounce,
 "Time limit for handling one report; well under Postfix command_time_limit (1000s), so the "
 "transport defers on its own terms."},
{"bounce_forward_replies",        Type::Bool,     "yes",                           0,       0,        kBounce,
 "Forward a person's reply to a signed VERP address (no report, no automatic mail) to the original sender the send log names, sealed for sendguard-milter (sendguard-bounce(8) REPLIES); no: kept."},
{"bounce_forward_command",        Type::Path,     "/usr/sbin/sendmail",            1,       kNoLimit, kBounce,
 "The sendmail(1) command that submits a forwarded reply, run without a shell as: command -G -i -f \"\" -- original-sender."},
{"bounce_forward_limit",          Type::Int,      "20",                            1,       100000,   kBounce,
 "Most replies forwarded to one original sender within bounce_forward_window; further ones are quarantined (why=forward-limit)."},
{"bounce_forward_window",         Type::Duration, "1h",                            60,      30*kDay,  kBounce,
 "Period over which forwards to one original sender are counted toward bounce_forward_limit."},
{"bounce_forward_time_limit",     Type::Duration, "30s",                           1,       600,      kBounce,
 "Longest time bounce_forward_command may take; then it is killed and the delivery defers. Keep it under bounce_time_limit."},

// --- the lookup daemon (sendguard-policyd): socketmap service
{"policyd_socketmap_listen",       Type::List,     "unix:$run_directory/socketmap.sock", 1,       16,       kPolicyd,
 "Endpoints the socketmap server listens on, each unix:PATH or inet:HOST:PORT."},
{"policyd_socket_mode",            Type::Mode,     "0660",                          0,       07777,    kPolicyd,
 "Permissions, in octal, of the UNIX-domain sockets of policyd_socketmap_listen; 0660 admits the owner and policyd_socket_group."},
{"policyd_socket_group",           Type::String,   "postfix",                       0,       64,       kPolicyd,
 "Group of the UNIX-domain sockets (the group the Postfix processes run as); empty keeps the group of the starting user."},
{"policyd_max_connections",        Type::Int,      "1000",                          1,       100000,   kPolicyd,
 "Most client connections served at the same time."},
{"policyd_max_connections_per_peer", Type::Int,    "500",                           1,       100000,   kPolicyd,
 "Most connections at the same time from one uid (UNIX-domain sockets) or one IP address; above Postfix's process limits."},
{"policyd_idle_timeout",           Type::Duration, "300s",                          1,       kDay,     kPolicyd,
 "Close a client connection after this long without a request."},
{"policyd_request_timeout",        Type::Duration, "10s",                           1,       300,      kPolicyd,
 "Time a client has to complete a request once it started sending it; well inside Postfix's own lookup time-outs."},
{"policyd_socketmap_max_request",  Type::Size,     "100k",                          kKiB,    kMiB,     kPolicyd,
 "Longest request netstring accepted; a longer one closes the connection."},
{"policyd_suppressed_reply",       Type::String,
 "550 5.1.1 Recipient address is on the sendguard suppression list",               1,       512,      kPolicyd,
 "Answer of a suppress lookup for a suppressed address, an access(5) action; \"550 5.1.1 text\" reaches the client as written, REJECT with access_map_reject_code (554)."},
{"policyd_user",                   Type::String,   "sendguard",                     0,       64,       kPolicyd,
 "Unprivileged user sendguard-policyd switches to after opening its sockets and store when started as root; root keeps root (with a warning); started as root with an empty value it refuses to run."},
{"policyd_pid_file",               Type::Path,     "",                              0,       kNoLimit, kPolicyd,
 "File sendguard-policyd writes its process id to once it listens, and removes when it stops, for init systems other than systemd; empty writes none."},
{"policyd_record_clients",         Type::List,     "root, $policyd_user",           0,       64,       kPolicyd,
 "Users (name) and groups (@name) allowed to query the record map over a UNIX-domain socket; others get PERM."},

// --- the lookup daemon (sendguard-policyd): backoff learned from delivery results
{"policyd_backoff_decrease",       Type::Int,      "50",                            1,       99,       kPolicyd,
 "Percent of its allowed rate a provider keeps after each rate-limit reply the status filter or a block event reports (multiplicative decrease)."},
{"policyd_backoff_min_rate",       Type::Rate,     "30/h",                          1,       kNoLimit, kPolicyd,
 "Lowest rate a provider in backoff is slowed to; further rate-limit replies then only raise its backoff level."},
{"policyd_backoff_recovery_step",  Type::Rate,     "60/h",                          1,       kNoLimit, kPolicyd,
 "Rate added back to a provider in backoff for each policyd_backoff_quiet_period without a rate-limit reply (additive increase)."},
{"policyd_backoff_quiet_period",   Type::Duration, "10m",                           10,      kDay,     kPolicyd,
 "Time without a rate-limit reply from a provider before its rate grows by one policyd_backoff_recovery_step."},
{"policyd_backoff_hold_down",      Type::Duration, "1m",                            0,       kHour,    kPolicyd,
 "After a decrease, further rate-limit replies from the provider within this time count as the same incident (the deferrals of one burst) and do not decrease again."},
{"policyd_backoff_max_suspend",    Type::Duration, "1h",                            0,       kDay,     kPolicyd,
 "Longest suspension of a provider that asks to retry after a time (a retry-after in its reply); 0 never suspends, only slows."},
{"policyd_backoff_default_rate",   Type::Rate,     "600/m",                         1,       kNoLimit, kPolicyd,
 "Rate assumed for a provider without a configured limit: where the first decrease starts and what recovery climbs back to."},
{"policyd_throttled_transports",   Type::List,     "",                              0,       64,       kPolicyd,
 "Where transport_maps routes a provider in backoff: PROVIDER=TRANSPORT[/TRANSPORT...] per level, default=... for the rest; master.cf transports (sendguard-policyd(8))."},
{"policyd_reply_patterns",         Type::Path,     "",                              0,       kNoLimit, kPolicyd,
 "File of extra rate-limit reply patterns for the delivery status classifier, added to the shipped table; empty: the shipped table only."},
// --- the lookup daemon (sendguard-policyd): policy delegation service (rate limits, quotas)
{"policyd_policy_listen",          Type::List,     "unix:$run_directory/policy.sock", 0,       16,       kPolicyd,
 "Endpoints of the policy delegation service, unix:PATH or inet:HOST:PORT; empty: none. A chrooted smtpd opens unix: paths inside its chroot (sendguard-policyd(8))."},
{"policyd_rate_rules",             Type::Path,     "",                              0,       kNoLimit, kPolicyd,
 "File of rate rules (NAME [key=value ...] LIMITS per line) the policy service applies, read at start and reload; empty: no rules, every request DUNNO."},
{"policyd_provider_table",         Type::Path,     "",                              0,       kNoLimit, kPolicyd,
 "File of provider rows (NAME PATTERN... or NAME -) replacing or removing built-in rows of the MX roll-up; empty: the built-in rows only."},
{"policyd_policy_max_line",        Type::Size,     "4k",                            256,     64*kKiB,  kPolicyd,
 "Longest name=value line of a policy request; a longer one closes that connection (Postfix then applies smtpd_policy_service_default_action)."},
{"policyd_policy_max_attributes",  Type::Int,      "100",                           32,      1000,     kPolicyd,
 "Most attributes in one policy request (Postfix 3.7 sends 29); more closes that connection."},
{"policyd_policy_error_action",    Type::String,   "DUNNO",                         1,       512,      kPolicyd,
 "Policy answer when the service fails internally (a bad state, a store error), with a warning; DUNNO fails open: the policy service shapes traffic, it is no security gate."},
{"policyd_count_at",               Type::String,   "end-of-message",                3,       16,       kPolicyd,
 "When a message counts: end-of-message (RCPT reserves, END-OF-MESSAGE commits; needs the service in smtpd_end_of_data_restrictions too) or rcpt (counted at RCPT)."},
{"policyd_limit_notify",           Type::String,   "",                              0,       256,      kPolicyd,
 "Address told by mail the first time a key reaches a rate rule's limit in a window, customer or provider rule (beside the warning); empty: none."},
{"policyd_notify_command",         Type::Path,     "/usr/sbin/sendmail",            1,       kNoLimit, kPolicyd,
 "The sendmail(1) command that submits policyd_limit_notify's notices, run without a shell as: command -i -f \"\" -- address."},
{"policyd_state_flush_interval",   Type::Duration, "1s",                            1,       60,       kPolicyd,
 "How often changed rate buckets, usage and backoff states are written to the store, all in one transaction."},
{"policyd_pending_timeout",        Type::Duration, "10m",                           10,      kDay,     kPolicyd,
 "How long RCPT reservations wait for their END-OF-MESSAGE before they are dropped; keep it above smtpd_timeout and smtpd_proxy_timeout."},
{"policyd_max_pending",            Type::Int,      "100000",                        10,      10000000, kPolicyd,
 "Most transactions holding reservations at once; past it, or past an eighth of it from one client_address, the oldest is evicted and its reservations counted as sent (a warning once a minute)."},

// --- the milter (sendguard-milter): program, checks, signed VERP
{"milter_listen",                  Type::String,   "unix:$run_directory/milter.sock", 1,       512,      kMilter,
 "Endpoint the milter listens on, unix:PATH or inet:HOST:PORT; Postfix names it in smtpd_milters and non_smtpd_milters (unix:PATH, inet:HOST:PORT)."},
{"milter_socket_mode",             Type::Mode,     "0660",                          0,       07777,    kMilter,
 "Permissions, in octal, of the UNIX-domain socket of milter_listen; 0660 admits the owner and milter_socket_group."},
{"milter_socket_group",            Type::String,   "postfix",                       0,       64,       kMilter,
 "Group of the UNIX-domain socket (the group smtpd(8) and cleanup(8) run as); empty keeps the group of the starting user."},
{"milter_user",                    Type::String,   "sendguard",                     0,       64,       kMilter,
 "Unprivileged user sendguard-milter switches to after opening its socket, keys and store when started as root; root keeps root (with a warning); started as root with an empty value it refuses to run."},
{"milter_pid_file",                Type::Path,     "",                              0,       kNoLimit, kMilter,
 "File sendguard-milter writes its process id to once it listens, and removes when it stops, for init systems other than systemd; empty writes none."},
{"milter_timeout",                 Type::Duration, "300s",                          1,       7200,     kMilter,
 "How long the milter waits for the MTA's next command on a connection before it closes it (libmilter smfi_settimeout); Postfix's own milter_content_timeout is 300s."},
{"milter_max_connections",         Type::Int,      "500",                           1,       100000,   kMilter,
 "Most MTA connections the milter holds at once; one more is closed before negotiation and Postfix applies milter_default_action; the default is five times Postfix's default_process_limit."},
{"milter_max_client_connections",  Type::Int,      "0",                             0,       100000,   kMilter,
 "Most connections from one client address the milter holds at once (inet: milter_listen only; UNIX-socket clients count towards milter_max_connections only); 0: no limit."},
{"milter_store_sync",              Type::String,   "data",                          1,       16,       kMilter,
 "What a send-log write waits for: commit (data and meta page on disk), data (data on disk; a power loss may undo the last entry) or interval (all flushed each second); see sendguard-milter(8)."},
{"milter_error_action",            Type::String,   "tempfail",                      1,       16,       kMilter,
 "Answer when the milter fails internally on a message (store or key error, a bug): tempfail (451 4.3.0, the client retries), accept (the mail passes unchecked) or reject (554 5.3.0)."},
{"milter_dry_run",                 Type::Bool,     "no",                            0,       0,        kMilter,
 "Log each refusal as action=would_refuse and let the mail through, to switch a live smarthost over safely."},
{"milter_verp",                    Type::Bool,     "yes",                           0,       0,        kMilter,
 "Rewrite the envelope sender of relayed mail to a signed VERP address on the sender's bounce domain (bounce_domains, milter_bounce_domain_maps)."},
{"milter_bounce_domain_maps",      Type::Path,     "",                              0,       kNoLimit, kMilter | kCli,
 "Table file of \"sender-domain bounce-domain\" lines choosing the bounce domain of a sender domain; each bounce domain must be accepted by bounce_domains. Empty: none."},
{"milter_reply_check",             Type::Bool,     "yes",                           0,       0,        kMilter,
 "Refuse mail whose envelope sender or From: domain cannot receive replies (no such domain, no MX, A or AAAA: 550 5.1.8; null MX: 550 5.7.27); VERP only onto a bounce domain that can."},
{"milter_dns_error_action",        Type::String,   "tempfail",                      1,       16,       kMilter,
 "What a DNS failure (time-out, SERVFAIL) of milter_reply_check or milter_preflight gives: tempfail (451 4.4.3, the client retries) or accept (the address passes unchecked, logged with why=dns_error)."},
{"milter_no_bounce_domain_action", Type::String,   "pass",                          1,       16,       kMilter,
 "What happens to mail whose sender domain has no bounce domain: pass (relayed with its sender unchanged) or refuse (550 5.7.1 at MAIL FROM)."},
{"milter_verp_recipients",         Type::String,   "token",                         1,       16,       kMilter,
 "VERP for several recipients: token (one signed token; its send-log entry lists every recipient) or split (452 4.5.3 for the second and later RCPT: one transaction per recipient)."},
{"milter_local_mailers",           Type::List,     "local, virtual",                0,       16,       kMilter,
 "Delivery transports ({rcpt_mailer}) that deliver on this host; a message whose recipients all use one of them keeps its envelope sender."},
{"milter_max_recipients",          Type::Int,      "1000",                          1,       100000,   kMilter,
 "Most recipients the milter keeps for one message (the send log lists them); further RCPTs get 452 4.5.3 (Postfix smtpd_recipient_limit is 1000)."},
{"milter_sendlog_headers",         Type::List,     "Feedback-ID, List-Id",          0,       16,       kMilter,
 "Header fields whose first value the send log keeps for each VERP-rewritten message, beside its Message-ID, so bounce events and suppression records name the campaign or subscriber (e.g. X-Campaign)."},

// --- the milter's DMARC preflight (common/mailauth)
{"milter_preflight",               Type::Bool,     "yes",                           0,       0,        kMilter,
 "Predict at the end of headers whether DMARC will pass at the receiver (SPF of the envelope domain after VERP, DKIM, alignment); act by milter_dmarc_action; needs relay_public_addresses."},
{"milter_dmarc_action",            Type::String,   "reject",                        1,       16,       kMilter,
 "A message that will fail DMARC with p=quarantine or reject: reject (550 5.7.26 naming what to publish), tempfail (451 4.7.26), tag (X-Sendguard-Preflight header) or accept (logged)."},

// --- the milter (sendguard-milter): who may send as whom
{"milter_sender_tables",          Type::List,     "",                              0,       16,       kMilter,
 "Files of \"login pattern, ...\" lines (domain or @domain, *.domain for its subdomains, an address): the senders a SASL login may use; the files are merged, a login in two gets both."},
{"milter_network_tables",         Type::List,     "",                              0,       16,       kMilter,
 "Files of \"network pattern, ...\" lines (192.0.2.0/24, 2001:db8::/32, an address): the senders of clients without a login; a client gets all its networks allow, one in none is refused."},
{"milter_login_owns_domain",      Type::Bool,     "yes",                           0,       0,        kMilter,
 "A login user@domain may also send as any address at domain."},
{"milter_local_senders",          Type::List,     "",                              0,       1000,     kMilter,
 "Senders that mail submitted locally (sendmail(1), pickup: web forms, cron) may use, in the sender table pattern syntax; empty refuses every locally submitted message."},
{"milter_table_max_size",         Type::Size,     "64m",                           kKiB,    kGiB,     kMilter,
 "Largest sender or network table file read; 64m holds about a million logins."},
{"milter_table_max_line",         Type::Size,     "1m",                            kKiB,    64*kMiB,  kMilter,
 "Longest line of a sender or network table, continuation lines included; 1m holds a login with 10,000 domains of up to 100 characters."},
{"milter_table_max_entries",      Type::Int,      "1000000",                       1,       10000000, kMilter,
 "Most lines (logins or networks) in one sender or network table."},
{"milter_policy_service",         Type::String,   "",                              0,       512,      kMilter,
 "Endpoint of sendguard-policyd's policy service (as in policyd_policy_listen) the milter asks about local submissions, which smtpd's check_policy_service never sees; empty: off."},
{"milter_policy_timeout",         Type::Duration, "5s",                            1,       20,       kMilter,
 "Longest wait for one policy answer (connect, request, reply); then the mail passes with a warning. Keep it below Postfix's milter_command_timeout (30s)."},
{"milter_policy_context",         Type::String,   "local",                         0,       100,      kMilter,
 "The policy_context attribute of the milter's policy requests, what rate rules match with key=policy_context (like smtpd_policy_service_policy_context for smtpd)."},
{"milter_policy_submissions",     Type::String,   "local",                         1,       16,       kMilter,
 "Which mail the milter asks milter_policy_service about: local (sendmail(1), pickup; smtpd asks for the rest) or all (also mail from SMTP clients)."},

// --- DKIM signing (common/dkim, sendguard-milter)
{"dkim_key_table",                Type::Path,     "",                              0,       kNoLimit, kMilter | kCli,
 "File of \"DOMAIN SELECTOR KEYFILE\" lines: the DKIM keys (PEM, RSA of 1024 bits or more, or Ed25519; unreadable by others); a domain may have several. Empty: none."},
{"dkim_signing_table",            Type::Path,     "",                              0,       kNoLimit, kMilter | kCli,
 "File of \"FROM KEYDOMAIN[:SELECTOR,...]\" lines (FROM a domain, @domain or an address, no wildcards; KEYDOMAIN the From: domain or a parent): which keys sign whose mail. Empty: no signing."},
{"dkim_provider_domain",          Type::String,   "",                              0,       255,      kMilter | kCli,
 "A key-table domain whose keys add a second, non-aligned signature to every signed message (the relay provider's own). Empty: none."},
{"dkim_sign_headers",             Type::List,
 "From, Reply-To, Subject, Date, To, Cc, Resent-Date, Resent-From, Resent-To, Resent-Cc, In-Reply-To, References, "
 "List-Id, List-Help, List-Unsubscribe, List-Unsubscribe-Post, List-Subscribe, List-Post, List-Owner, List-Archive, "
 "Message-ID, Content-Type, Content-Transfer-Encoding, MIME-Version, Feedback-ID",  1,       64,       kMilter | kCli,
 "Header fields signed when present (relaxed/relaxed); From must be among them (RFC 6376 5.4)."},
{"dkim_oversign_headers",         Type::List,     "From",                          0,       64,       kMilter | kCli,
 "Signed header fields listed once more in h= than the message has them, so a copy added on the way breaks the signature (RFC 6376 8.15); each must be in dkim_sign_headers."},
{"dkim_key_check_interval",       Type::Duration, "1h",                            60,      7*kDay,   kMilter | kCli,
 "How long a check that a key's public half is published (the TXT record at SELECTOR._domainkey.DOMAIN equals the key file's) holds; only a key that matches signs."},
};
// clang-format on

}  // namespace config::table
