#!/usr/bin/env python3
"""Rebuilds the labelled articles from ../shared plus the labels in data/annotations/.

The labels hold ids and labels only: the article text stays in ../shared (its licences allow
testing, not redistribution). This script reads every corpus the labels name with
`geonews extract --text` (so each article is read exactly as geonews indexes it, under the same
key), keeps the labelled ones, and writes JSON Lines that `geonews eval --gold FILE` scores:

    target/gold/topics-train.jsonl   topics-test.jsonl
    target/gold/people-orgs-train.jsonl   people-orgs-test.jsonl

Each line is an article (id, title, summary, body, published, url, source) with a `gold`
object: `countries` (ISO 3166-1 alpha-2) and `topics`, or `people` and `organizations`. An
organization is given by its first (full) name: `geonews eval` reads each gold label through
the dictionary's aliases, and one label per organization keeps the counts right. The test
splits are held out: tune nothing on them.

    python3 data/build_gold.py --geonews target/release/geonews [--shared ../shared] [--out target/gold]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LABELS = REPO / "data" / "annotations"


def read_labels(name):
    with open(LABELS / name, encoding="utf-8") as lines:
        return {label["id"]: label for label in map(json.loads, lines)}


def articles(geonews, corpus):
    """Every article of a corpus folder as geonews reads it, by key. geonews's warnings about
    records it skips go to standard error; any other failure stops the rebuild."""
    process = subprocess.Popen([geonews, "extract", "--text", str(corpus)],
                               stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        yield json.loads(line)
    # 3: some records were skipped (and reported); the labelled ones are checked below.
    if process.wait() not in (0, 3):
        sys.exit(f"error: geonews extract failed on {corpus} (exit {process.returncode})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geonews", required=True, help="the geonews binary")
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--out", default=str(REPO / "target" / "gold"))
    args = parser.parse_args()
    corpora = Path(args.shared) / "corpora"
    if not corpora.is_dir():
        sys.exit(f"error: {corpora} is absent: the labelled articles are read from it")
    topics = read_labels("topics.jsonl")
    people = read_labels("people-organizations.jsonl")
    sources = {label["source"] for label in topics.values()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {}

    def write(kind, split, article, gold):
        key = (kind, split)
        if key not in files:
            files[key] = open(out / f"{kind}-{split}.jsonl", "w", encoding="utf-8")
        record = {field: article.get(field) for field in
                  ("id", "title", "summary", "body", "published", "url", "source")}
        record["gold"] = gold
        files[key].write(json.dumps(record, ensure_ascii=False) + "\n")

    found = set()
    for source in sorted(sources):
        for article in articles(args.geonews, corpora / source):
            key = article["id"]
            if key in found:
                continue  # a corpus may hold the same article twice
            found.add(key)
            if key in topics:
                label = topics[key]
                write("topics", label["split"], article,
                      {"countries": label["countries"], "topics": label["topics"]})
            if key in people:
                label = people[key]
                write("people-orgs", label["split"], article,
                      {"people": label["people"],
                       "organizations": [names[0] for names in label["organizations"]]})
    for handle in files.values():
        handle.close()
    missing = (set(topics) | set(people)) - found
    if missing:
        sys.exit(f"error: {len(missing)} labelled articles not found in {corpora}, "
                 f"e.g. {sorted(missing)[:3]}")
    for (kind, split), handle in sorted(files.items()):
        print(f"{handle.name}")


if __name__ == "__main__":
    main()
