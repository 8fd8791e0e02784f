#!/usr/bin/env bash
# The geonews benchmark suite: builds what it measures, then runs bench/run.py.
#
#   bench/run.sh                        full run (about 16 minutes; 1M generated articles,
#                                       a 1 GB web archive)
#   bench/run.sh --short                a few seconds of each benchmark, as CI runs it
#   bench/run.sh --out bench/results    where the report, results.json and plot go
#                                       (default target/bench)
#   bench/run.sh --drop-caches          also time a search after emptying the page cache
#                                       (root only; it empties it for the whole machine)
#
# Needs ../shared/corpora beside the repository, python3 (with sqlite3 FTS5) and matplotlib
# for the plot (skipped with a message when it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/corpora ]; then
    echo "skipped: ../shared/corpora is absent (it holds the benchmark corpora)"
    exit 0
fi

cargo build --release --locked --bin geonews --example gen_corpus --example http_load \
    --example gen_warc
cargo bench --locked --bench baselines --bench html_extraction --no-run
# A bench target's executable, as cargo names it (built above: this is quick).
bench_executable() {
    cargo bench --locked --bench "$1" --no-run --message-format=json 2>/dev/null |
        python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == sys.argv[1] \
            and message.get("executable"):
        print(message["executable"])
' "$1"
}
baselines=$(bench_executable baselines)
html_extraction=$(bench_executable html_extraction)

exec python3 bench/run.py \
    --geonews target/release/geonews \
    --baselines "$baselines" \
    --gen-corpus target/release/examples/gen_corpus \
    --http-load target/release/examples/http_load \
    --gen-warc target/release/examples/gen_warc \
    --html-extraction "$html_extraction" \
    "$@"
