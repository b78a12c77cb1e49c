#!/bin/sh
# Creates what an installed sendguard needs besides its files: the system
# user and groups, the directories with their owners and modes, a
# configuration file and a VERP key when missing. Run it as root after
# "cmake --install" (or a package's files); running it again changes nothing
# that is already right and never overwrites a configuration or a key.
#
#   scripts/install.sh [--root DIR] [--no-users] [--user NAME] [--group NAME]
#                      [--reader-group NAME] [--examples DIR] [--bindir DIR]
#
#   --root DIR          create everything below DIR instead of / (packaging,
#                       tests); the users are still system users
#   --no-users          do not create users or groups (they must exist)
#   --user, --group     the daemons' user and group (default sendguard)
#   --reader-group      the group of mailing software that reads the store
#                       (default sendguard-read)
#   --examples DIR      where sendguard.conf is copied from when
#                       /etc/sendguard/sendguard.conf is missing (default:
#                       the installed examples, else conf-examples/ beside
#                       this script)
#   --bindir DIR        where the installed sendguard command is; used to
#                       create the store as the daemon user (default
#                       /usr/local/bin, then /usr/bin)
#
# What it makes (sendguard(1), sendguard-bounce(8), sendguard-policyd(8) and
# sendguard-milter(8), FILES, say who uses what):
#   user sendguard, group sendguard     adduser --system --group
#   group sendguard-read                addgroup --system
#   /etc/sendguard          root:sendguard          0755
#   .../sendguard.conf      root:sendguard          0644  (no secrets in it)
#   .../verp.keys           root:sendguard          0640  (32 random bytes, hex)
#   /var/lib/sendguard      sendguard:sendguard-read 2750 (set-group-id: the
#                           store's files get group sendguard-read)
#   /run/sendguard          sendguard:sendguard     0755  (systemd's
#                           RuntimeDirectory= recreates it at each start)
set -eu

root=""
users=yes
user=sendguard
group=sendguard
reader=sendguard-read
here=$(cd "$(dirname "$0")" && pwd)
examples=""
bindir=""

usage() {
    sed -n '8,9p' "$0" | sed 's/^# *//' >&2
    exit 64
}
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=${2:?}; shift 2 ;;
        --no-users) users=no; shift ;;
        --user) user=${2:?}; shift 2 ;;
        --group) group=${2:?}; shift 2 ;;
        --reader-group) reader=${2:?}; shift 2 ;;
        --examples) examples=${2:?}; shift 2 ;;
        --bindir) bindir=${2:?}; shift 2 ;;
        -h|--help) sed -n '8,9p' "$0" | sed 's/^# *//'; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage ;;
    esac
done
root=${root%/}
if [ "$(id -u)" != 0 ]; then
    echo "install.sh: run as root (it creates users and sets owners)" >&2
    exit 1
fi
say() { echo "sendguard: $*"; }

# --- users and groups (Debian's adduser; both calls are no-ops when the
# names exist, but checking first keeps the output quiet and the intent clear)
if [ "$users" = yes ]; then
    if ! getent group "$group" >/dev/null; then
        addgroup --system --quiet "$group"
        say "created group $group"
    fi
    if ! getent passwd "$user" >/dev/null; then
        adduser --system --quiet --ingroup "$group" --home /var/lib/sendguard \
            --no-create-home --shell /usr/sbin/nologin \
            --gecos "sendguard bounce transport and lookup daemon" "$user"
        say "created user $user"
    fi
    if ! getent group "$reader" >/dev/null; then
        addgroup --system --quiet "$reader"
        say "created group $reader (add mailing software users: adduser USER $reader)"
    fi
fi
for g in "$group" "$reader"; do
    getent group "$g" >/dev/null || { echo "install.sh: no group $g (drop --no-users)" >&2; exit 1; }
done
getent passwd "$user" >/dev/null || { echo "install.sh: no user $user (drop --no-users)" >&2; exit 1; }

# dir PATH OWNER:GROUP MODE: creates PATH or corrects its owner and mode.
dir() {
    [ -d "$1" ] || { mkdir -p "$1"; say "created $1"; }
    chown "$2" "$1"
    chmod "$3" "$1"
}

etc="$root/etc/sendguard"
lib="$root/var/lib/sendguard"
run="$root/run/sendguard"
dir "$etc" "root:$group" 0755
dir "$lib" "$user:$reader" 2750
dir "$run" "$user:$group" 0755

conf="$etc/sendguard.conf"
if [ ! -e "$conf" ]; then
    if [ -z "$examples" ]; then
        for d in /usr/local/share/doc/sendguard/examples /usr/share/doc/sendguard/examples \
                 "$here/../conf-examples"; do
            [ -f "$d/sendguard.conf" ] && { examples=$d; break; }
        done
    fi
    if [ -n "$examples" ] && [ -f "$examples/sendguard.conf" ]; then
        cp "$examples/sendguard.conf" "$conf"
        say "created $conf from $examples/sendguard.conf; now edit it: set bounce_domains"
    else
        printf '# sendguard.conf(5); "sendguard config -d" lists the defaults.\n' >"$conf"
        say "created an empty $conf; now edit it: set bounce_domains"
    fi
fi
chown "root:$group" "$conf"
chmod 0644 "$conf"

# The VERP key: 32 random bytes in hex, the format verp_key_file takes.
keys="$etc/verp.keys"
if [ ! -e "$keys" ]; then
    (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$keys"; echo >>"$keys")
    say "created $keys (a new VERP signing key)"
fi
chown "root:$group" "$keys"
chmod 0640 "$keys"

# The store is created by its first writer, as the daemon user, so that
# sendguard-bounce (user=sendguard) can write what sendguard-policyd (root
# at start) opens. Only for the real system: a --root tree is not live.
if [ -z "$root" ] && [ ! -e "$lib/data.mdb" ]; then
    cli=""
    for d in $bindir /usr/local/bin /usr/bin; do
        [ -x "$d/sendguard" ] && { cli="$d/sendguard"; break; }
    done
    if [ -n "$cli" ] && command -v runuser >/dev/null; then
        # An empty import opens the store for writing, which creates it.
        (umask 007; runuser -u "$user" -- "$cli" -c "$conf" suppress import --format plain </dev/null >/dev/null)
        say "created the suppression store in $lib"
    fi
fi
say "done; see sendguard-policyd(8), sendguard-milter(8) and sendguard-bounce(8), FILES"
