#!/usr/bin/env python3
"""SQLite FTS5 baseline for the geonews benchmarks.

Loads a geonews articles export (JSON Lines) into SQLite FTS5 and runs the queries of
bench/queries.tsv against it, doing per query the work `geonews search --batch` does: the
number of matching articles, the top ids by BM25 and the 10 most frequent countries among the
matches. Python 3.11 standard library only.

Fairness choices (we want FTS5 at its best):
- A plain FTS5 table over title, summary and body stores the text, as geonews stores it
  (no external content). Tokenizer `porter unicode61 remove_diacritics 2`: stemming and
  accent folding, like geonews's English analyzer (which has no stop words either).
- BM25 weights title 3, summary 1.5, body 1, as geonews's `search_boost`.
- The bulk load runs in one transaction with journaling and syncing off. Secondary indexes
  are built after the rows are in, the FTS5 index is merged into one b-tree ('optimize'),
  ANALYZE gathers planner statistics and the pages freed by the merge are given back to the
  file system; all of that counts in the load time.
- article_countries is clustered on (article, iso2) (WITHOUT ROWID), for counting the
  countries of a set of matches, and has an index on (iso2, article) for country filters.
  Each statement joins only the tables it needs, and lets SQLite pick the join order.
- Queries run on a read-only connection with memory mapping and a large page cache;
  the statements are prepared once per query shape (the sqlite3 module caches them).
- Without words, hits are listed newest first, as geonews does.
- Countries are counted over the matches of the query (its country filter included). geonews
  `search` counts a field the query filters on without that filter (multi-select);
  `--multi-select` does the same here.

FTS5's stemmer is the original Porter, geonews's the Snowball English one; a few words stem
differently (quarterly, virus, surplus, unemployed), and queries.tsv avoids them, so the totals
of the two engines agree. Ties in ranking and in country counts may be ordered differently.

Usage:
  bench/fts5.py load DB EXPORT.jsonl
  bench/fts5.py query DB bench/queries.tsv [--passes 3] [--warmup 1] [--limit 10]
  bench/fts5.py geonews-queries bench/queries.tsv   # one geonews query a line
Each of load and query prints one JSON object on stdout.
"""

import argparse
import dataclasses
import json
import math
import os
import re
import signal
import sqlite3
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone

BATCH = 5000
BM25 = "bm25(fts, 3.0, 1.5, 1.0)"
ARTICLES = ("articles a", "a.rowid")

# --- queries.tsv -----------------------------------------------------------------------------

# Columns words, country, from, to (tab-separated; missing trailing columns are empty).
# Lines starting with `#` and empty lines are skipped.
WORDS = re.compile(r'(?:[a-z]+|"[a-z]+(?: [a-z]+)+")(?: (?:[a-z]+|"[a-z]+(?: [a-z]+)+"))*')
COUNTRY = re.compile(r"[A-Z]{2}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclasses.dataclass(frozen=True)
class Query:
    terms: tuple[str, ...]  # in order: bare words, and at most one phrase (words with spaces)
    country: str | None
    start: date | None  # inclusive, whole UTC days
    end: date | None


def read_queries(path):
    queries = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            try:
                queries.append(parse_row(line))
            except ValueError as error:
                sys.exit(f"{path}:{number}: {error}: {line!r}")
    return queries


def parse_row(line):
    fields = line.split("\t")
    if len(fields) > 4:
        raise ValueError(f"{len(fields)} columns, expected words, country, from, to")
    words, country, start, end = fields + [""] * (4 - len(fields))
    if words and not WORDS.fullmatch(words):
        raise ValueError("words must be lowercase letters, single spaces, one quoted phrase")
    terms = tuple(re.findall(r'"([a-z ]+)"|([a-z]+)', words))
    terms = tuple(phrase or word for phrase, word in terms)
    if sum(" " in term for term in terms) > 1:
        raise ValueError("more than one phrase")
    if country and not COUNTRY.fullmatch(country):
        raise ValueError(f"country {country!r} is not an ISO alpha-2 code")
    days = []
    for day in (start, end):
        if day and not DAY.fullmatch(day):
            raise ValueError(f"{day!r} is not a YYYY-MM-DD date")
        days.append(date.fromisoformat(day) if day else None)
    if days[0] and days[1] and days[0] > days[1]:
        raise ValueError("from is after to")
    if not (terms or country or start or end):
        raise ValueError("empty query")
    return Query(terms, country or None, *days)


# --- the same query for both engines ---------------------------------------------------------


def geonews_query(q):
    """The query in geonews syntax: words, "a phrase", country:XX, date:FROM..TO (implicit AND)."""
    parts = [f'"{term}"' if " " in term else term for term in q.terms]
    if q.country:
        parts.append(f"country:{q.country}")
    if q.start or q.end:
        parts.append(f"date:{q.start or ''}..{q.end or ''}")
    return " ".join(parts)


def fts5_query(q):
    """The query for FTS5: the tables to join on the article (each with its article column) and
    the conditions on them, ANDed, with their parameters. Every word is quoted, so none is read
    as an FTS5 operator; the words and the phrase are ANDed and matched in all three columns."""
    tables, conditions, params = [], [], []
    if q.terms:
        tables.append(("fts", "fts.rowid"))
        conditions.append("fts MATCH ?")
        params.append(" ".join(f'"{term}"' for term in q.terms))
    if q.country:  # a join rather than `rowid IN (...)`: faster for common countries
        tables.append(("article_countries c", "c.article"))
        conditions.append("c.iso2 = ?")
        params.append(q.country)
    if q.start or q.end:  # an article without a date fails every comparison
        tables.append(ARTICLES)
    if q.start:
        conditions.append("a.published >= ?")
        params.append(unix(q.start))
    if q.end:
        conditions.append("a.published < ?")
        params.append(unix(q.end + timedelta(days=1)))
    return tables, conditions, params


def unix(day):
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


# --- load ------------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE articles(rowid INTEGER PRIMARY KEY, id TEXT, published INTEGER, source TEXT);
CREATE VIRTUAL TABLE fts USING fts5(title, summary, body,
    tokenize = 'porter unicode61 remove_diacritics 2');
CREATE TABLE article_countries(article INTEGER, iso2 TEXT, PRIMARY KEY (article, iso2))
    WITHOUT ROWID;
"""
INDEXES = [
    "CREATE INDEX article_countries_iso2 ON article_countries(iso2, article)",
    "CREATE INDEX articles_published ON articles(published)",
]


def load(db, export):
    if os.path.exists(db):
        os.remove(db)
    con = sqlite3.connect(db, isolation_level=None)  # transactions are explicit
    # Bulk-load settings: no rollback journal and no fsync (a crash leaves a broken file, which
    # a benchmark simply rebuilds), a 1 GiB page cache, temporary b-trees in memory; and
    # incremental auto-vacuum, to give back the pages the final FTS5 merge frees.
    con.executescript("""
        PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
        PRAGMA cache_size = -1048576; PRAGMA temp_store = MEMORY;
    """)
    con.executescript(SCHEMA)
    count = size = 0
    started = time.perf_counter()
    con.execute("BEGIN")
    with open(export, encoding="utf-8") as lines:
        rows, texts, countries = [], [], []
        for line in lines:
            if not line.strip():
                continue
            a = json.loads(line)
            count += 1
            text = (a.get("title") or "", a.get("summary") or "", a.get("body") or "")
            size += sum(len(t.encode("utf-8")) for t in text)
            rows.append((count, a["id"], published(a.get("published")), a.get("source")))
            texts.append((count, *text))
            countries += [(count, iso2) for iso2 in dict.fromkeys(a.get("countries") or ())]
            if len(rows) == BATCH:
                insert(con, rows, texts, countries)
                rows, texts, countries = [], [], []
        insert(con, rows, texts, countries)
    for index in INDEXES:  # not executescript, which would commit first
        con.execute(index)
    con.execute("INSERT INTO fts(fts) VALUES ('optimize')")  # one b-tree, the fastest to query
    con.execute("ANALYZE")
    con.execute("COMMIT")
    con.executescript("PRAGMA incremental_vacuum;")  # (execute() would free only one page)
    seconds = time.perf_counter() - started
    con.close()
    report({
        "engine": "sqlite-fts5",
        "sqlite_version": sqlite3.sqlite_version,
        "articles": count,
        "bytes": size,
        "seconds": round(seconds, 3),
        "articles_per_s": round(count / seconds, 1),
        "mb_per_s": round(size / 1e6 / seconds, 3),
        "db_bytes": os.path.getsize(db),
    })


def insert(con, rows, texts, countries):
    con.executemany("INSERT INTO articles VALUES (?, ?, ?, ?)", rows)
    con.executemany("INSERT INTO fts(rowid, title, summary, body) VALUES (?, ?, ?, ?)", texts)
    con.executemany("INSERT INTO article_countries VALUES (?, ?)", countries)


def published(value):
    """RFC 3339 timestamp (or date) to unix seconds; a time without offset is taken as UTC."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


# --- query -----------------------------------------------------------------------------------


def matching(q, articles=False):
    """FROM and WHERE of the articles matching q (joining `articles a` if asked), the column
    naming the article, and the parameters."""
    tables, conditions, params = fts5_query(q)
    if (articles or not tables) and ARTICLES not in tables:
        tables.append(ARTICLES)
    (first, key), *rest = tables
    source = first + "".join(f" JOIN {table} ON {column} = {key}" for table, column in rest)
    return source, " AND ".join(conditions) or "1", key, params


def statements(q, limit, multi_select):
    """The three statements of one query, with parameters: total, top ids, top 10 countries."""
    source, where, key, params = matching(q)
    total = (f"SELECT count(*) FROM {source} WHERE {where}", params)
    if q.terms:  # by relevance (ties: load order), the ids looked up for the best only
        top = (f"SELECT a.id FROM (SELECT {key} AS hit, {BM25} AS score FROM {source} "
               f"WHERE {where} ORDER BY score, hit LIMIT ?) JOIN articles a ON a.rowid = hit "
               "ORDER BY score, hit", [*params, limit])
    else:  # newest first, undated last, as geonews
        source, where, _, params = matching(q, articles=True)
        top = (f"SELECT a.id FROM {source} WHERE {where} "
               "ORDER BY a.published DESC, a.rowid LIMIT ?", [*params, limit])
    source, where, key, params = matching(dataclasses.replace(q, country=None)
                                          if multi_select else q)
    countries = (f"SELECT f.iso2, count(*) AS n FROM {source} "
                 f"JOIN article_countries f ON f.article = {key} WHERE {where} "
                 "GROUP BY f.iso2 ORDER BY n DESC, f.iso2 LIMIT 10", params)
    return total, top, countries


def run(con, stmts):
    (total_sql, total_params), (top_sql, top_params), (countries_sql, countries_params) = stmts
    total = con.execute(total_sql, total_params).fetchone()[0]
    ids = [row[0] for row in con.execute(top_sql, top_params)]
    countries = con.execute(countries_sql, countries_params).fetchall()
    return total, ids, countries


def query(db, tsv, passes, warmup, limit, multi_select):
    queries = read_queries(tsv)
    plans = [statements(q, limit, multi_select) for q in queries]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.executescript("PRAGMA mmap_size = 8589934592; PRAGMA cache_size = -1048576; "
                      "PRAGMA temp_store = MEMORY;")
    for _ in range(warmup):
        for stmts in plans:
            run(con, stmts)
    results = [None] * len(plans)
    times = [[] for _ in plans]  # microseconds, per query
    for _ in range(passes):
        for i, stmts in enumerate(plans):
            started = time.perf_counter_ns()
            results[i] = run(con, stmts)
            times[i].append((time.perf_counter_ns() - started) / 1000)
    con.close()
    every = sorted(t for spent in times for t in spent)
    report({
        "engine": "sqlite-fts5",
        "queries": len(queries),
        "passes": passes,
        "p50_us": percentile(every, 50),
        "p95_us": percentile(every, 95),
        "mean_us": round(statistics.fmean(every), 1),
        "per_query": [
            {"query": geonews_query(q), "total": total, "ids": ids,
             "countries": [[iso2, n] for iso2, n in countries],
             "median_us": round(statistics.median(spent), 1)}
            for q, (total, ids, countries), spent in zip(queries, results, times)
        ],
    })


def percentile(ordered, p):
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    return round(ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1], 1)


def report(obj):
    json.dump(obj, sys.stdout)
    sys.stdout.write("\n")


def positive(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("load", help="build a fresh FTS5 database from an articles export")
    p.add_argument("db")
    p.add_argument("export")
    p = commands.add_parser("query", help="time the queries of a queries.tsv")
    p.add_argument("db")
    p.add_argument("queries")
    p.add_argument("--passes", type=positive, default=3, help="measured passes (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured passes first (default 1)")
    p.add_argument("--limit", type=positive, default=10, help="top ids per query (default 10)")
    p.add_argument("--multi-select", action="store_true",
                   help="count countries without the query's country filter, as geonews does")
    p = commands.add_parser("geonews-queries", help="print each query in geonews syntax")
    p.add_argument("queries")
    args = parser.parse_args()
    if args.command == "load":
        load(args.db, args.export)
    elif args.command == "query":
        if not os.path.exists(args.db):
            sys.exit(f"{args.db}: no such database")
        query(args.db, args.queries, args.passes, args.warmup, args.limit, args.multi_select)
    else:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quietly stop when piped into head
        for q in read_queries(args.queries):
            print(geonews_query(q))


if __name__ == "__main__":
    main()
