#!/usr/bin/env bash
# Installs every Debian 12 package hive's build, tests and demo need.
# Idempotent and non-interactive; does nothing when all are present.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  libmilter-dev libgrpc++-dev libgrpc-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  libssl-dev libyaml-cpp-dev libre2-dev libabsl-dev
  # DNS lists (content.dns_lists): the asynchronous resolver
  libc-ares-dev
  # registrable domains (Public Suffix List) and IDN host names
  libpsl-dev libidn2-dev publicsuffix
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev grpc-proto
  # rate limits shared by replicas: hiredis, and a real redis-server for the tests
  libhiredis-dev redis-server
  # the content fuzzer (tests/fuzz): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # the clock-jump fault test: hive-policyd under libfaketime
  libfaketime
  # the DNS lists' end-to-end test: a real rbldnsd serving test zones
  rbldnsd
  postfix swaks miltertest python3 iproute2 procps
  # Sendmail for the end-to-end tests is only extracted from its .debs
  # (tests/integration/sendmail/prepare-sendmail.sh): installing it would
  # remove Postfix. It needs m4 for its .cf, these runtime libraries, and
  # mount/unshare for its private /etc/hosts.
  m4 libdb5.3 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2 libssl3 libwrap0 mount util-linux
  # STARTTLS and AUTH tests: a throwaway certificate, Cyrus SASL's PLAIN
  # mechanism and sasldb (saslpasswd2 is extracted with Sendmail).
  openssl libsasl2-modules libsasl2-modules-db
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# "No configuration" leaves /etc/postfix/main.cf absent: the system Postfix
# instance can never start by accident; tests and the demo run private ones.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "install-deps: installing ${missing[*]}" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
