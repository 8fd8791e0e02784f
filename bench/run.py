#!/usr/bin/env python3
"""The geonews benchmark suite; run it through bench/run.sh, which builds what it measures.

Every figure is a ratio against a baseline measured in the same run, on the same articles:

1. Indexing: `geonews index` on ../shared/corpora against a plain tantivy indexer (same text
   fields, no extraction: benches/baselines.rs) and SQLite FTS5 (bench/fts5.py, given the
   countries geonews found). The three alternate, run after run, so that noise from other
   work on the machine falls on all of them alike.
2. Warm query latency in one process: the queries of bench/queries.tsv through
   `geonews search --batch` (latency measured inside the process), against FTS5 doing the same
   work (total, top 10 ids, country counts) on the same articles.
3. CLI latency: `geonews search` as a whole process on the largest generated index (the
   page cache warm; with --drop-caches, the first search also after emptying it).
4. Scale: generated corpora (examples/gen_corpus) of growing size: index time, size on disk,
   peak memory and warm query latency at each size.
6. Saved searches: `index --watch` with 100 watches over a batch of generated articles,
   against the same `index` without them, alternating, on copies of the corpora's index.
5. HTTP: `geonews serve` under load from examples/http_load (keep-alive clients at
   concurrency 1, 8 and 32, each request a faceted search), against the same queries through
   `search --batch` in one process, so that the cost of HTTP shows as a ratio; on the corpora
   and on the largest generated index, with the server's resident memory while idle.
7. Copies: `geonews index` on the corpora with near-duplicate clustering (the built-in
   schema) against the same binary without it (a schema without the `cluster` field),
   alternating; and how many stories have copies.
8. Web archives: a CC-NEWS-style WARC generated from the sample pages (examples/gen_warc,
   1 GB in a full run) indexed whole: pages/s and peak memory.
9. Main text of web pages: benches/html_extraction on ../shared/html-benchmark, geonews
   beside the extractor crates it could have used (its table, as printed).

Writes report.md, results.json and scale.png (with matplotlib) to --out, and prints the report.
"""

import argparse
import dataclasses
import json
import math
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO.parent / "shared" / "corpora"
QUERIES = REPO / "bench" / "queries.tsv"
FTS5 = REPO / "bench" / "fts5.py"
GIB = 1 << 30


@dataclasses.dataclass(frozen=True)
class Mode:
    name: str
    corpus: Path
    index_runs: int
    query_passes: int
    scale_sizes: tuple[int, ...]
    cold_queries: int
    cold_runs: int


FULL = Mode("full", CORPORA, 5, 5, (10_000, 100_000, 1_000_000), 30, 3)
SHORT = Mode("short", CORPORA / "news2017", 1, 1, (2_000, 10_000), 5, 1)
HTTP_CONCURRENCY = (1, 8, 32)


@dataclasses.dataclass
class Measured:
    seconds: float
    peak_bytes: int
    stdout: str


class Tools:
    def __init__(self, args):
        self.geonews = str(Path(args.geonews).resolve())
        self.http_load = str(Path(args.http_load).resolve())
        self.baselines = str(Path(args.baselines).resolve())
        self.gen_corpus = str(Path(args.gen_corpus).resolve())
        self.gen_warc = str(Path(args.gen_warc).resolve())
        self.html_extraction = str(Path(args.html_extraction).resolve())

    def geonews_at(self, index, *args):
        return [self.geonews, "--index", str(index), *map(str, args)]


def measure(command, ok_codes=(0,)):
    """Runs `command`: wall seconds, peak resident memory (the child's ru_maxrss, the figure
    `/usr/bin/time -v` reports as "Maximum resident set size") and standard output."""
    command = [str(part) for part in command]
    with tempfile.TemporaryFile(mode="w+") as stdout, tempfile.TemporaryFile(mode="w+") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if child.returncode not in ok_codes:
            sys.exit(f"error: {' '.join(command)} exited with {child.returncode}:\n"
                     f"{stderr.read()[-2000:]}")
        return Measured(seconds, usage.ru_maxrss * 1024, stdout.read())


def run(command):
    return measure(command).stdout


def percentile(values, fraction):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def size_on_disk(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


# --- 1. indexing --------------------------------------------------------------------------------

def indexing(mode, tools, work):
    export = work / "export.jsonl"
    run([tools.baselines, "export", export, mode.corpus])
    engines = {
        "plain-tantivy": lambda: [tools.baselines, "plain-tantivy", work / "idx-plain",
                                  mode.corpus],
        "geonews": lambda: tools.geonews_at(work / "idx-geonews", "index", "--rebuild",
                                            mode.corpus),
        "sqlite-fts5": lambda: [sys.executable, FTS5, "load", work / "fts.db", export],
    }
    runs = {name: [] for name in engines}
    for _ in range(mode.index_runs):
        for name, command in engines.items():
            # geonews exits 3 when it skipped input records (the corpora hold two empty ones).
            runs[name].append(measure(command(), ok_codes=(0, 3)))
    # The plain indexer reads every record; geonews indexes a repeated key once, as does the
    # export FTS5 loads.
    plain = json.loads(runs["plain-tantivy"][0].stdout)
    loaded = json.loads(runs["sqlite-fts5"][0].stdout)
    counts = {"plain-tantivy": (plain["articles"], plain["bytes"]),
              "geonews": (loaded["articles"], loaded["bytes"]),
              "sqlite-fts5": (loaded["articles"], loaded["bytes"])}
    result = {"corpus": str(mode.corpus.relative_to(REPO.parent)), "records": plain["articles"],
              "articles": loaded["articles"], "text_bytes": loaded["bytes"],
              "runs": mode.index_runs, "engines": {}}
    for name, measured in runs.items():
        seconds = statistics.median(m.seconds for m in measured)
        articles, text_bytes = counts[name]
        result["engines"][name] = {
            "median_seconds": seconds,
            "all_seconds": [round(m.seconds, 3) for m in measured],
            "articles": articles,
            "mb_per_s": text_bytes / 1e6 / seconds,
            "articles_per_s": articles / seconds,
            "peak_bytes": statistics.median(m.peak_bytes for m in measured),
        }
    engines_result = result["engines"]
    geonews_seconds = engines_result["geonews"]["median_seconds"]
    result["ratio_vs_plain_tantivy"] = (
        engines_result["plain-tantivy"]["median_seconds"] / geonews_seconds)
    result["ratio_vs_sqlite_fts5"] = (
        engines_result["sqlite-fts5"]["median_seconds"] / geonews_seconds)
    return result


# --- 2. warm queries ----------------------------------------------------------------------------

def geonews_queries():
    return run([sys.executable, FTS5, "geonews-queries", QUERIES]).splitlines()


def warm_geonews(tools, index, queries, passes, work):
    """Latencies (µs) of `passes` passes over `queries` after one warm-up pass, in one process."""
    batch = work / "batch.txt"
    batch.write_text("\n".join(queries * (passes + 1)) + "\n")
    output = run(tools.geonews_at(index, "search", "--batch", batch, "-n", 10,
                                  "--facets", "country"))
    answers = [json.loads(line) for line in output.splitlines()]
    errors = [a for a in answers if "error" in a]
    if errors:
        sys.exit(f"error: geonews rejected benchmark queries: {errors[:3]}")
    return answers[:len(queries)], [a["latency_us"] for a in answers[len(queries):]]


def latency_summary(latencies_us):
    return {"p50_us": percentile(latencies_us, 0.50), "p95_us": percentile(latencies_us, 0.95),
            "mean_us": statistics.fmean(latencies_us), "measurements": len(latencies_us)}


def warm_queries(mode, tools, work):
    queries = geonews_queries()
    answers, latencies = warm_geonews(tools, work / "idx-geonews", queries, mode.query_passes,
                                      work)
    fts = json.loads(run([sys.executable, FTS5, "query", work / "fts.db", QUERIES,
                          "--passes", mode.query_passes, "--warmup", 1, "--multi-select"]))
    same_totals = sum(g["total"] == f["total"] for g, f in zip(answers, fts["per_query"]))
    geonews = latency_summary(latencies)
    return {
        "queries": len(queries),
        "passes": mode.query_passes,
        "same_totals": same_totals,
        "geonews": geonews,
        "sqlite-fts5": {"p50_us": fts["p50_us"], "p95_us": fts["p95_us"],
                        "mean_us": fts["mean_us"]},
        "p50_ratio_vs_sqlite_fts5": fts["p50_us"] / geonews["p50_us"],
        "p95_ratio_vs_sqlite_fts5": fts["p95_us"] / geonews["p95_us"],
    }


# --- 3 and 4. scale and cold CLI ----------------------------------------------------------------

def fts5_at(mode, tools, work, corpus):
    """SQLite FTS5 on the same generated articles: load time and warm query latency."""
    export = work / "gen-export.jsonl"
    run([tools.baselines, "export", export, corpus])
    database = work / "gen-fts.db"
    loaded = measure([sys.executable, FTS5, "load", database, export])
    export.unlink()
    queried = json.loads(run([sys.executable, FTS5, "query", database, QUERIES,
                              "--passes", mode.query_passes, "--warmup", 1,
                              "--multi-select"]))
    database.unlink()
    return {"index_seconds": loaded.seconds, "peak_bytes": loaded.peak_bytes,
            "warm_query": {key: queried[key] for key in ("p50_us", "p95_us", "mean_us")}}


def scale(mode, tools, work):
    queries = geonews_queries()
    points = []
    for articles in mode.scale_sizes:
        corpus = work / f"gen-{articles}.jsonl"
        generated = measure([tools.gen_corpus, "--articles", articles, "--seed", 42,
                             "--out", corpus])
        index = work / f"idx-gen-{articles}"
        indexed = measure(tools.geonews_at(index, "index", "--rebuild", corpus))
        _, latencies = warm_geonews(tools, index, queries, mode.query_passes, work)
        fts5 = fts5_at(mode, tools, work, corpus)
        corpus_bytes = corpus.stat().st_size
        corpus.unlink()  # a million articles take 1.4 GB
        warm = latency_summary(latencies)
        points.append({
            "articles": articles,
            "corpus_bytes": corpus_bytes,
            "generate_seconds": generated.seconds,
            "index_seconds": indexed.seconds,
            "articles_per_s": articles / indexed.seconds,
            "index_bytes": size_on_disk(index),
            "peak_bytes": indexed.peak_bytes,
            "warm_query": warm,
            "sqlite-fts5": fts5,
            "index_ratio_vs_sqlite_fts5": fts5["index_seconds"] / indexed.seconds,
            "p50_ratio_vs_sqlite_fts5": fts5["warm_query"]["p50_us"] / warm["p50_us"],
        })
    return points


# --- 5. HTTP -------------------------------------------------------------------------------------

def resident_bytes(pid, field="VmRSS"):
    """Resident memory of a process: all of it (VmRSS), or its heap and stacks (RssAnon),
    without the pages of index files it maps."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def http_load(mode, tools, work, index):
    """Throughput and latency of faceted searches over HTTP at each concurrency, next to the
    same queries in one process (`search --batch`), and the server's idle resident memory."""
    queries = geonews_queries()
    query_file = work / "http-queries.txt"
    query_file.write_text("\n".join(queries) + "\n")
    _, batch = warm_geonews(tools, index, queries, mode.query_passes, work)
    batch_summary = latency_summary(batch)
    batch_summary["p99_us"] = percentile(batch, 0.99)
    server = subprocess.Popen(tools.geonews_at(index, "serve", "--listen", "127.0.0.1:0",
                                               "--max-concurrent", 256),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        address = line.strip().rsplit("http://", 1)[-1].rstrip("/")
        if not address or server.poll() is not None:
            sys.exit(f"error: geonews serve did not start: {line}")
        time.sleep(2)
        idle = resident_bytes(server.pid)
        seconds = 10 if mode.name == "full" else 2
        loads = []
        for concurrency in HTTP_CONCURRENCY:
            loads.append(json.loads(run([tools.http_load, "--address", address,
                                         "--queries", query_file, "--concurrency", concurrency,
                                         "--seconds", seconds])))
        time.sleep(2)
        after_load = resident_bytes(server.pid)
        after_load_heap = resident_bytes(server.pid, "RssAnon")
    finally:
        server.terminate()
        server.wait()
    one = loads[0]
    return {
        "index": index.name,
        "articles": json.loads(run(tools.geonews_at(index, "stats", "-f", "json")))["articles"],
        "queries": len(queries),
        "seconds_per_concurrency": seconds,
        "in_process": batch_summary,
        "http": loads,
        "http_p50_over_in_process": one["p50_us"] / batch_summary["p50_us"],
        "idle_resident_bytes": idle,
        "after_load_resident_bytes": after_load,
        "after_load_heap_bytes": after_load_heap,
    }


# --- 6. saved searches --------------------------------------------------------------------------

WATCHES = 100


def watch_overhead(mode, tools, work):
    """Seconds of `index` and of `index --watch` with WATCHES saved searches, on the same new
    batch over copies of the corpora's index, alternating (median of the runs)."""
    batch_size = 10_000 if mode.name == "full" else 2_000
    runs = 3 if mode.name == "full" else 1
    batch = work / "watch-batch.jsonl"
    run([tools.gen_corpus, "--articles", batch_size, "--seed", 7, "--out", batch])
    base, watched = work / "idx-watch-base", work / "idx-watch-watched"
    shutil.copytree(work / "idx-geonews", base)
    for number, query in enumerate(geonews_queries()[:WATCHES]):
        run(tools.geonews_at(base, "watch", "add", f"w{number}", "--", query))
    plain_seconds, watched_seconds = [], []
    for _ in range(runs):
        for target, flags, seconds in ((work / "idx-watch-plain", [], plain_seconds),
                                       (watched, ["--watch"], watched_seconds)):
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(base, target)
            seconds.append(measure(tools.geonews_at(target, "index", *flags, batch)).seconds)
    plain, with_watches = statistics.median(plain_seconds), statistics.median(watched_seconds)
    return {"watches": WATCHES, "batch_articles": batch_size, "runs": runs,
            "index_seconds": plain, "index_watch_seconds": with_watches,
            "overhead": with_watches / plain - 1}


# --- 7. copies ----------------------------------------------------------------------------------

def schema_without_clusters(work):
    """A --schema folder whose fields.toml lacks the `cluster` field: no copies looked for."""
    folder = work / "schema-without-clusters"
    folder.mkdir(exist_ok=True)
    fields = (REPO / "schema" / "fields.toml").read_text()
    kept = re.split(r"\n(?=(?:#[^\n]*\n)*\[\[field\]\]\nname = \"cluster\")", fields)[0]
    (folder / "fields.toml").write_text(kept + "\n")
    return folder


def copies(mode, tools, work):
    without = schema_without_clusters(work)
    variants = {"with copies looked for": [], "without": ["--schema", without]}
    seconds = {name: [] for name in variants}
    for _ in range(mode.index_runs * 2 + 1):
        for number, (name, flags) in enumerate(variants.items()):
            index = work / f"idx-copies-{number}"
            shutil.rmtree(index, ignore_errors=True)
            command = [tools.geonews, *map(str, flags), "--index", str(index), "index",
                       mode.corpus]
            seconds[name].append(measure(command, ok_codes=(0, 3)).seconds)
    clusters = json.loads(run(tools.geonews_at(work / "idx-copies-0", "facets", "cluster",
                                               "-n", "1000000", "-f", "json")))
    multi = [value["count"] for value in clusters["values"] if value["count"] > 1]
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    return {"runs": len(seconds["without"]), "median_seconds": medians,
            "all_seconds": {name: [round(s, 3) for s in values]
                            for name, values in seconds.items()},
            "throughput_ratio": medians["without"] / medians["with copies looked for"],
            "articles": clusters["total"], "stories": clusters["distinct"],
            "stories_with_copies": len(multi), "articles_in_them": sum(multi)}


# --- 8. web archives ------------------------------------------------------------------------

def web_archive(mode, tools, work):
    megabytes = 1024 if mode.name == "full" else 64
    archive = work / "archive.warc.gz"
    run([tools.gen_warc, "--megabytes", megabytes, "--out", archive])
    index = work / "idx-warc"
    measured = measure(tools.geonews_at(index, "index", archive))
    articles = json.loads(run(tools.geonews_at(index, "stats", "-f", "json")))["articles"]
    return {"megabytes": megabytes, "compressed_bytes": archive.stat().st_size,
            "pages": articles, "seconds": measured.seconds,
            "pages_per_s": articles / measured.seconds,
            "mb_per_s": megabytes / measured.seconds, "peak_bytes": measured.peak_bytes}


# --- 9. main text of web pages ------------------------------------------------------------

def html_extraction(tools):
    return run([tools.html_extraction]).strip()


def drop_page_cache():
    """Empties the page cache (needs root); False when the machine does not allow it."""
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def cold_cli(mode, tools, index, drop_caches):
    queries = geonews_queries()
    step = max(1, len(queries) // mode.cold_queries)
    sample = queries[::step][:mode.cold_queries]

    def search(query):
        command = tools.geonews_at(index, "search", query)
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        return (time.perf_counter() - started) * 1000

    # Dropping the page cache empties it for everything on the machine: only when asked.
    dropped = drop_caches and drop_page_cache()
    first = search(sample[0])
    times = [search(query) for _ in range(mode.cold_runs) for query in sample]
    return {
        "index_articles": int(index.name.rsplit("-", 1)[-1]),
        "queries": len(sample),
        "runs": mode.cold_runs,
        "first_ms": first,
        "page_cache_dropped": dropped,
        "p50_ms": percentile(times, 0.50),
        "p95_ms": percentile(times, 0.95),
    }


# --- report -------------------------------------------------------------------------------------

def machine():
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
    lock = (REPO / "Cargo.lock").read_text()
    tantivy = re.search(r'name = "tantivy"\nversion = "([^"]+)"', lock)[1]
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory_kib / (1 << 20), 1),
            "kernel": platform.release(), "rustc": rustc, "tantivy": tantivy,
            "sqlite": sqlite3.sqlite_version, "python": platform.python_version()}


def verdict(holds):
    return "met" if holds else "NOT met"


def report(results):
    m, ix, q, sc, cold = (results[k] for k in ("machine", "indexing", "queries", "scale", "cold"))
    e = ix["engines"]
    largest = sc[-1]
    lines = [
        f"# geonews benchmarks ({results['mode']} run, {results['date']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; "
        f"{m['rustc']}, tantivy {m['tantivy']}, SQLite {m['sqlite']} (Python {m['python']}).",
        "",
        f"## Indexing `{ix['corpus']}`: {ix['articles']:,} articles ({ix['records']:,} records), "
        f"{ix['text_bytes'] / 1e6:.1f} MB of text (median of {ix['runs']})",
        "",
        "| engine | seconds | MB/s | articles/s | peak memory | runs (s) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name in ("geonews", "plain-tantivy", "sqlite-fts5"):
        r = e[name]
        lines.append(f"| {name} | {r['median_seconds']:.2f} | {r['mb_per_s']:.1f} | "
                     f"{r['articles_per_s']:,.0f} | {r['peak_bytes'] / (1 << 20):.0f} MiB | "
                     f"{', '.join(f'{s:.2f}' for s in r['all_seconds'])} |")
    lines += [
        "",
        f"geonews (with extraction) / plain tantivy throughput: **{ix['ratio_vs_plain_tantivy']:.2f}×**; "
        f"geonews / SQLite FTS5: **{ix['ratio_vs_sqlite_fts5']:.2f}×**.",
        "",
        f"## Warm queries in one process: {q['queries']} queries × {q['passes']} passes "
        f"(after one warm-up pass)",
        "",
        "Each query: total, top 10 ids, country counts. "
        f"Totals agree between the engines on {q['same_totals']} of {q['queries']} queries.",
        "",
        "| engine | p50 | p95 | mean |",
        "|---|---:|---:|---:|",
    ]
    for name in ("geonews", "sqlite-fts5"):
        r = q[name]
        lines.append(f"| {name} | {r['p50_us'] / 1000:.3f} ms | {r['p95_us'] / 1000:.3f} ms | "
                     f"{r['mean_us'] / 1000:.3f} ms |")
    lines += [
        "",
        f"SQLite FTS5 / geonews latency: p50 **{q['p50_ratio_vs_sqlite_fts5']:.1f}×**, "
        f"p95 {q['p95_ratio_vs_sqlite_fts5']:.1f}×.",
        "",
        "## Scale: generated articles (examples/gen_corpus, seed 42)",
        "",
        "geonews, and SQLite FTS5 loading and querying the same articles (FTS5 is given the "
        "countries geonews found).",
        "",
        "| articles | corpus | index time | articles/s | index on disk | peak memory | "
        "query p50 | query p95 | FTS5 load | FTS5 p50 | FTS5 p95 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in sc:
        fts = p["sqlite-fts5"]
        lines.append(
            f"| {p['articles']:,} | {p['corpus_bytes'] / 1e6:,.0f} MB | "
            f"{p['index_seconds']:.1f} s | {p['articles_per_s']:,.0f} | "
            f"{p['index_bytes'] / 1e6:,.0f} MB | {p['peak_bytes'] / (1 << 20):,.0f} MiB | "
            f"{p['warm_query']['p50_us'] / 1000:.3f} ms | {p['warm_query']['p95_us'] / 1000:.3f} ms | "
            f"{fts['index_seconds']:.1f} s | {fts['warm_query']['p50_us'] / 1000:.3f} ms | "
            f"{fts['warm_query']['p95_us'] / 1000:.3f} ms |")
    lines += [
        "",
        f"At {largest['articles']:,} articles geonews indexes "
        f"{largest['index_ratio_vs_sqlite_fts5']:.2f}× as fast as SQLite FTS5 and answers "
        f"{largest['p50_ratio_vs_sqlite_fts5']:.1f}× faster at p50.",
    ]
    first = (f"The first search after dropping the page cache: {cold['first_ms']:.0f} ms."
             if cold["page_cache_dropped"]
             else f"The first search (page cache not dropped: `--drop-caches`): "
                  f"{cold['first_ms']:.0f} ms.")
    lines += [
        "",
        f"## CLI: `geonews search QUERY` as a whole process, {cold['index_articles']:,} "
        f"articles",
        "",
        f"{cold['queries']} queries × {cold['runs']} runs, page cache warm: p50 "
        f"**{cold['p50_ms']:.1f} ms**, p95 {cold['p95_ms']:.1f} ms. {first}",
        "",
        "## Targets",
        "",
        f"- indexing ≥ 0.8× plain tantivy: {ix['ratio_vs_plain_tantivy']:.2f}× — "
        f"{verdict(ix['ratio_vs_plain_tantivy'] >= 0.8)}",
        f"- indexing ≥ 2× SQLite FTS5: {ix['ratio_vs_sqlite_fts5']:.2f}× — "
        f"{verdict(ix['ratio_vs_sqlite_fts5'] >= 2)}",
        f"- query p50 ≥ 10× faster than SQLite FTS5: {q['p50_ratio_vs_sqlite_fts5']:.1f}× — "
        f"{verdict(q['p50_ratio_vs_sqlite_fts5'] >= 10)}",
        f"- warm query p50 < 5 ms at {largest['articles']:,} articles: "
        f"{largest['warm_query']['p50_us'] / 1000:.3f} ms — "
        f"{verdict(largest['warm_query']['p50_us'] < 5000)}",
        f"- `geonews search` < 50 ms at {cold['index_articles']:,} articles: "
        f"{cold['p50_ms']:.1f} ms — {verdict(cold['p50_ms'] < 50)}",
        f"- peak memory indexing {largest['articles']:,} articles < 1.5 GiB: "
        f"{largest['peak_bytes'] / GIB:.2f} GiB — {verdict(largest['peak_bytes'] < 1.5 * GIB)}",
    ]
    lines += http_report(results["http"])
    watch = results["watch"]
    lines += ["", "## Saved searches", "",
              f"`index --watch` with {watch['watches']} saved searches over "
              f"{watch['batch_articles']:,} new articles: {watch['index_watch_seconds']:.2f} s, "
              f"against {watch['index_seconds']:.2f} s for `index` alone (median of "
              f"{watch['runs']}): +{watch['overhead'] * 100:.1f}% — target < 20%: "
              f"{verdict(watch['overhead'] < 0.2)}"]
    cp, archive = results["copies"], results["web_archive"]
    lines += ["", "## Copies of one story", "",
              f"`index` with near-duplicate clustering against the same binary without it "
              f"(median of {cp['runs']}, alternating): "
              f"{cp['median_seconds']['with copies looked for']:.2f} s against "
              f"{cp['median_seconds']['without']:.2f} s, throughput "
              f"**{cp['throughput_ratio']:.3f}×**. {cp['articles']:,} articles are "
              f"{cp['stories']:,} stories; {cp['stories_with_copies']:,} of them have copies "
              f"({cp['articles_in_them']:,} articles).",
              "", "## Web archives", "",
              f"A {archive['megabytes']:,} MB WARC ({archive['compressed_bytes'] / 1e6:,.0f} MB "
              f"gzipped, examples/gen_warc) of {archive['pages']:,} pages: "
              f"{archive['seconds']:.1f} s, {archive['pages_per_s']:,.0f} pages/s, "
              f"{archive['mb_per_s']:.1f} MB/s, peak memory "
              f"**{archive['peak_bytes'] / (1 << 20):,.0f} MiB** — target < 500 MB: "
              f"{verdict(archive['peak_bytes'] < 500e6)}",
              "", "## Main text of web pages (benches/html_extraction)", "", "```text",
              results["html"], "```"]
    if results["mode"] == "short":
        lines += ["", "Short mode: small corpora and one pass; the targets are for the full run."]
    return "\n".join(lines) + "\n"


def http_report(runs):
    lines = ["", "## HTTP (`geonews serve`)", ""]
    for run_ in runs:
        inner = run_["in_process"]
        lines += [
            f"{run_['articles']:,} articles ({run_['index']}), {run_['queries']} faceted searches "
            f"(country counts), {run_['seconds_per_concurrency']} s per concurrency; in one "
            f"process (`search --batch`): p50 {inner['p50_us'] / 1000:.3f} ms, "
            f"p99 {inner['p99_us'] / 1000:.3f} ms.",
            "",
            "| concurrency | requests/s | p50 | p99 | errors |",
            "|---|---|---|---|---|",
        ]
        for load in run_["http"]:
            lines.append(f"| {load['concurrency']} | {load['requests_per_s']:,.0f} | "
                         f"{load['p50_us'] / 1000:.3f} ms | {load['p99_us'] / 1000:.3f} ms | "
                         f"{load['errors']} |")
        lines += ["", f"HTTP p50 at concurrency 1 = {run_['http_p50_over_in_process']:.2f}× the "
                      f"in-process p50. Server resident memory: "
                      f"{run_['idle_resident_bytes'] / (1 << 20):.0f} MiB idle after start, "
                      f"{run_['after_load_resident_bytes'] / (1 << 20):.0f} MiB idle after the "
                      f"load (of which {run_['after_load_heap_bytes'] / (1 << 20):.0f} MiB heap; "
                      f"the rest is index pages mapped from the page cache).", ""]
    corpora, largest = runs[0], runs[-1]
    by_concurrency = {load["concurrency"]: load for load in corpora["http"]}
    at_8 = by_concurrency[8]
    largest_8 = {load["concurrency"]: load for load in largest["http"]}[8]
    lines += [
        "Targets (HTTP):",
        "",
        f"- p50 < 1 ms over HTTP at concurrency 1: {by_concurrency[1]['p50_us'] / 1000:.3f} ms — "
        f"{verdict(by_concurrency[1]['p50_us'] < 1000)}",
        f"- ≥ 2,000 searches/s at concurrency 8 with p99 < 20 ms on the corpora: "
        f"{at_8['requests_per_s']:,.0f}/s, p99 {at_8['p99_us'] / 1000:.1f} ms — "
        f"{verdict(at_8['requests_per_s'] >= 2000 and at_8['p99_us'] < 20_000)}",
        f"- ≥ 300 searches/s with p99 < 100 ms at {largest['articles']:,} articles: "
        f"{largest_8['requests_per_s']:,.0f}/s, p99 {largest_8['p99_us'] / 1000:.1f} ms — "
        f"{verdict(largest_8['requests_per_s'] >= 300 and largest_8['p99_us'] < 100_000)}",
        f"- idle resident memory < 300 MB at {largest['articles']:,} articles: "
        f"{largest['idle_resident_bytes'] / 1e6:.0f} MB — "
        f"{verdict(largest['idle_resident_bytes'] < 300e6)}",
    ]
    return lines


def plot(results, path):
    try:
        import matplotlib
    except ImportError:
        return "plot skipped: matplotlib is not installed (pip install matplotlib)"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = results["scale"]
    articles = [p["articles"] for p in points]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(articles, [p["index_seconds"] for p in points], "o-", label="geonews")
    left.plot(articles, [p["sqlite-fts5"]["index_seconds"] for p in points], "^:",
              label="SQLite FTS5")
    left.legend()
    left.set(xscale="log", yscale="log", xlabel="articles", ylabel="seconds",
             title="index time")
    right.plot(articles, [p["warm_query"]["p50_us"] / 1000 for p in points], "o-", label="geonews p50")
    right.plot(articles, [p["warm_query"]["p95_us"] / 1000 for p in points], "s--", label="geonews p95")
    right.plot(articles, [p["sqlite-fts5"]["warm_query"]["p50_us"] / 1000 for p in points],
               "^:", label="SQLite FTS5 p50")
    right.set(xscale="log", yscale="log", xlabel="articles", ylabel="milliseconds",
              title=f"warm query latency ({results['queries']['queries']} queries)")
    right.legend()
    for axis in (left, right):
        axis.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"geonews on {results['machine']['cores']} cores "
                    f"({results['mode']} run, {results['date']})")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return f"plot: {path}"


WORK_MARKER = ".geonews-bench-work"


def prepare_work(work):
    """An empty scratch folder; one that holds anything but an earlier run's work is refused."""
    if work.exists() and any(work.iterdir()) and not (work / WORK_MARKER).exists():
        sys.exit(f"error: {work} is not empty and was not made by bench/run.py: "
                 "choose another --work")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / WORK_MARKER).touch()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geonews", required=True)
    parser.add_argument("--baselines", required=True)
    parser.add_argument("--gen-corpus", required=True)
    parser.add_argument("--http-load", required=True)
    parser.add_argument("--gen-warc", required=True)
    parser.add_argument("--html-extraction", required=True)
    parser.add_argument("--short", action="store_true", help="small corpora, one pass (CI)")
    parser.add_argument("--drop-caches", action="store_true",
                        help="empty the machine's page cache (root only) before the first CLI "
                             "search, to time a search on a cold cache")
    parser.add_argument("--out", default=str(REPO / "target" / "bench"),
                        help="where report.md, results.json and scale.png go")
    parser.add_argument("--work", default=str(REPO / "target" / "bench-work"),
                        help="scratch space for corpora and indexes (several GB in a full run)")
    args = parser.parse_args()
    mode = SHORT if args.short else FULL
    tools = Tools(args)
    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    prepare_work(work)

    def step(name, function, *step_args):
        print(f"[{time.strftime('%H:%M:%S')}] {name}", file=sys.stderr, flush=True)
        return function(*step_args)

    results = {"mode": mode.name, "date": time.strftime("%Y-%m-%d"),
               "machine": machine()}
    results["indexing"] = step("indexing", indexing, mode, tools, work)
    results["queries"] = step("warm queries", warm_queries, mode, tools, work)
    results["scale"] = step("scale", scale, mode, tools, work)
    largest = work / f"idx-gen-{mode.scale_sizes[-1]}"
    results["cold"] = step("CLI", cold_cli, mode, tools, largest, args.drop_caches)
    results["http"] = [step("HTTP on the corpora", http_load, mode, tools, work,
                            work / "idx-geonews"),
                       step("HTTP on the largest index", http_load, mode, tools, work, largest)]
    results["watch"] = step("saved searches", watch_overhead, mode, tools, work)
    results["copies"] = step("copies", copies, mode, tools, work)
    results["web_archive"] = step("web archives", web_archive, mode, tools, work)
    results["html"] = step("main text of web pages", html_extraction, tools)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    text = report(results)
    (out / "report.md").write_text(text)
    print(text)
    print(plot(results, out / "scale.png"), file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
