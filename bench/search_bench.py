#!/usr/bin/env python
"""Search benchmark: the portal's indexer and GET /api/v1/search vs bare Whoosh and SQLite FTS5.

One run, on one fresh instance folder (see BENCHMARKS.md "Search"):

1. `portal init`; a deterministic corpus (bench/search_corpus.py: N items, ~10 % document
   revisions, ~90 % records, 1–3 KB of Chinese text each, vocabulary from the seeds, the
   demo documents and the shipped forms) inserted with the portal's real models by bulk
   INSERTs (a set-up shortcut: the workflow is not under test), with one search-outbox
   row per item; `portal create-user` / `create-token` for a controller and a staff user.
2. portal indexer (own process): `portal.search.indexer.drain_outbox()` over the N outbox
   rows (and, with --reindex, `portal.search.indexer.reindex()` too), timed whole.
3. bare writer (own process): the same field dicts, built untimed with the portal's
   builders, written to a fresh index with the portal's schema/analyzer by one plain
   `ix.writer(limitmb=256)` (add_document, one commit); only the Whoosh calls are timed.
4. SQLite FTS5 (own process): the same ref/title/body texts in an FTS5 table with the
   trigram tokenizer.
5. `portal serve` (PORTAL_SEARCH_INLINE=0) on 127.0.0.1; Q queries × R repetitions
   through GET /api/v1/search over one keep-alive connection (after 2 warm-up passes).
6. in-process (own process, server stopped): the same queries through
   `portal.search.query.search()`, through a bare Whoosh searcher on the same live
   index (the portal's parse_query, the same non-permission filter, limit 20, no facets,
   no sorting facet, no snippets), a step-by-step breakdown of what search() adds, the
   snippet() time for the top 10, and the same queries on FTS5 (MATCH, or LIKE where a
   word is shorter than the trigram tokenizer's 3 characters).

Usage (from the repository root):

    /work/venv/bin/python bench/search_bench.py --items 2000
    nohup /work/venv/bin/python bench/search_bench.py --items 100000 --json bench/out/search-100k.json \
        > bench/out/search-100k.log 2>&1 &

Every subprocess has a time limit; the server is stopped by its own process group.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
PASSWORD = "Bench-search-2026!"

# (label, params). {rec1} {rec2} {doc1} are filled from the corpus after loading.
QUERIES = [
    ("投诉", {"q": "投诉"}),
    ("纠正措施", {"q": "纠正措施"}),
    ('"管理评审"', {"q": '"管理评审"'}),
    ("售后 服务", {"q": "售后 服务"}),
    ("QR-SH009", {"q": "QR-SH009"}),
    ("record number 1", {"q": "{rec1}"}),
    ("record number 2", {"q": "{rec2}"}),
    ("QP0501", {"q": "QP0501"}),
    ("document code", {"q": "{doc1}"}),
    ("ISO 9001", {"q": "ISO 9001"}),
    ("customer complaint", {"q": "customer complaint"}),
    ("corrective action", {"q": "corrective action"}),
    ("warranty", {"q": "warranty"}),
    ("calibration equipment", {"q": "calibration equipment"}),
    ("投诉 OR 退货", {"q": "投诉 OR 退货"}),
    ("售后 NOT 保修", {"q": "售后 NOT 保修"}),
    ("纠正措施 kind=record", {"q": "纠正措施", "kind": "record"}),
    ("管理评审 state=any", {"q": "管理评审", "state": "any"}),
    ("文件 kind=document", {"q": "文件", "kind": "document"}),
    ("顾客满意度", {"q": "顾客满意度"}),
    ("不合格品 评审", {"q": "不合格品 评审"}),
    ("内审", {"q": "内审"}),
    ("培训计划", {"q": "培训计划"}),
    ("设备维修保养", {"q": "设备维修保养"}),
    ("质量手册", {"q": "质量手册"}),
    ('"文件和资料控制程序"', {"q": '"文件和资料控制程序"'}),
    ("审 (one char)", {"q": "审"}),
    ("的 (stop-word-like)", {"q": "的"}),
    ("SH009", {"q": "SH009"}),
    ("(投诉 OR 抱怨) 处理", {"q": "(投诉 OR 抱怨) 处理"}),
    ("配件 更换 维修", {"q": "配件 更换 维修"}),
    ("福州", {"q": "福州"}),
    ("售后 department=SH", {"q": "售后", "department": "SH"}),
    ("维修 form=qr-sh008", {"q": "维修", "form": "qr-sh008"}),
    ("客户 + date range", {"q": "客户", "date_from": "2026-01-01", "date_to": "2026-03-31"}),
    ("存根", {"q": "存根"}),
    ("zzqx (no hit)", {"q": "zzqx"}),
    ("标识 可追溯性", {"q": "标识 可追溯性"}),
]


# --------------------------------------------------------------------------- helpers
def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def maxrss_mb() -> float:
    """Peak RSS of this process (includes pages of mmap'ed index files it touched)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values, p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50": round(statistics.median(ms), 2), "p95": round(pct(ms, 95), 2),
            "max": round(max(ms), 2), "mean": round(statistics.fmean(ms), 2)}


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def portal_bin() -> str:
    here = Path(sys.executable).parent / "portal"
    return str(here) if here.exists() else (shutil.which("portal") or "portal")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def run(cmd, env, timeout, capture=True) -> str:
    res = subprocess.run(cmd, env=env, timeout=timeout, capture_output=capture, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res.stdout


def phase(name: str, args: list[str], env, timeout) -> dict:
    """Run one phase of this script in its own process; its last stdout line is JSON."""
    return phases({name: args}, env, timeout)[name]


def phases(specs: dict, env, timeout) -> dict:
    """Run phases side by side (each its own process); {name: its JSON result}."""
    procs, results = {}, {}
    t0 = time.monotonic()
    LOAD.mark(" + ".join(specs))
    for name, args in specs.items():
        log(f"phase {name} …")
        procs[name] = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_" + name, *args],
                                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=max(1.0, timeout - (time.monotonic() - t0)))
            if proc.returncode != 0:
                raise RuntimeError(f"phase {name} failed ({proc.returncode}):\n{out}\n{err}")
            results[name] = json.loads(out.strip().splitlines()[-1])
            results[name]["loadavg_during"] = LOAD.mean_since_mark()
            log(f"phase {name} done in {time.monotonic() - t0:.1f} s (machine load avg "
                f"{results[name]['loadavg_during']})")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    return results


class LoadSampler:
    """The machine's 1-minute load average every 5 s (the machine is shared)."""

    def __init__(self):
        self.samples: list[tuple[float, float]] = []
        self.start = time.monotonic()
        self._mark = self.start
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                self.samples.append((time.monotonic(), float(Path("/proc/loadavg").read_text().split()[0])))
            except OSError:
                pass
            time.sleep(5)

    def mark(self, _label=""):
        self._mark = time.monotonic()

    def mean_since_mark(self):
        vals = [v for t, v in self.samples if t >= self._mark]
        return round(statistics.fmean(vals), 2) if vals else None


LOAD = None


def make_app():
    from portal import create_app

    return create_app()


def fill(params: dict, sample: dict) -> dict:
    return {k: v.format(**sample) if k == "q" else v for k, v in params.items()}


# --------------------------------------------------------------------------- phases
def phase_load(ns) -> dict:
    sys.path.insert(0, str(HERE))
    import search_corpus
    from sqlalchemy import func, select

    from portal.accounts.models import Department, User
    from portal.database import write_intent
    from portal.documents.models import Document, Revision
    from portal.extensions import db
    from portal.records.models import Record

    t0 = time.monotonic()
    corpus = search_corpus.generate(ns.items, seed=ns.seed)
    gen_s = time.monotonic() - t0
    app = make_app()
    with app.app_context():
        write_intent.set(True)
        first = {}
        for name, model in (("department", Department), ("user", User), ("document", Document),
                            ("revision", Revision), ("record", Record)):
            first[name] = (db.session.scalar(select(func.max(model.id))) or 0) + 1
        db.session.rollback()
        if first != {k: 1 for k in first}:  # `portal init` created rows: shift the ids
            corpus = search_corpus.generate(ns.items, seed=ns.seed, first_ids=first)
        t1 = time.monotonic()
        counts = search_corpus.load(db.session, corpus)
        load_s = time.monotonic() - t1
    recs = corpus["record"]
    by_form = {}
    for rc in recs:
        by_form.setdefault(rc["form_id"], rc["number"])
    code_of = {d["id"]: d["code"] for d in corpus["document"]}
    sample = {
        "rec1": next((n for f, n in by_form.items() if code_of[f] == "QR-SH012"), recs[0]["number"]),
        "rec2": next((n for f, n in by_form.items() if code_of[f].startswith("SH/QT-2020-01")), recs[-1]["number"]),
        "doc1": next(d["code"] for d in corpus["document"] if d["code"].startswith("WI-")),
    }
    body_bytes = [len(r["text"].encode()) for r in corpus["revision"]]
    return {"counts": counts, "generate_s": round(gen_s, 1), "insert_s": round(load_s, 1),
            "items": counts["revision"] + counts["record"], "sample": sample,
            "revision_text_bytes": {"min": min(body_bytes), "median": statistics.median(body_bytes),
                                    "max": max(body_bytes)}}


def phase_index_portal(ns) -> dict:
    from portal.search import index as sindex
    from portal.search import indexer

    app = make_app()
    out = {}
    with app.app_context():
        sindex.open_index()  # create the empty live index outside the timing
        t0, c0 = time.monotonic(), time.process_time()
        done = indexer.drain_outbox()
        secs, cpu = time.monotonic() - t0, time.process_time() - c0
        folder = Path(sindex.open_index().storage.folder)
        with sindex.open_index().searcher() as s:
            count = s.doc_count()
        out["drain"] = {"rows_done": done, "doc_count": count, "seconds": round(secs, 2),
                        "cpu_seconds": round(cpu, 2), "rate": round(done / secs, 1),
                        "index_bytes": du(folder), "segments": len(sindex.open_index()._segments()),
                        "maxrss_mb": round(maxrss_mb(), 1)}
        if ns.reindex:
            # reindex() replays outbox rows done in the last CATCH_UP_MARGIN (5 min) into the
            # new folder; right after the drain that would be (nearly) every row, which a
            # reindex on a settled system does not do. Backdate them so only _build is timed.
            from datetime import timedelta

            from sqlalchemy import update

            from portal import clock
            from portal.database import write_intent
            from portal.extensions import db
            from portal.search.models import SearchOutbox

            token = write_intent.set(True)
            db.session.execute(update(SearchOutbox).values(done_at=clock.now() - timedelta(days=1)))
            db.session.commit()
            write_intent.reset(token)
            t0, c0 = time.monotonic(), time.process_time()
            n = indexer.reindex()
            secs, cpu = time.monotonic() - t0, time.process_time() - c0
            folder = Path(sindex.open_index().storage.folder)
            out["reindex"] = {"items": n, "seconds": round(secs, 2), "cpu_seconds": round(cpu, 2),
                              "rate": round(n / secs, 1), "index_bytes": du(folder),
                              "maxrss_mb": round(maxrss_mb(), 1)}
        out["health"] = {k: v for k, v in indexer.health().items()}
        out["live_folder"] = str(Path(sindex.open_index().storage.folder))
    return out


def phase_index_bare(ns) -> dict:
    """Build the field dicts with the portal's builders (untimed); time only Whoosh writing."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from whoosh import index as windex

    from portal.extensions import db
    from portal.search.builders import BUILDERS
    from portal.search.schema import build_schema

    folder = Path(ns.out)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ix = windex.create_in(str(folder), build_schema())
    app = make_app()
    write_s = build_s = 0.0
    write_cpu = 0.0
    n = 0
    fts = open(ns.fts_jsonl, "w", encoding="utf-8")
    with app.app_context(), Session(db.engine) as s:
        t = time.monotonic()
        c = time.process_time()
        w = ix.writer(limitmb=256, procs=ns.procs, **({"multisegment": True} if ns.procs > 1 else {}))
        write_s += time.monotonic() - t
        write_cpu += time.process_time() - c
        for model, _, build, options in BUILDERS.values():
            ids = list(s.execute(select(model.id).order_by(model.id)).scalars())
            for start in range(0, len(ids), 500):
                t = time.monotonic()
                chunk = [build(o) for o in s.execute(
                    select(model).where(model.id.in_(ids[start:start + 500])).options(*options())).scalars()]
                s.expunge_all()
                build_s += time.monotonic() - t
                for d in chunk:
                    fts.write(json.dumps({k: d.get(k) for k in ("key", "kind", "state", "department", "form",
                                                                  "ref", "title", "body")}
                                         | {"date": d["date"].date().isoformat() if d.get("date") else None},
                                         ensure_ascii=False) + "\n")
                t = time.monotonic()
                c = time.process_time()
                for d in chunk:
                    w.add_document(**d)
                write_s += time.monotonic() - t
                write_cpu += time.process_time() - c
                n += len(chunk)
        t = time.monotonic()
        c = time.process_time()
        w.commit()
        write_s += time.monotonic() - t
        write_cpu += time.process_time() - c
    fts.close()
    with ix.searcher() as srch:
        count = srch.doc_count()
    return {"items": n, "doc_count": count, "build_dicts_s": round(build_s, 2),
            "write_s": round(write_s, 2), "write_cpu_s": round(write_cpu, 2),
            "rate": round(n / write_s, 1), "procs": ns.procs, "index_bytes": du(folder),
            "maxrss_mb": round(maxrss_mb(), 1)}


FTS_COLUMNS = ("ref", "title", "body")


def phase_fts_build(ns) -> dict:
    path = Path(ns.db)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE VIRTUAL TABLE fts USING fts5(ref, title, body, key UNINDEXED, kind UNINDEXED, "
                "state UNINDEXED, department UNINDEXED, form UNINDEXED, date UNINDEXED, tokenize='trigram')")
    con.execute("INSERT INTO fts(fts, rank) VALUES('rank', 'bm25(3.0, 2.0, 1.0)')")  # the portal's boosts
    t0 = time.monotonic()
    n = 0
    with open(ns.fts_jsonl, encoding="utf-8") as f:
        batch = []
        for line in f:
            d = json.loads(line)
            batch.append(tuple(d.get(k) or "" for k in ("ref", "title", "body", "key", "kind", "state",
                                                        "department", "form", "date")))
            if len(batch) == 1000:
                con.executemany("INSERT INTO fts VALUES (?,?,?,?,?,?,?,?,?)", batch)
                n += len(batch)
                batch = []
        if batch:
            con.executemany("INSERT INTO fts VALUES (?,?,?,?,?,?,?,?,?)", batch)
            n += len(batch)
    con.commit()
    secs = time.monotonic() - t0
    con.close()
    return {"items": n, "seconds": round(secs, 2), "rate": round(n / secs, 1),
            "db_bytes": path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + "-*")),
            "maxrss_mb": round(maxrss_mb(), 1), "sqlite_version": sqlite3.sqlite_version}


# ---- FTS5 translation of the portal's query language --------------------------------
def fts_translate(params: dict):
    """(sql, args, how) for FTS5: MATCH when every word has ≥ 3 characters, else LIKE."""
    from portal.search.analyzer import check_text, lex

    tokens = lex(check_text(params.get("q", "")))
    units = [t for k, t in tokens if k in ("word", "quote")]
    matchable = all(len(u.strip()) >= 3 for u in units) and units
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else (None, None)

    # Recursive descent over the same grammar as portal.search.analyzer._Parser.
    def p_or():
        parts = [p_and()]
        while peek() == ("op", "OR"):
            pos[0] += 1
            parts.append(p_and())
        parts = [p for p in parts if p]
        return parts[0] if len(parts) == 1 else ("or", parts) if parts else None

    def p_and():
        parts = []
        while True:
            k, t = peek()
            if k is None or k == ")" or (k == "op" and t == "OR"):
                break
            if k == "op" and t == "AND":
                pos[0] += 1
                continue
            parts.append(p_unary())
        parts = [p for p in parts if p]
        return parts[0] if len(parts) == 1 else ("and", parts) if parts else None

    def p_unary():
        k, t = peek()
        pos[0] += 1
        if k == "op" and t == "NOT":
            inner = p_unary()
            return ("not", inner) if inner else None
        if k == "(":
            node = p_or()
            if peek()[0] == ")":
                pos[0] += 1
            return node
        return ("unit", t.strip()) if k in ("word", "quote") and t.strip() else None

    tree = p_or()

    def match_expr(node) -> str:
        kind = node[0]
        if kind == "unit":
            return '"' + node[1].replace('"', '""') + '"'
        if kind == "not":  # FTS5 NOT is binary; only used as "a NOT b" below
            raise ValueError("unary NOT")
        parts = node[1]
        if kind == "and":
            pos_parts = [match_expr(p) for p in parts if p[0] != "not"]
            neg = [match_expr(p[1]) for p in parts if p[0] == "not"]
            expr = "(" + " AND ".join(pos_parts) + ")"
            for n in neg:
                expr = f"({expr} NOT {n})"
            return expr
        return "(" + " OR ".join(match_expr(p) for p in parts) + ")"

    args: list = []

    def sql_expr(node) -> str:
        kind = node[0]
        if kind == "unit":
            text = node[1]
            if len(text) >= 3:
                args.append('"' + text.replace('"', '""') + '"')
                return "rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?)"
            args.extend(["%" + text + "%"] * 3)
            return "(ref LIKE ? OR title LIKE ? OR body LIKE ?)"
        if kind == "not":
            return "NOT " + sql_expr(node[1])
        joiner = " AND " if kind == "and" else " OR "
        return "(" + joiner.join(sql_expr(p) for p in node[1]) + ")"

    where, wargs = [], []
    kind = params.get("kind")
    if kind:
        where.append("kind = ?")
        wargs.append(kind)
    if params.get("department"):
        where.append("department = ?")
        wargs.append(params["department"])
    if params.get("form"):
        where.append("form = ?")
        wargs.append(params["form"])
    if params.get("date_from"):
        where.append("date >= ?")
        wargs.append(params["date_from"])
    if params.get("date_to"):
        where.append("date <= ?")
        wargs.append(params["date_to"])
    if params.get("state") != "any":
        where.append("((kind = 'document' AND state = 'effective') OR (kind <> 'document' AND state <> 'disposed'))")
    if tree is None:
        return None
    if matchable:
        try:
            expr = match_expr(tree)
            sql = ("SELECT key, ref FROM fts WHERE fts MATCH ?" + "".join(" AND " + w for w in where)
                   + " ORDER BY rank LIMIT 20")
            count = "SELECT count(*) FROM fts WHERE fts MATCH ?" + "".join(" AND " + w for w in where)
            return sql, count, [expr] + wargs, "MATCH"
        except ValueError:
            pass
    cond = sql_expr(tree)
    sql = "SELECT key, ref FROM fts WHERE " + cond + "".join(" AND " + w for w in where) + " LIMIT 20"
    count = "SELECT count(*) FROM fts WHERE " + cond + "".join(" AND " + w for w in where)
    return sql, count, args + wargs, "LIKE (unranked)"


def phase_query_local(ns) -> dict:
    """search() in-process, bare Whoosh on the same live index, breakdown, snippets, FTS5."""
    import cProfile
    import io
    import pstats

    from sqlalchemy import select
    from whoosh import index as windex
    from whoosh import query as wq
    from whoosh import sorting

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.search import query as squery
    from portal.search.analyzer import parse_query
    from portal.search.index import close_searchers, get_searcher

    sample = json.loads(ns.sample)
    queries = [(label, fill(p, sample)) for label, p in QUERIES]
    reps = ns.reps
    app = make_app()
    out: dict = {"per_query": {label: {} for label, _ in queries}}
    with app.app_context():
        users = {u.username: u for u in db.session.execute(
            select(User).where(User.username.in_(["benchctl", "benchstaff"]))).scalars()}
        ctl, staff = users["benchctl"], users["benchstaff"]

        def stock(q):
            """The portal's query with Whoosh's own Phrase in place of ExactSequence (matched
            by name: the script also runs against commits that predate it)."""
            return q.accept(lambda n: wq.Phrase(n.fieldname, n.words, boost=n.boost)
                            if type(n).__name__ == "ExactSequence" else n)

        def bare_filter(params):
            parts = [p for p in (squery._state_filter(params.get("state"), None),) if p is not None]
            parts += squery._filters(params.get("kind"), params.get("department"), params.get("clause"),
                                     params.get("form"), params.get("date_from"), params.get("date_to"))
            return wq.And(parts) if len(parts) > 1 else parts[0] if parts else None

        # -- in-process search() (controller: no permission filter, like the bare searcher)
        for who, user, nrep in (("search_ctl", ctl, reps), ("search_staff", staff, ns.staff_reps)):
            allms, allcpu = [], []
            for _ in range(1):  # warm-up
                for _, params in queries:
                    squery.search(user, **params)
            for label, params in queries:
                ms = []
                for _ in range(nrep):
                    t, c = time.perf_counter(), time.process_time()
                    res = squery.search(user, **params)
                    ms.append((time.perf_counter() - t) * 1000)
                    allcpu.append((time.process_time() - c) * 1000)
                out["per_query"][label][who] = round(statistics.median(ms), 2)
                out["per_query"][label][who + "_total"] = res["total"]
                allms += ms
            out[who] = summary(allms)
            out[who + "_cpu"] = summary(allcpu)

        # -- bare Whoosh on the same live index: parse_query + the same non-permission filter
        searcher = get_searcher()
        allms, hl_ms, allcpu = [], [], []
        for _, params in queries:  # warm-up
            pq = parse_query(params["q"])
            if pq.query is not None:
                searcher.search(stock(pq.query), filter=bare_filter(params), limit=20)
        total_ms = []
        for label, params in queries:
            ms, tms = [], []
            for _ in range(reps):
                t, c = time.perf_counter(), time.process_time()
                pq = parse_query(params["q"])
                res = searcher.search(stock(pq.query), filter=bare_filter(params), limit=20) if pq.query else None
                ms.append((time.perf_counter() - t) * 1000)
                allcpu.append((time.process_time() - c) * 1000)
                # what a results page also needs: the exact number of matches
                n = len(res) if res is not None else 0
                tms.append((time.perf_counter() - t) * 1000)
            allms += ms
            total_ms += tms
            row = out["per_query"][label]
            row["bare"] = round(statistics.median(ms), 2)
            row["bare_with_total"] = round(statistics.median(tms), 2)
            row["bare_total"] = n
            # highlighting the top 10 with the portal's snippet() (as the API does for each hit)
            if res is not None:
                top = [h.fields().get("excerpt", "") for h in res[:10]]
                hms = []
                for _ in range(reps):
                    t = time.perf_counter()
                    for text in top:
                        squery.snippet(text, pq.terms)
                    hms.append((time.perf_counter() - t) * 1000)
                row["highlight_top10"] = round(statistics.median(hms), 2)
                row["hits_highlighted"] = len(top)
                hl_ms += hms
        out["bare"] = summary(allms)
        out["bare_with_total"] = summary(total_ms)
        out["bare_cpu"] = summary(allcpu)
        out["highlight_top10"] = summary(hl_ms)

        # -- breakdown: what search() adds to the bare top 20
        steps = {"1 bare: parse + filter query + top 20": [], "2 bare + exact total (len)": [],
                 "3 search(): total, facets, 20 hit dicts with snippets": []}
        for label, params in queries:
            pq = parse_query(params["q"])
            q = stock(pq.query) if pq.query else wq.Every()
            for _ in range(ns.breakdown_reps):
                t = time.perf_counter()
                r = searcher.search(q, filter=bare_filter(params), limit=20)
                steps["1 bare: parse + filter query + top 20"].append((time.perf_counter() - t) * 1000)
                len(r)
                steps["2 bare + exact total (len)"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                squery.search(ctl, **params)
                steps["3 search(): total, facets, 20 hit dicts with snippets"].append((time.perf_counter() - t) * 1000)
        out["breakdown"] = {k: summary(v) for k, v in steps.items()}

        # -- cProfile of one pass of search() over every query (controller)
        prof = cProfile.Profile()
        prof.enable()
        for _, params in queries:
            squery.search(ctl, **params)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(40)
        out["profile_search_cumulative"] = buf.getvalue()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
        out["profile_search_tottime"] = buf.getvalue()
        close_searchers()

    # -- SQLite FTS5 (trigram) on the same texts
    con = sqlite3.connect(ns.fts_db)
    allms, cnt_ms = [], []
    for label, params in queries:  # warm-up
        tr = fts_translate(params)
        if tr:
            con.execute(tr[0], tr[2]).fetchall()
    for label, params in queries:
        tr = fts_translate(params)
        row = out["per_query"][label]
        if tr is None:
            continue
        sql, count_sql, args, how = tr
        ms, cms = [], []
        for _ in range(reps):
            t = time.perf_counter()
            con.execute(sql, args).fetchall()
            ms.append((time.perf_counter() - t) * 1000)
        for _ in range(max(1, reps // 2)):
            t = time.perf_counter()
            total = con.execute(count_sql, args).fetchone()[0]
            cms.append((time.perf_counter() - t) * 1000)
        row["fts5"] = round(statistics.median(ms), 2)
        row["fts5_count"] = round(statistics.median(cms), 2)
        row["fts5_total"] = total
        row["fts5_how"] = how
        allms += ms
        cnt_ms += cms
    out["fts5_top20"] = summary(allms)
    out["fts5_count"] = summary(cnt_ms)
    match_only = [out["per_query"][label]["fts5"] for label, _ in queries
                  if out["per_query"][label].get("fts5_how") == "MATCH"]
    out["fts5_match_only_query_medians"] = {"n": len(match_only), "p50": round(statistics.median(match_only), 2)} if match_only else {}
    out["maxrss_mb"] = round(maxrss_mb(), 1)
    return out


# --------------------------------------------------------------------------- server
def http_get(conn, path, token):
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}", "Connection": "keep-alive"})
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, body


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") * 1000


def measure_api(port: int, token: str, queries, reps: int, timeout: float, pid: int) -> dict:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    paths = [(label, "/api/v1/search?" + urllib.parse.urlencode(p)) for label, p in queries]
    warm = []
    errors = []
    for _ in range(2):  # warm-up: every waitress thread opens its searcher
        for label, path in paths:
            t = time.perf_counter()
            status, body = http_get(conn, path, token)
            warm.append((time.perf_counter() - t) * 1000)
            if status != 200:
                errors.append((label, status, body[:300].decode(errors="replace")))
    per, allms, totals, cpu = {}, [], {}, []
    for label, path in paths:
        ms = []
        for _ in range(reps):
            c = server_cpu(pid)
            t = time.perf_counter()
            status, body = http_get(conn, path, token)
            ms.append((time.perf_counter() - t) * 1000)
            cpu.append(server_cpu(pid) - c)  # 10 ms ticks: meaningful as a median over many
            if status != 200:
                errors.append((label, status, body[:300].decode(errors="replace")))
            else:
                totals[label] = json.loads(body)["total"]
        per[label] = round(statistics.median(ms), 2)
        allms += ms
    conn.close()
    return {"summary": summary(allms), "per_query": per, "totals": totals, "errors": errors,
            "server_cpu_ms": {"mean": round(statistics.fmean(cpu), 2), "p50": round(statistics.median(cpu), 2)},
            "warmup_max_ms": round(max(warm), 1)}


def proc_status(pid: int) -> dict:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM", "VmRSS", "RssAnon", "RssFile")):
                k, v = line.split(":")
                out[k] = round(int(v.split()[0]) / 1024, 1)
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out["cpu_s"] = round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)
    except OSError:
        pass
    return out


def serve_and_measure(env, instance: Path, tokens: dict, queries, reps, timeout, threads, staff_reps) -> dict:
    port = free_port()
    logf = open(instance / "server.log", "w")
    proc = subprocess.Popen([portal_bin(), "serve", "--host", HOST, "--port", str(port),
                             "--threads", str(threads)], env=env, stdout=logf, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection(HOST, port, timeout=5)
                status, _ = http_get(c, "/api/v1/search?q=x", tokens["ctl"])
                c.close()
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("server did not come up; see server.log")
            time.sleep(0.3)
        log(f"server up on port {port} (pid {proc.pid}, {threads} threads)")
        out = {"port": port, "threads": threads, "after_start": proc_status(proc.pid)}
        peak = {"RssAnon": 0.0}
        stop = threading.Event()

        def sample():  # peak anonymous memory (VmHWM also counts mmap'ed index files)
            while not stop.wait(0.2):
                peak["RssAnon"] = max(peak["RssAnon"], proc_status(proc.pid).get("RssAnon", 0.0))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for who, n in (("ctl", reps), ("staff", staff_reps)):
            t0 = time.monotonic()
            out[who] = measure_api(port, tokens[who], queries, n, timeout, proc.pid)
            log(f"API as {who}: {out[who]['summary']} in {time.monotonic() - t0:.0f} s")
        stop.set()
        sampler.join()
        out["server_process"] = proc_status(proc.pid) | {"peak_RssAnon": peak["RssAnon"]}
        return out
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        logf.close()


# --------------------------------------------------------------------------- main
def main(ns) -> int:
    ns.keep = ns.keep or ns.reuse
    work = Path(ns.workdir) if ns.workdir else Path(tempfile.mkdtemp(prefix="portal-search-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    instance = work / "instance"
    instance.mkdir(exist_ok=True)
    env = dict(os.environ, PORTAL_INSTANCE=str(instance),
               PORTAL_DATABASE_URL=f"sqlite:///{instance / 'portal.db'}",
               PORTAL_SEARCH_INLINE="0", PORTAL_SECRET_KEY="bench-search")
    import portal  # only to say which package runs

    log(f"portal package: {portal.__file__}; workdir {work}; items {ns.items}; seed {ns.seed}; "
        f"cpus {os.cpu_count()}; PORTAL_SEARCH_CACHE_MB {os.environ.get('PORTAL_SEARCH_CACHE_MB', 'default')}")
    result = {"items_requested": ns.items, "seed": ns.seed, "reps": ns.reps, "cpus": os.cpu_count(),
              "started": time.strftime("%Y-%m-%d %H:%M:%S"),
              # the server's and search()'s postings cache (portal/search/cache.py); 0 = off
              "search_cache_mb": os.environ.get("PORTAL_SEARCH_CACHE_MB", "256 (default)")}
    t_all = time.monotonic()
    global LOAD
    LOAD = LoadSampler()
    try:
        state_file = work / "state.json"
        if ns.reuse:  # query phases only, on the corpus and indexes of an earlier --keep run
            state = json.loads(state_file.read_text())
            result.update(state, reused=str(work))
            tokens = {"ctl": run([portal_bin(), "create-token", "benchctl"], env, 120).strip().splitlines()[-1],
                      "staff": run([portal_bin(), "create-token", "benchstaff"], env, 120).strip().splitlines()[-1]}
            fts_db = work / "fts5.db"
            return _queries(ns, env, instance, tokens, fts_db, result, t_all)
        run([portal_bin(), "init"], env, 300)
        result["load"] = phase("load", ["--items", str(ns.items), "--seed", str(ns.seed)], env, 3600)
        log(f"loaded {result['load']['counts']}")
        run([portal_bin(), "create-user", "benchctl", "--password", PASSWORD, "--role", "controller",
             "--department", "ZB"], env, 120)
        run([portal_bin(), "create-user", "benchstaff", "--password", PASSWORD, "--role", "staff",
             "--department", "SH"], env, 120)
        tokens = {"ctl": run([portal_bin(), "create-token", "benchctl"], env, 120).strip().splitlines()[-1],
                  "staff": run([portal_bin(), "create-token", "benchstaff"], env, 120).strip().splitlines()[-1]}
        bare_dir, jsonl, fts_db = work / "bare-ix", work / "fts.jsonl", work / "fts5.db"
        specs = {"index_portal": ["--reindex"] if ns.reindex else [],
                 "index_bare": ["--out", str(bare_dir), "--fts-jsonl", str(jsonl), "--procs", str(ns.bare_procs)]}
        if ns.parallel_index:  # side by side: the same background load on the shared machine
            result.update(phases(specs, env, ns.phase_timeout))
        else:
            for name, args in specs.items():
                result[name] = phase(name, args, env, ns.phase_timeout)
        result["parallel_index"] = ns.parallel_index
        log(f"portal indexer: {json.dumps(result['index_portal'].get('drain'))}")
        log(f"bare writer: {json.dumps(result['index_bare'])}")
        result["fts_build"] = phase("fts_build", ["--fts-jsonl", str(jsonl), "--db", str(fts_db)], env,
                                    ns.phase_timeout)
        log(f"fts5 build: {json.dumps(result['fts_build'])}")
        state_file.write_text(json.dumps({k: result[k] for k in (
            "load", "index_portal", "index_bare", "fts_build", "parallel_index")}, ensure_ascii=False))
        return _queries(ns, env, instance, tokens, fts_db, result, t_all)
    finally:
        if ns.json:
            Path(ns.json).parent.mkdir(parents=True, exist_ok=True)
            Path(ns.json).write_text(json.dumps(result, ensure_ascii=False, indent=1))
        if not ns.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")


def _queries(ns, env, instance, tokens, fts_db, result, t_all) -> int:
    """The query phases: the API on a real server, then search(), bare Whoosh and FTS5."""
    sample = result["load"]["sample"]
    queries = [(label, fill(p, sample)) for label, p in QUERIES]
    LOAD.mark()
    result["api"] = serve_and_measure(env, instance, tokens, queries, ns.reps, ns.request_timeout,
                                      ns.threads, ns.staff_reps)
    result["api"]["loadavg_during"] = LOAD.mean_since_mark()
    result["local"] = phase("query_local", ["--sample", json.dumps(sample), "--reps", str(ns.reps),
                                            "--fts-db", str(fts_db), "--staff-reps", str(ns.staff_reps), "--breakdown-reps",
                                            str(ns.breakdown_reps)], env, ns.phase_timeout)
    result["seconds_total"] = round(time.monotonic() - t_all, 1)
    report(result, queries)
    return 0


def report(r: dict, queries) -> None:
    ip, ib = r["index_portal"]["drain"], r["index_bare"]
    loc, api = r["local"], r["api"]
    lines = [f"items: {r['load']['items']} ({r['load']['counts']['revision']} revisions, "
             f"{r['load']['counts']['record']} records); revision text bytes {r['load']['revision_text_bytes']}",
             f"portal drain_outbox: {ip['rate']} items/s ({ip['seconds']} s, cpu {ip['cpu_seconds']} s), "
             f"index {ip['index_bytes'] / 2**20:.1f} MiB, {ip['segments']} segments, maxrss {ip['maxrss_mb']} MB",
             ]
    if "reindex" in r["index_portal"]:
        ri = r["index_portal"]["reindex"]
        lines.append(f"portal reindex(): {ri['rate']} items/s ({ri['seconds']} s), "
                     f"index {ri['index_bytes'] / 2**20:.1f} MiB, maxrss {ri['maxrss_mb']} MB")
    lines += [
        f"bare writer: {ib['rate']} items/s (write {ib['write_s']} s; dicts built untimed in "
        f"{ib['build_dicts_s']} s), index {ib['index_bytes'] / 2**20:.1f} MiB, maxrss {ib['maxrss_mb']} MB",
        f"per CPU second: drain {ip['rows_done'] / ip['cpu_seconds']:.1f}, bare {ib['items'] / ib['write_cpu_s']:.1f} "
        f"items/cpu-s (ratio {(ip['rows_done'] / ip['cpu_seconds']) / (ib['items'] / ib['write_cpu_s']):.2f}); "
        f"machine load avg during indexing: portal {r['index_portal'].get('loadavg_during')}, "
        f"bare {ib.get('loadavg_during')} (parallel: {r.get('parallel_index')})",
        f"ratio portal drain / bare: {ip['rate'] / ib['rate']:.2f}"
        + (f"; reindex / bare: {r['index_portal']['reindex']['rate'] / ib['rate']:.2f}"
           if "reindex" in r["index_portal"] else ""),
        f"fts5 build: {r['fts_build']['rate']} items/s, db {r['fts_build']['db_bytes'] / 2**20:.1f} MiB",
        f"API (controller): {api['ctl']['summary']}  errors {len(api['ctl']['errors'])}; server CPU ms/request "
        f"{api['ctl'].get('server_cpu_ms')}; warm-up max {api['ctl']['warmup_max_ms']} ms; load avg {api.get('loadavg_during')}",
        f"API (staff):      {api['staff']['summary']}  errors {len(api['staff']['errors'])}",
        f"search() ctl:     {loc['search_ctl']}",
        f"search() staff:   {loc['search_staff']}",
        f"bare Whoosh:      {loc['bare']}",
        f"bare + total:     {loc.get('bare_with_total')}",
        f"CPU ms: search() ctl {loc.get('search_ctl_cpu')}, bare {loc.get('bare_cpu')}",
        f"API/bare p50 {api['ctl']['summary']['p50'] / loc['bare']['p50']:.2f}, "
        f"p95 {api['ctl']['summary']['p95'] / loc['bare']['p95']:.2f}; API/(bare + total) p50 "
        f"{api['ctl']['summary']['p50'] / loc['bare_with_total']['p50']:.2f}, "
        f"p95 {api['ctl']['summary']['p95'] / loc['bare_with_total']['p95']:.2f}",
        f"highlight top 10: {loc['highlight_top10']}",
        f"FTS5 top-20:      {loc['fts5_top20']}",
        f"FTS5 count(*):    {loc['fts5_count']}",
        f"server process:   {api['server_process']}",
        "breakdown (medians/p95 over all queries × reps):",
    ]
    for k, v in loc["breakdown"].items():
        lines.append(f"   {k}: p50 {v['p50']} p95 {v['p95']} max {v['max']}")
    lines.append(f"{'query':28} {'API':>8} {'search()':>8} {'bare':>8} {'bare+n':>8} {'hl10':>6} {'fts5':>8}  "
                 f"{'total':>7} {'bare#':>7} {'fts#':>7} fts-how")
    for label, _ in queries:
        pq = loc["per_query"][label]
        lines.append(f"{label[:28]:28} {api['ctl']['per_query'].get(label, 0):8.1f} "
                     f"{pq.get('search_ctl', 0):8.1f} {pq.get('bare', 0):8.1f} {pq.get('bare_with_total', 0):8.1f} "
                     f"{pq.get('highlight_top10', 0):6.1f} {pq.get('fts5', 0):8.1f}  "
                     f"{api['ctl']['totals'].get(label, -1):7} {pq.get('bare_total', -1):7} "
                     f"{pq.get('fts5_total', -1):7} {pq.get('fts5_how', '')}")
    print("\n".join(lines), flush=True)
    print(loc["profile_search_cumulative"][:6000], flush=True)


def cli() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1].startswith("_") else None
    if sub:
        p.add_argument("phase")
        p.add_argument("--items", type=int, default=0)
        p.add_argument("--seed", type=int, default=20261124)
        p.add_argument("--reindex", action="store_true")
        p.add_argument("--out")
        p.add_argument("--fts-jsonl")
        p.add_argument("--db")
        p.add_argument("--procs", type=int, default=1)
        p.add_argument("--sample")
        p.add_argument("--reps", type=int, default=5)
        p.add_argument("--fts-db")
        p.add_argument("--breakdown-reps", type=int, default=2)
        p.add_argument("--staff-reps", type=int, default=3)
        ns = p.parse_args()
        fn = globals()["phase" + ns.phase]
        print(json.dumps(fn(ns), ensure_ascii=False, default=str), flush=True)
        return 0
    p.add_argument("--items", type=int, default=2000)
    p.add_argument("--seed", type=int, default=20261124)
    p.add_argument("--reps", type=int, default=5, help="timed repetitions of each query")
    p.add_argument("--breakdown-reps", type=int, default=2, help="repetitions of the step-by-step breakdown")
    p.add_argument("--staff-reps", type=int, default=3, help="repetitions for the staff user (permission filter)")
    p.add_argument("--parallel-index", action="store_true",
                   help="run the portal indexer and the bare writer side by side (same background load)")
    p.add_argument("--threads", type=int, default=8, help="waitress threads of the server")
    p.add_argument("--reindex", action="store_true", help="also time portal.search.indexer.reindex()")
    p.add_argument("--bare-procs", type=int, default=1, help="processes of the bare Whoosh writer")
    p.add_argument("--phase-timeout", type=float, default=4 * 3600)
    p.add_argument("--request-timeout", type=float, default=120)
    p.add_argument("--workdir", help="folder to use (default: a new temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the workdir")
    p.add_argument("--reuse", action="store_true",
                   help="only the query phases, on the workdir of an earlier --keep run (implies --keep)")
    p.add_argument("--json", help="write every figure to this JSON file")
    return main(p.parse_args())


if __name__ == "__main__":
    sys.exit(cli())
