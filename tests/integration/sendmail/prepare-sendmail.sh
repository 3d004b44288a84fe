#!/usr/bin/env bash
# Prepares a private Sendmail 8.17 for the end-to-end tests: Debian 12's own
# packages, fetched with `apt-get download` and unpacked with `dpkg -x` into a
# prefix, never installed (sendmail-bin and postfix conflict: installing one
# removes the other). The harness (tests/integration/harness/sendmail.cc)
# builds each instance's sendmail.cf from the prefix's cf/ macros with m4.
#
#   tests/integration/sendmail/prepare-sendmail.sh [PREFIX]
#
# PREFIX defaults to $HIVE_SENDMAIL_PREFIX, else /var/cache/hive-test/sendmail
# (outside the repository, kept between test runs). It then holds
#   debs/                              the downloaded .debs
#   root/usr/libexec/sendmail/sendmail the binary (setgid bit cleared)
#   root/usr/share/sendmail/cf/        the m4 macros for sendmail.cf
#   root/etc/mail/helpfile
#   root/usr/sbin/saslpasswd2          for the AUTH tests' sasldb
#   lib/syslog2file.so                 Sendmail's syslog(3) lines to a file
#   ready                              written last; its presence = ready
# Idempotent and non-interactive; concurrent runs serialise on PREFIX.lock.
# When the prefix is ready it only checks it and exits (no root needed);
# otherwise it needs root (apt), and installs missing build/test packages
# (m4, Sendmail's runtime libraries) through deploy/install-deps.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
prefix=${1:-${HIVE_SENDMAIL_PREFIX:-/var/cache/hive-test/sendmail}}
# sasl2-bin: only for saslpasswd2, which makes the tests' sasldb (installing
# it would upgrade the libsasl2-2 that Postfix links against).
packages=(sendmail-bin sendmail-base sendmail-cf sasl2-bin)
sendmail="$prefix/root/usr/libexec/sendmail/sendmail"
cf_dir="$prefix/root/usr/share/sendmail/cf"
shim_src="$here/syslog2file.c"
shim="$prefix/lib/syslog2file.so"

log() { echo "prepare-sendmail: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# What "ready" means: the same shim source, a binary, the cf macros, m4.
stamp() {
  echo "shim $(sha256sum <"$shim_src" | cut -d' ' -f1)"
  echo "packages ${packages[*]}"
}
is_ready() {
  [[ -f $prefix/ready && -x $sendmail && -f $cf_dir/m4/cf.m4 && -f $shim && -x $prefix/root/usr/sbin/saslpasswd2 ]] &&
    command -v m4 >/dev/null && [[ $(cat "$prefix/ready") == "$(stamp)" ]]
}

if is_ready; then
  exit 0
fi
[[ $(id -u) == 0 ]] || die "$prefix is not ready; run me as root (apt-get download, dpkg -x)"

mkdir -p "$prefix"
exec 9>"$prefix.lock"
flock -w 600 9 || die "another prepare-sendmail holds $prefix.lock"
if is_ready; then # prepared meanwhile by a concurrent run
  exit 0
fi

# m4 and Sendmail's runtime libraries (no conflict with Postfix).
"$repo/deploy/install-deps.sh"

# 1. the .debs (apt-get download takes no dpkg lock)
debs="$prefix/debs"
have_debs() {
  local p
  for p in "${packages[@]}"; do
    compgen -G "$debs/${p}_*.deb" >/dev/null || return 1
  done
}
if ! have_debs; then
  rm -rf "$debs.tmp"
  mkdir -p "$debs.tmp"
  # apt drops privileges to _apt for downloads; let it write there.
  chown _apt "$debs.tmp" 2>/dev/null || true
  download() { (cd "$debs.tmp" && apt-get download -q "${packages[@]}") >&2; }
  if ! download; then
    # No or stale package lists (a fresh machine, or a superseded version).
    log "apt-get download failed; running apt-get update and retrying"
    apt-get update -q -o DPkg::Lock::Timeout=300 >&2
    download || die "apt-get download ${packages[*]} failed"
  fi
  rm -rf "$debs"
  mv "$debs.tmp" "$debs"
fi

# 2. extract into root.tmp, then move into place
rm -rf "$prefix/root.tmp"
mkdir -p "$prefix/root.tmp"
for p in "${packages[@]}"; do
  dpkg -x "$(compgen -G "$debs/${p}_*.deb" | sort | tail -1)" "$prefix/root.tmp"
done
# The packaged binary is setgid smmsp/mail; glibc ignores LD_PRELOAD for
# set-id programs and the tests run it as root anyway.
chmod 0755 "$prefix/root.tmp/usr/libexec/sendmail/sendmail"
rm -rf "$prefix/root"
mv "$prefix/root.tmp" "$prefix/root"

# 3. the syslog shim
mkdir -p "$prefix/lib"
cc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$shim.tmp" "$shim_src"
mv "$shim.tmp" "$shim"

# 4. checks: libraries resolve, the binary runs and has MILTER, m4 builds a .cf
if missing=$(ldd "$sendmail" "$prefix/root/usr/sbin/saslpasswd2" | grep 'not found'); then
  die "sendmail lacks libraries (add them to deploy/install-deps.sh): $missing"
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'OSTYPE(`linux'"'"')dnl\nMAILER(`smtp'"'"')dnl\n' >"$probe/probe.mc"
m4 -D_CF_DIR_="$cf_dir/" "$cf_dir/m4/cf.m4" "$probe/probe.mc" >"$probe/probe.cf"
grep -q '^Msmtp' "$probe/probe.cf" || die "m4 did not build a sendmail.cf"
# Sendmail looks its host name up at start-up: as in the harness, a private
# /etc/hosts names it and the resolver is 127.0.0.1, so no query leaves
# loopback (where mount namespaces are refused, the lookup may use DNS).
printf '127.0.0.1\tlocalhost\n127.0.0.1\tprepare.test.invalid\n::1\tprepare.test.invalid\n' >"$probe/hosts"
printf 'nameserver 127.0.0.1\n' >"$probe/resolv.conf"
run=(env FAKE_HOSTNAME=prepare.test.invalid LD_PRELOAD="$shim" timeout 30 "$sendmail" -C "$probe/probe.cf" -d0.1 -bt)
if unshare --mount --propagation private true 2>/dev/null; then
  # shellcheck disable=SC2016 # $1, $2, $@ are sh -c's own arguments
  run=(unshare --mount --propagation private -- sh -c \
    'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' \
    prepare "$probe/hosts" "$probe/resolv.conf" "${run[@]}")
fi
version=$("${run[@]}" </dev/null 2>&1 || true)
grep -q MILTER <<<"$version" || die "the extracted sendmail does not run or lacks MILTER: $version"

stamp >"$prefix/ready"
log "ready: $(grep -o 'Version [0-9.]*' <<<"$version" | head -1) in $prefix"
