#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), one after another on one core, and
# prints a markdown table: target, executions, seconds, corpus size, findings.
#
#   fuzz/run-all.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). The stable toolchain is enough:
# RUSTC_BOOTSTRAP=1 lets it take the nightly-only flags cargo-fuzz passes. No sanitizer: the
# code is safe Rust, so what the fuzzer looks for are panics, aborts, timeouts and memory blowups.
#
# Seeds come from fuzz/corpus/<target> and fuzz/regressions/<target> and are only read; what the
# fuzzer learns goes to fuzz/target/corpus/<target> (not committed). To fold it back into the
# committed corpus, minimised: fuzz/run-all.sh --merge [TARGET...]. Each finding is in
# fuzz/artifacts/<target>/; replay one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run -s none <target> fuzz/artifacts/<target>/<file>
# then keep it in fuzz/regressions/<target>/ with a named test in the crate that owns the parser.
set -euo pipefail

cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: install it with  cargo install cargo-fuzz --locked" >&2
    exit 2
fi

merge=false
if [[ "${1:-}" == "--merge" ]]; then
    merge=true
    shift
fi
seconds=600
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi

# The keystore targets run last: their parsers do the most work per input.
all_targets=(basic_header token_form authorize_query jws assertion jwk jwks pem der jwks_document cache_control pkcs12 jks)
if (($#)); then targets=("$@"); else targets=("${all_targets[@]}"); fi

dict_for() {
    case "$1" in
        jws | assertion | jwk | jwks | jwks_document) echo "-dict=fuzz/dict/json.dict" ;;
        basic_header | token_form | authorize_query) echo "-dict=fuzz/dict/form.dict" ;;
        cache_control) echo "-dict=fuzz/dict/cache_control.dict" ;;
    esac
}

echo "building the fuzz targets (first build is slow)..." >&2
# A tree being edited may not compile for a moment: retry a few times before giving up.
for attempt in 1 2 3 4 5 6; do
    cargo fuzz build -s none >&2 && break
    [[ $attempt == 6 ]] && exit 1
    echo "build failed; retrying in a minute" >&2
    sleep 60
done
bin=fuzz/target/x86_64-unknown-linux-gnu/release

if $merge; then
    for t in "${targets[@]}"; do
        # Only learned inputs of at most 512 bytes are candidates, so the committed corpus stays small
        # (the seeds already hold whole certificates and keystores).
        learned=fuzz/target/small/$t
        rm -rf "$learned"
        mkdir -p "$learned" "fuzz/corpus/$t" "fuzz/target/corpus/$t"
        find "fuzz/target/corpus/$t" -type f -size -513c -exec cp -t "$learned" {} +
        # Adds to the committed corpus a smallest set of learned inputs that covers the edges it
        # does not reach yet (edges only, not hit counts, to keep it small).
        nice -n 10 "$bin/$t" -merge=1 -set_cover_merge=1 -use_counters=0 -rss_limit_mb=2048 \
            -timeout=10 "fuzz/corpus/$t" "$learned" >&2
        echo "$t: $(find "fuzz/corpus/$t" -type f | wc -l) files," \
            "$(find "fuzz/corpus/$t" -type f -printf '%s\n' | awk '{s += $1} END {print s}') bytes" >&2
    done
    exit 0
fi

logs=fuzz/target/logs
mkdir -p "$logs"
rows=()
for t in "${targets[@]}"; do
    learned=fuzz/target/corpus/$t
    artifacts=fuzz/artifacts/$t
    mkdir -p "$learned" "$artifacts" "fuzz/corpus/$t"
    seeds=("fuzz/corpus/$t")
    [[ -d fuzz/regressions/$t ]] && seeds+=("fuzz/regressions/$t")
    # Each target is rebuilt just before it runs, so a long run fuzzes the code as it is then;
    # if the tree does not compile at that moment, the previous build runs.
    if ! cargo fuzz build -s none "$t" >"$logs/$t.build.log" 2>&1; then
        echo "$t: build failed (see $logs/$t.build.log); fuzzing the previous build" >&2
    fi
    before=$(find "$artifacts" -type f | wc -l)
    start=$(date +%s)
    echo "fuzzing $t for ${seconds}s (log: $logs/$t.log)" >&2
    # A finding ends the target's run early (libFuzzer stops at the first one); the table says so.
    # shellcheck disable=SC2046
    nice -n 10 "$bin/$t" -artifact_prefix="$artifacts/" -max_total_time="$seconds" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 $(dict_for "$t") \
        "$learned" "${seeds[@]}" >"$logs/$t.log" 2>&1 || true
    elapsed=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
    corpus=$(grep -oE 'corp: [0-9]+' "$logs/$t.log" | tail -1 | grep -oE '[0-9]+' || true)
    cov=$(grep -oE 'cov: [0-9]+' "$logs/$t.log" | tail -1 | grep -oE '[0-9]+' || true)
    findings=$(($(find "$artifacts" -type f | wc -l) - before))
    rows+=("| $t | ${execs:-?} | $elapsed | ${corpus:-?} | ${cov:-?} | $findings |")
    echo "${rows[-1]}" >&2
done

echo
echo "| target | executions | seconds | corpus (files) | edges covered | findings (crash files) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
