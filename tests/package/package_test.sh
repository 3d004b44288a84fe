#!/usr/bin/env bash
# The Debian packages end to end on THIS machine (ctest label "package"):
# cpack builds hive-policyd and hive-milter .debs from the build tree;
# dpkg -i installs them; the files, conffiles and the hive user are checked;
# the units pass systemd-analyze verify; the installed binaries run as the
# units would run them (user hive, the unit's ExecStart, /run/hive) -- this
# machine has no systemd; mail goes through a private Postfix to them; the
# reload signals keep them running; dpkg --purge leaves nothing behind.
#
#   package_test.sh BUILD_DIR MAILCHECK_BIN
#
# It refuses to run where it could clobber something: hive packages or a
# hive user/config that this test did not install. Everything it starts is
# stopped by PID, and the packages are purged on any exit.
set -euo pipefail

build=$1
mailcheck=$2
packages=(hive-policyd hive-milter)
work=$(mktemp -d /tmp/hive-package-test.XXXXXX)
pids=()

fail() { echo "package_test: FAIL: $*" >&2; exit 1; }

cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -f "$work/installed" ]; then dpkg --purge "${packages[@]}" >"$work/purge-on-exit.log" 2>&1 || true; fi
  if [ $rc -ne 0 ]; then
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
command -v dpkg-shlibdeps >/dev/null || fail "dpkg-dev missing (deploy/install-deps.sh)"

# A leftover of an interrupted run of this test is ours to purge; anything
# else hive-like on this machine is not ours to touch.
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [ -n "$status" ] && [ "$status" != "unknown ok not-installed" ]; then
    echo "package_test: purging $p left by an earlier run ($status)" >&2
    dpkg --purge "$p" >/dev/null
  fi
done
getent passwd hive >/dev/null && fail "a user 'hive' exists that no hive package owns; not touching it"
[ -e /etc/hive ] && fail "/etc/hive exists and no hive package owns it; not touching it"
for port in 7450 7451 7452 7453; do
  (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && fail "port $port is in use (the packaged configs need it)"
done

# Build the packages.
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || fail "cpack failed"
debs=("$work"/out/hive-policyd_*.deb "$work"/out/hive-milter_*.deb)
for d in "${debs[@]}"; do [ -f "$d" ] || fail "no package $d"; done

touch "$work/installed"
dpkg -i "${debs[@]}" >"$work/dpkg-install.log" 2>&1 || fail "dpkg -i failed"

# Files, conffiles, user.
for f in /usr/sbin/hive-policyd /usr/sbin/hive-milter /usr/bin/hivectl /etc/hive/policyd.yaml /etc/hive/milter.yaml \
         /lib/systemd/system/hive-policyd.service /lib/systemd/system/hive-milter.service \
         /usr/share/man/man8/hive-policyd.8 /usr/share/man/man8/hive-milter.8 \
         /usr/sbin/hive-postfix-config /usr/sbin/hive-sendmail-config /usr/sbin/hive-maillog-follower \
         /lib/systemd/system/hive-maillog-follower.service /usr/share/man/man8/hive-postfix-config.8 \
         /usr/share/man/man8/hive-sendmail-config.8 /usr/share/man/man8/hive-maillog-follower.8; do
  [ -e "$f" ] || fail "missing $f"
done
dpkg-query -W -f='${Conffiles}' hive-policyd | grep -q '/etc/hive/policyd.yaml' || fail "policyd.yaml is no conffile"
dpkg-query -W -f='${Conffiles}' hive-milter | grep -q '/etc/hive/milter.yaml' || fail "milter.yaml is no conffile"
getent passwd hive >/dev/null || fail "no user hive"
[ "$(stat -c %G /etc/hive/policyd.yaml)" = hive ] || fail "policyd.yaml not readable by group hive"
dpkg -L "${packages[@]}" | sort -u >"$work/files"

# The units: systemd's own checker where it exists.
if command -v systemd-analyze >/dev/null; then
  for p in "${packages[@]}" hive-maillog-follower; do
    out=$(systemd-analyze verify "/lib/systemd/system/$p.service" 2>&1 || true)
    [ -z "$out" ] || fail "systemd-analyze verify $p.service: $out"
  done
fi

# Start each daemon as its unit would: User=, RuntimeDirectory=, ExecStart=.
install -d -o hive -g hive -m 0755 /run/hive
run_unit() {
  local unit=/lib/systemd/system/$1.service
  local exec_start pre
  exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
  pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
  [ -n "$exec_start" ] || fail "$1: no ExecStart"
  if [ -n "$pre" ]; then
    setpriv --reuid=hive --regid=hive --init-groups --no-new-privs -- $pre >"$work/$1-pre.log" 2>&1 ||
      fail "$1: ExecStartPre failed"
  fi
  setpriv --reuid=hive --regid=hive --init-groups --no-new-privs -- $exec_start >"$work/$1.log" 2>&1 &
  pids+=($!)
}
wait_port() {
  for _ in $(seq 150); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done
  fail "nothing listens on 127.0.0.1:$1"
}
scrape() {
  exec 3<>/dev/tcp/127.0.0.1/$1
  printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&3
  timeout 5 cat <&3
  exec 3<&-
}
run_unit hive-policyd
wait_port 7450
run_unit hive-milter
wait_port 7451
wait_port 7452
wait_port 7453

# Mail through Postfix to the installed daemons.
"$mailcheck" 7451 >"$work/mailcheck.log" 2>&1 || fail "mail through the installed daemons"
scrape 7452 | grep -q '^hive_policyd_decisions_total{stage="eom",action="reject"} 1' ||
  fail "policyd metrics do not show the rejected message"
scrape 7453 | grep -q '^hive_milter_decisions_total{stage="eom",action="continue"} 1' ||
  fail "milter metrics do not show the delivered message"

# Reload as the units do (ExecReload): both keep running and say so.
kill -HUP "${pids[0]}"
kill -USR1 "${pids[1]}"
for _ in $(seq 50); do
  grep -q 'reloaded' "$work/hive-policyd.log" && grep -q 'reloaded' "$work/hive-milter.log" && break
  sleep 0.1
done
grep -q 'reloaded' "$work/hive-policyd.log" || fail "hive-policyd did not reload on SIGHUP"
grep -q 'reloaded' "$work/hive-milter.log" || fail "hive-milter did not reload on SIGUSR1"
kill -0 "${pids[0]}" && kill -0 "${pids[1]}" || fail "a daemon died on reload"
# The follower as its unit runs it (waits for /var/log/mail.log if absent).
run_unit hive-maillog-follower
sleep 1
kill -0 "${pids[2]}" || fail "hive-maillog-follower died: $(cat "$work/hive-maillog-follower.log")"

# Stop (as systemctl stop: SIGTERM), then purge.
for pid in "${pids[@]}"; do kill "$pid"; done
for pid in "${pids[@]}"; do
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "daemon $pid ignored SIGTERM"
done
pids=()
rmdir /run/hive 2>/dev/null || true
dpkg --purge "${packages[@]}" >"$work/dpkg-purge.log" 2>&1 || fail "dpkg --purge failed"
rm -f "$work/installed"
while read -r f; do
  case "$f" in /|/etc|/lib|/usr|/usr/*bin|/usr/share|/usr/share/man|/usr/share/man/man8|/lib/systemd|/lib/systemd/system|/usr/share/doc) continue ;; esac
  [ -e "$f" ] && fail "left after purge: $f"
done <"$work/files"
getent passwd hive >/dev/null && fail "user hive left after purge"
getent group hive >/dev/null && fail "group hive left after purge"
[ -e /etc/hive ] && fail "/etc/hive left after purge"
echo "package_test: ok"
