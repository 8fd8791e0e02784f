#!/usr/bin/env python3
"""geonews on one Quickwit node against geonews's local index, in the same run, on generated
articles (examples/gen_corpus): indexing time, and query latency for bench/queries.tsv.

    bench/quickwit.py --quickwit /path/to/quickwit [--articles 1000000] [--out FILE]

Builds what it runs (cargo, release). Starts one Quickwit node on 127.0.0.1 with free ports and
its data under --work (telemetry off), and measures:

1. The local index: `geonews index` (reading, extraction, indexing).
2. geonews into Quickwit, end to end: `geonews --engine ... index` (reading, extraction,
   analysis, NDJSON over HTTP, Quickwit's commit).
3. Quickwit alone: the same documents, already extracted (`geonews export --format quickwit`
   from the local index), sent as NDJSON in batches of at most 9 MiB, one after another, then
   committed: Quickwit's own ingest. Target: 2. takes at most 1/0.8 the time of 3.
4. Query latency: `search --batch` on each engine (inside the process, HTTP included for
   Quickwit), and what geonews adds to a Quickwit search (examples/quickwit_overhead.rs:
   translation and response mapping against the round trip). Target: under 1 ms at p50.

Prints a Markdown report and writes the raw numbers as JSON beside --out.
"""

import argparse
import json
import math
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAX_REQUEST_BYTES = 9 * 1024 * 1024


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_node(quickwit, work):
    rest, grpc, gossip = free_port(), free_port(), free_port(socket.SOCK_DGRAM)
    data = work / "qwdata"
    data.mkdir(parents=True, exist_ok=True)
    config = work / "node.yaml"
    config.write_text(
        "version: 0.8\nnode_id: bench\nlisten_address: 127.0.0.1\n"
        f"rest:\n  listen_port: {rest}\ngrpc_listen_port: {grpc}\n"
        f"gossip_listen_port: {gossip}\ndata_dir: {data}\n")
    log = open(work / "node.log", "w")
    node = subprocess.Popen([quickwit, "run", "--config", config], stdout=log, stderr=log,
                            env={**os.environ, "QW_DISABLE_TELEMETRY": "1"})
    base = f"http://127.0.0.1:{rest}"
    for _ in range(600):
        if node.poll() is not None:
            sys.exit(f"error: quickwit exited with {node.returncode}: see {work / 'node.log'}")
        try:
            with urllib.request.urlopen(f"{base}/health/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return node, base
        except OSError:
            pass
        time.sleep(0.2)
    node.kill()
    sys.exit("error: quickwit was not ready within 120 s")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid):
    """CPU seconds a running process has used (user and system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Cpu:
    """CPU seconds geonews (the commands run) and the Quickwit node use during a phase."""

    def __init__(self, node):
        self.node = node

    def __enter__(self):
        self.start = (children_cpu(), process_cpu(self.node.pid))
        return self

    def __exit__(self, *_):
        self.geonews = children_cpu() - self.start[0]
        self.quickwit = process_cpu(self.node.pid) - self.start[1]


def run(command, ok=(0,)):
    started = time.perf_counter()
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in ok:
        sys.exit(f"error: {' '.join(map(str, command))} exited with {done.returncode}:\n"
                 f"{done.stderr[-2000:]}")
    return seconds, done.stdout


def post(url, body, content_type):
    """POSTs, waiting and trying again while Quickwit asks to slow down (429, 503), as
    geonews does."""
    backoff = 0.2
    while True:
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=600) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            if error.code not in (429, 503):
                raise
            time.sleep(backoff)
            backoff = min(backoff * 2, 5.0)


def raw_ingest(base, index, ndjson):
    """Quickwit's own ingest: the file in batches of at most 9 MiB, the last one committing."""
    batches, batch = [], bytearray()
    with open(ndjson, "rb") as lines:
        for line in lines:
            if batch and len(batch) + len(line) > MAX_REQUEST_BYTES:
                batches.append(bytes(batch))
                batch = bytearray()
            batch += line
    if batch:
        batches.append(bytes(batch))
    started = time.perf_counter()
    for number, body in enumerate(batches):
        commit = "wait_for" if number == len(batches) - 1 else "auto"
        answer = post(f"{base}/api/v1/{index}/ingest?commit={commit}", body,
                      "application/x-ndjson")
        if answer.get("num_rejected_docs"):
            sys.exit(f"error: Quickwit rejected documents: {answer}")
    return time.perf_counter() - started


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def batch_latencies(geonews, engine_args, queries_file, passes):
    text = Path(queries_file).read_text().splitlines()
    repeated = Path(str(queries_file) + ".repeated")
    repeated.write_text("\n".join(text * (passes + 1)) + "\n")
    _, output = run([geonews, *engine_args, "search", "--batch", repeated, "-n", 10,
                     "--facets", "country"])
    answers = [json.loads(line) for line in output.splitlines()]
    failed = [answer for answer in answers if "error" in answer]
    if failed:
        sys.exit(f"error: queries failed: {failed[:3]}")
    latencies = [answer["latency_us"] for answer in answers[len(text):]]
    totals = [answer["total"] for answer in answers[:len(text)]]
    return {"p50_us": percentile(latencies, 0.5), "p95_us": percentile(latencies, 0.95),
            "measurements": len(latencies)}, totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quickwit", required=True, help="the quickwit binary")
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--work", type=Path, default=REPO / "target" / "bench-quickwit")
    parser.add_argument("--out", type=Path, default=REPO / "target" / "bench-quickwit.md")
    args = parser.parse_args()
    if not (REPO.parent / "shared" / "corpora").is_dir():
        print("skipped: ../shared/corpora is absent (the generator reads it)")
        return
    run(["cargo", "build", "--release", "--locked", "--bin", "geonews", "--example",
         "gen_corpus", "--example", "quickwit_overhead"])
    release = REPO / "target" / "release"
    geonews, work = release / "geonews", args.work
    subprocess.run(["rm", "-rf", work], check=True)
    work.mkdir(parents=True)
    corpus = work / "articles.jsonl"
    run([release / "examples" / "gen_corpus", "--articles", args.articles, "--out", corpus])
    queries = work / "queries.txt"
    queries.write_text(run([sys.executable, REPO / "bench" / "fts5.py", "geonews-queries",
                            REPO / "bench" / "queries.tsv"])[1])
    node, base = start_node(args.quickwit, work)
    host = base.removeprefix("http://")
    try:
        local = ["--index", work / "local"]
        local_seconds, _ = run([geonews, *local, "index", corpus], ok=(0, 3))
        end_to_end = f"quickwit+http://{host}/geonews"
        run([geonews, "--index", work / "watches", "--engine", end_to_end, "quickwit", "init"])
        with Cpu(node) as end_to_end_cpu:
            geonews_seconds, _ = run([geonews, "--index", work / "watches", "--engine",
                                      end_to_end, "index", corpus], ok=(0, 3))
        ndjson = work / "documents.ndjson"
        with open(ndjson, "w") as out:
            done = subprocess.run([geonews, *local, "export", "--format", "quickwit"],
                                  stdout=out)
        if done.returncode != 0:
            sys.exit("error: geonews export --format quickwit failed")
        raw = f"quickwit+http://{host}/raw"
        run([geonews, "--index", work / "watches", "--engine", raw, "quickwit", "init"])
        with Cpu(node) as raw_cpu:
            raw_seconds = raw_ingest(base, "raw", ndjson)
        local_latency, local_totals = batch_latencies(geonews, local, queries, args.passes)
        remote_latency, remote_totals = batch_latencies(
            geonews, ["--index", work / "watches", "--engine", end_to_end], queries,
            args.passes)
        _, overhead = run([release / "examples" / "quickwit_overhead", "--engine", end_to_end,
                           "--queries", queries, "--passes", args.passes])
        overhead = json.loads(overhead)
    finally:
        node.terminate()
        node.wait()
    results = {
        "articles": args.articles,
        "ndjson_bytes": ndjson.stat().st_size,
        "local_index_seconds": local_seconds,
        "geonews_into_quickwit_seconds": geonews_seconds,
        "quickwit_own_ingest_seconds": raw_seconds,
        "end_to_end_over_own_ingest_throughput": raw_seconds / geonews_seconds,
        "cpu_seconds": {
            "end_to_end_geonews": end_to_end_cpu.geonews,
            "end_to_end_quickwit": end_to_end_cpu.quickwit,
            "own_ingest_quickwit": raw_cpu.quickwit,
        },
        "local_queries": local_latency,
        "quickwit_queries": remote_latency,
        "same_totals": local_totals == remote_totals,
        "overhead": overhead,
    }
    report = render(results)
    print(report)
    args.out.write_text(report)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")


def render(r):
    mib = r["ndjson_bytes"] / (1 << 20)
    cpu = r["cpu_seconds"]
    per_article = 1e6 / r["articles"]
    overhead = r["overhead"]
    lines = [
        f"### {r['articles']:,} generated articles, one Quickwit node",
        "",
        "| | seconds | articles/s |",
        "|---|---:|---:|",
    ]
    for label, key in [("local index (`geonews index`)", "local_index_seconds"),
                       ("geonews into Quickwit, end to end", "geonews_into_quickwit_seconds"),
                       (f"Quickwit's own ingest of the extracted NDJSON ({mib:,.0f} MiB)",
                        "quickwit_own_ingest_seconds")]:
        lines.append(f"| {label} | {r[key]:.1f} | {r['articles'] / r[key]:,.0f} |")
    lines += [
        "",
        f"End to end, geonews ingests at **{r['end_to_end_over_own_ingest_throughput']:.2f}×** "
        "the throughput of Quickwit's own ingest of the same documents (target ≥ 0.8×).",
        "",
        "CPU time per article (both processes share this machine's 2 cores):",
        "",
        "| | µs of CPU per article |",
        "|---|---:|",
        f"| geonews, end to end (reading, extraction, analysis, JSON, HTTP) "
        f"| {cpu['end_to_end_geonews'] * per_article:.0f} |",
        f"| Quickwit, taking geonews's documents | {cpu['end_to_end_quickwit'] * per_article:.0f} |",
        f"| Quickwit, taking the same documents from the NDJSON file "
        f"| {cpu['own_ingest_quickwit'] * per_article:.0f} |",
        "",
        "| queries (230, top 10 + country counts) | p50 | p95 |",
        "|---|---:|---:|",
        f"| local index, in process | {r['local_queries']['p50_us'] / 1000:.2f} ms "
        f"| {r['local_queries']['p95_us'] / 1000:.2f} ms |",
        f"| Quickwit, through geonews (HTTP included) | "
        f"{r['quickwit_queries']['p50_us'] / 1000:.2f} ms "
        f"| {r['quickwit_queries']['p95_us'] / 1000:.2f} ms |",
        f"| geonews's translation and response mapping alone | "
        f"{overhead['geonews_translation_and_mapping']['p50_us'] / 1000:.3f} ms "
        f"| {overhead['geonews_translation_and_mapping']['p95_us'] / 1000:.3f} ms |",
        f"| the round trip to Quickwit for the same requests | "
        f"{overhead['quickwit_round_trip']['p50_us'] / 1000:.2f} ms "
        f"| {overhead['quickwit_round_trip']['p95_us'] / 1000:.2f} ms |",
        "",
        f"Same totals on both engines for every query: {'yes' if r['same_totals'] else 'NO'}. "
        f"geonews adds {overhead['geonews_p50_over_quickwit_p50']:.3f}× the round trip at p50 "
        "(target: under 1 ms).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
