#!/usr/bin/env bash
# Installs the Debian packages spindle needs to build and test, and only those that are missing.
#
# Usage: scripts/deps.sh [bench|fuzz]
#   (no argument)  what `make build`, `make test` and `make demo` need
#   bench          that, plus the benchmarks' peers (Asio, libuv, libevent, Twisted) and python3
#   fuzz           that, plus clang and libFuzzer for `make fuzz`
#
# As root: `apt-get update` then `apt-get install -y` of the missing ones. As anyone else, with
# something missing: prints the apt-get command to run and fails. With nothing missing it does
# nothing, so it is cheap to run before every build. Set SPINDLE_SKIP_DEPS=1 to skip it (e.g. on
# a machine that is not Debian and has the tools some other way).
set -euo pipefail

PACKAGES=(
  build-essential  # g++ and make
  cmake
  make
  libfmt-dev
  libcli11-dev
  libgtest-dev
  libgmock-dev
  googletest
  libbenchmark-dev
  libasio-dev      # benchmark peers: built by make test's smoke pass
  libuv1-dev
  libevent-dev
  python3          # the benchmark driver
  python3-twisted  # the Twisted peer of the benchmark
  pkg-config
)
BENCH_PACKAGES=(
  python3
  libasio-dev
  libuv1-dev
  libevent-dev
  python3-twisted
)

FUZZ_PACKAGES=(
  clang-16            # libFuzzer is clang's; clang 16 (Debian 12's clang is 14, too old for
                      # std::source_location with libstdc++ 12 and for sanitized coroutines)
  libclang-rt-16-dev  # libFuzzer and the sanitizers' runtimes for clang 16
  llvm-16             # llvm-symbolizer: crash reports with function names and lines
)

case "${1:-}" in
  "") ;;
  bench) PACKAGES+=("${BENCH_PACKAGES[@]}") ;;
  fuzz) PACKAGES+=("${FUZZ_PACKAGES[@]}") ;;
  *)
    echo "usage: $0 [bench|fuzz]" >&2
    exit 2
    ;;
esac

if [[ "${SPINDLE_SKIP_DEPS:-0}" == 1 ]]; then
  exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps: dpkg-query not found (not Debian?); not checking packages." >&2
  echo "deps: spindle needs: g++ (C++20), cmake >= 3.25, make, fmt, CLI11, GoogleTest," \
    "Google Benchmark, pkg-config." >&2
  exit 0
fi

# `dpkg -s` also succeeds for a package that was removed but left its config files behind, so
# ask for the status itself and accept only "install ok installed".
installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "deps: missing Debian packages: ${missing[*]}" >&2
  echo "deps: install them as root, then run make again:" >&2
  echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

# Retries ride out a mirror that is briefly unreachable or a dpkg lock held by another apt.
retry() {
  local attempt
  for attempt in 1 2 3; do
    "$@" && return 0
    echo "deps: '$*' failed (attempt $attempt of 3)" >&2
    sleep $((attempt * 5))
  done
  return 1
}

echo "deps: installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
retry apt-get update
retry apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
