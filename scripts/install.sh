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
#                       tests); the users are still system users, and a
#                       sendguard.conf it writes names the paths below DIR
#                       (config_directory, state_directory, run_directory
#                       and every absolute sendguard path in the example)
#   --no-users          do not create users or groups (they must exist)
#   --user, --group     the daemons' user and group (default sendguard)
#   --reader-group      the group of mailing software that reads the store
#                       (default sendguard-read)
#   --examples DIR      where sendguard.conf is copied from when
#                       /etc/sendguard/sendguard.conf is missing (default:
#                       the examples installed with this script,
#                       PREFIX/share/doc/sendguard/examples, else
#                       conf-examples/ beside it)
#   --bindir DIR        where the installed sendguard command is; used to
#                       create the store as the daemon user (default
#                       PREFIX/bin of this script, then /usr/local/bin,
#                       then /usr/bin)
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
# The tree's paths go into sendguard.conf and through sed: keep them plain.
case "$root" in
    *[!A-Za-z0-9._/-]*)
        echo "install.sh: --root $root: use only letters, digits and . _ / - (it is written into sendguard.conf)" >&2
        exit 64 ;;
esac
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

# set_param FILE NAME VALUE: NAME's line in FILE says VALUE (appended when
# the file does not set NAME). VALUE holds no '#' (see --root above).
set_param() {
    if grep -q "^$2[[:space:]]*=" "$1"; then
        sed -i "s#^$2[[:space:]]*=.*#$2 = $3#" "$1"
    else
        printf '%s = %s\n' "$2" "$3" >>"$1"
    fi
}

# root_paths FILE: a configuration for the --root tree names the tree's own
# paths, so that the programs work on it as it is. The three directories
# carry the defaults derived from them ($config_directory/verp.keys,
# $state_directory/..., unix:$run_directory/socketmap.sock); a sendguard
# path the file spells out in full gets the tree's prefix.
root_paths() {
    printf '\n# The tree made by "install.sh --root %s".\n' "$root" >>"$1"
    set_param "$1" config_directory "$etc"
    set_param "$1" state_directory "$lib"
    set_param "$1" run_directory "$run"
    sed -i -E \
        -e "s#^((verp_key_file|bounce_quarantine_directory|bounce_event_log|policyd_pid_file)[[:space:]]*=[[:space:]]*)/#\1$root/#" \
        -e "/^policyd_socketmap_listen[[:space:]]*=/s#unix:/#unix:$root/#g" \
        -e "s#^(log_target[[:space:]]*=[[:space:]]*file:)/#\1$root/#" "$1"
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
        # Installed, this script is PREFIX/share/sendguard/install.sh.
        for d in "$here/../doc/sendguard/examples" "$here/../conf-examples"; do
            [ -f "$d/sendguard.conf" ] && { examples=$(cd "$d" && pwd); break; }
        done
    fi
    if [ -n "$examples" ] && [ -f "$examples/sendguard.conf" ]; then
        cp "$examples/sendguard.conf" "$conf"
        from="from $examples/sendguard.conf"
    else
        printf '# sendguard.conf(5); "sendguard config -d" lists the defaults.\n' >"$conf"
        from="empty"
    fi
    [ -z "$root" ] || root_paths "$conf"
    say "created $conf ($from); now edit it: set bounce_domains"
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
    for d in $bindir "$here/../../bin" /usr/local/bin /usr/bin; do
        [ -x "$d/sendguard" ] && { cli="$d/sendguard"; break; }
    done
    if [ -n "$cli" ] && command -v runuser >/dev/null; then
        # An empty import opens the store for writing, which creates it.
        (umask 007; runuser -u "$user" -- "$cli" -c "$conf" suppress import --format plain </dev/null >/dev/null)
        say "created the suppression store in $lib"
    else
        say "warning: no sendguard command found (looked in ${bindir:+$bindir, }$here/../../bin, /usr/local/bin, /usr/bin; name it with --bindir): the store's first writer will create it with its own umask, and sendguard-read members need lock.mdb group-writable (umask 007)"
    fi
elif [ -n "$root" ] && [ ! -e "$lib/data.mdb" ]; then
    say "note: a --root tree gets no store; its first writer creates it: run it as $user with umask 007 so that sendguard-read members can use lock.mdb"
fi
say "done; see sendguard-policyd(8), sendguard-milter(8) and sendguard-bounce(8), FILES"
