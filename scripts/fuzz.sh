#!/bin/sh
# Runs every libFuzzer target in BIN for SECONDS each, starting from the seed
# corpus in tests/fuzz/corpus/NAME. New inputs go to a scratch directory, so
# the committed corpus only changes by hand. Fails on the first crash, leak
# or sanitizer report, leaving the reproducer in the scratch directory.
set -eu
bin=${1:?usage: fuzz.sh BIN_DIR SECONDS}
seconds=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/tocsin-fuzz-XXXXXX)
status=0
for target in "$bin"/fuzz_*; do
    name=$(basename "$target" | sed 's/^fuzz_//')
    mkdir -p "$work/$name"
    echo "fuzz: $name for ${seconds}s" >&2
    if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/$name/" -print_final_stats=1 \
        "$work/$name" "$root/tests/fuzz/corpus/$name" >"$work/$name.log" 2>&1; then
        echo "fuzz: $name FAILED; log and reproducer in $work" >&2
        tail -n 40 "$work/$name.log" >&2
        status=1
        continue
    fi
    grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$work/$name.log" |
        sed "s/^/fuzz: $name /" >&2 || true
done
[ "$status" -eq 0 ] && rm -rf "$work"
exit "$status"
