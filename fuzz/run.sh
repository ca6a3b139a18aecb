#!/usr/bin/env bash
# Runs each fuzz target for a bounded time; what `make fuzz` calls after building them.
#
# Usage: fuzz/run.sh BUILD_DIR SECONDS TARGET...
#
# Each target reads its committed seeds (fuzz/corpus/<target>/) and a scratch corpus
# (BUILD_DIR/fuzz/work/<target>/, kept between runs); libFuzzer writes what it finds only to the
# first corpus directory it is given, the scratch one, so the committed seeds stay as they are.
# Every target runs even after one fails; then the script fails, naming each reproducer
# (BUILD_DIR/fuzz/artifacts/<target>-crash-..., -timeout-..., -oom-...) and how to replay it.
set -euo pipefail

if (($# < 3)); then
  echo "usage: $0 BUILD_DIR SECONDS TARGET..." >&2
  exit 2
fi
build=$1
seconds=$2
shift 2
here="$(cd "$(dirname "$0")" && pwd)"

# A check that fails aborts; UBSan findings stop the run rather than scroll past.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
for target in "$@"; do
  binary="$build/fuzz/fuzz_$target"
  work="$build/fuzz/work/$target"
  artifacts="$build/fuzz/artifacts"
  log="$build/fuzz/logs/$target.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  args=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1
    -artifact_prefix="$artifacts/$target-")
  [[ -f "$here/$target.dict" ]] && args+=(-dict="$here/$target.dict")

  if "$binary" "${args[@]}" "$work" "$here/corpus/$target" >"$log" 2>&1; then
    # The last status line has the coverage; the final stats have the totals.
    status=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
    runs=$(grep -oE 'number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
    rate=$(grep -oE 'average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
    echo "fuzz: $target: ok, $runs runs ($rate/s), $status, corpus $(ls "$work" | wc -l) files"
  else
    echo "fuzz: $target: FAILED (log: $log)" >&2
    grep -E 'check failed|ERROR:|SUMMARY:|Test unit written to' "$log" | head -n 8 >&2 || true
    failed+=("$target")
  fi
done

if ((${#failed[@]} > 0)); then
  echo "fuzz: failed: ${failed[*]}" >&2
  echo "fuzz: replay a reproducer with: $build/fuzz/fuzz_<target> $build/fuzz/artifacts/<file>" >&2
  exit 1
fi
