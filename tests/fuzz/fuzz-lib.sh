# Shared by the run-*-fuzz.sh scripts of the newer targets (sourced, not
# run): find clang, build one libFuzzer target with ASan + UBSan when a
# source is newer than the binary, run it bounded on a working corpus in
# OUT_DIR plus read-only seeds. A crash, leak, sanitizer report or broken
# invariant (__builtin_trap) fails the run and leaves the reproducer in
# OUT_DIR.
#
#   fuzz_build BIN "CXXFLAGS..." "PKG_MODULES..." SOURCE...
#   fuzz_run BIN MAX_LEN [libFuzzer flags...] -- SEED_DIR...
#
# Reproduce a crash: run-X-fuzz.sh OUT_DIR path/to/crash-file
set -euo pipefail
fuzz_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

fuzz_cxx() {
  command -v clang++ || command -v clang++-14 || {
    echo "fuzz: clang++ not found (deploy/install-deps.sh installs it)" >&2
    exit 1
  }
}

# Generates C++ for the given .proto files (paths under proto/) into DIR;
# with --grpc also the gRPC stubs.
fuzz_protos() {
  local dir=$1 grpc=$2
  shift 2
  mkdir -p "$dir"
  local proto stale=0
  for proto in "$@"; do
    local header="$dir/${proto#"$fuzz_src/proto/"}"
    [ -f "${header%.proto}.pb.h" ] && [ "${header%.proto}.pb.h" -nt "$proto" ] || stale=1
  done
  # Regenerating would make every object look stale.
  [ "$stale" = 1 ] || return 0
  protoc -I "$fuzz_src/proto" --cpp_out="$dir" "$@"
  if [ "$grpc" = --grpc ]; then
    protoc -I "$fuzz_src/proto" --grpc_out="$dir" --plugin=protoc-gen-grpc="$(command -v grpc_cpp_plugin)" "$@"
  fi
}

fuzz_build() {
  local bin=$1 cxxflags=$2 modules=$3
  shift 3
  local cxx objdir objs=() stale=0
  cxx=$(fuzz_cxx)
  objdir="$(dirname "$bin")/obj"
  mkdir -p "$objdir"
  # One object per source, rebuilt when its source or any project header is
  # newer: the generated gRPC code alone takes minutes on a loaded CI box.
  local newest_header
  newest_header=$(find "$fuzz_src/milter" "$fuzz_src/policy" "$fuzz_src/proto" "$fuzz_src/tests" \
    "$(dirname "$bin")/gen" -name '*.h' -printf '%T@\n' 2>/dev/null | sort -n | tail -1 || true)
  for source in "$@"; do
    local obj
    obj="$objdir/$(echo "$source" | sed 's|/|_|g').o"
    objs+=("$obj")
    if [ ! -f "$obj" ] || [ "$source" -nt "$obj" ] ||
       [ "$(stat -c %Y "$obj")" -lt "${newest_header%.*}" ]; then
      # shellcheck disable=SC2086,SC2046
      "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
        $cxxflags -c "$source" -o "$obj.tmp" $(pkg-config --cflags $modules)
      mv "$obj.tmp" "$obj"
      stale=1
    fi
  done
  if [ "$stale" = 1 ] || [ ! -x "$bin" ]; then
    # shellcheck disable=SC2086,SC2046
    "$cxx" -fsanitize=fuzzer,address,undefined "${objs[@]}" -o "$bin.tmp" $(pkg-config --libs $modules)
    mv "$bin.tmp" "$bin"
  fi
}

fuzz_run() {
  local bin=$1 max_len=$2
  shift 2
  local flags=() seeds=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  seeds=("$@")
  [ ${#flags[@]} -gt 0 ] || flags=(-max_total_time=15)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  # A reproducer given as a file: run just that input.
  local f
  for f in "${flags[@]}"; do
    [ -f "$f" ] && exec "$bin" "${flags[@]}"
  done
  mkdir -p corpus
  exec "$bin" -rss_limit_mb=2048 -timeout=10 -max_len="$max_len" "${flags[@]}" corpus "${seeds[@]}"
}
