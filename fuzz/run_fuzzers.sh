#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each and prints executions and crashes per target.
#   fuzz/run_fuzzers.sh BUILD_DIR [SECONDS] [TARGET...]
# Seeds come from fuzz/corpus/<target>/ (read only); new inputs go to BUILD_DIR/fuzz/work/<target>/
# and anything that crashes, leaks, hangs or runs out of memory to BUILD_DIR/fuzz/artifacts/<target>/.
# A crash input found here belongs in fuzz/corpus/<target>/ once fixed (it becomes a seed and,
# through tests/test_robust_fuzz_corpus.cpp, a regression test).
set -uo pipefail
build_dir="$(cd "$1" && pwd)"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : $# ))
fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_ir_parser fuzz_safetensors fuzz_idx fuzz_miniseed fuzz_series_text fuzz_schedule fuzz_c_loader fuzz_hdf5 fuzz_segy)

# Leaks count as findings; UBSan stops at the first report (the build uses -fno-sanitize-recover).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

total_crashes=0
rows=()
for target in "${targets[@]}"; do
  exe="$build_dir/fuzz/$target"
  [ -x "$exe" ] || { echo "missing $exe (configure with -DSTRATA_FUZZ=ON and build the 'fuzzers' target)"; exit 2; }
  work="$build_dir/fuzz/work/$target"
  artifacts="$build_dir/fuzz/artifacts/$target"
  log="$build_dir/fuzz/$target.log"
  rm -rf "$artifacts"; mkdir -p "$work" "$artifacts"
  dict=()
  [ -f "$fuzz_dir/$target.dict" ] && dict=(-dict="$fuzz_dir/$target.dict")
  # -rss_limit_mb/-malloc_limit_mb: a hostile header that makes us allocate gigabytes is a finding.
  "$exe" "$work" "$fuzz_dir/corpus/$target" "${dict[@]}" -max_total_time="$seconds" \
         -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 \
         -print_final_stats=1 -artifact_prefix="$artifacts/" > "$log" 2>&1
  status=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(find "$artifacts" -type f | wc -l)
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi  # died without an artifact
  total_crashes=$((total_crashes + crashes))
  rows+=("$(printf '%-18s %12s %8s   %s' "$target" "${execs:-?}" "$crashes" "$log")")
done

printf '%-18s %12s %8s   %s\n' target executions crashes log
printf '%s\n' "${rows[@]}"
if [ "$total_crashes" -ne 0 ]; then
  echo "crash inputs are in $build_dir/fuzz/artifacts/ (reproduce: BUILD_DIR/fuzz/TARGET FILE)"
  exit 1
fi
