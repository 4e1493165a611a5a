#!/usr/bin/env python
"""cProfile of the search write and read paths on an instance left by `search_bench.py --keep`.

    PORTAL_INSTANCE=/tmp/sb/instance PORTAL_DATABASE_URL=sqlite:////tmp/sb/instance/portal.db \\
        /work/venv/bin/python bench/search_profile.py --items 500

1. `write`: the first N index documents (built untimed with the portal's builders) written
   to a fresh index in a temporary folder by a plain Whoosh writer, under cProfile; plus the
   time of running the portal's ANALYZER alone over the same ref/title/body texts, and of
   indexing them with a plain Whoosh tokenizer (RegexTokenizer|LowercaseFilter), to show
   what share the analysis has.
2. `snippet`: the portal's snippet() on N stored excerpts for the term sets of a few
   queries, under cProfile.
3. with --drain: a copy of the instance (database only) in a temporary folder, every
   outbox row marked pending again and no index, then `drain_outbox()` under cProfile.
Nothing in the given instance is changed.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import tempfile
import time
from pathlib import Path


def top(prof, key: str, n: int) -> str:
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(n)
    return buf.getvalue()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--items", type=int, default=500)
    p.add_argument("--lines", type=int, default=25)
    p.add_argument("--drain", action="store_true", help="also profile drain_outbox() on a copy")
    ns = p.parse_args()
    if ns.drain:
        profile_drain(ns)

    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from whoosh import index as windex
    from whoosh.analysis import LowercaseFilter, RegexTokenizer
    from whoosh.fields import Schema

    from portal import create_app
    from portal.extensions import db
    from portal.search.analyzer import ANALYZER, parse_query
    from portal.search.builders import BUILDERS
    from portal.search.query import snippet
    from portal.search.schema import build_schema

    app = create_app()
    dicts = []
    with app.app_context(), Session(db.engine) as s:
        for model, _, build, options in BUILDERS.values():
            # a mix: the first documents and the first records
            ids = list(s.execute(select(model.id).order_by(model.id).limit(ns.items // 2)).scalars())
            dicts += [build(o) for o in s.execute(select(model).where(model.id.in_(ids)).options(*options())).scalars()]
    n = len(dicts)
    folder = tempfile.mkdtemp(prefix="search-profile-")
    try:
        ix = windex.create_in(folder + "/plain", build_schema()) if Path(folder, "plain").mkdir() is None else None
        t = time.perf_counter()
        w = ix.writer(limitmb=256)
        for d in dicts:
            w.add_document(**d)
        w.commit()
        plain_s = time.perf_counter() - t
        print(f"== write without profiler: {n} items in {plain_s:.2f} s ({n / plain_s:.1f} items/s)")
        ix = windex.create_in(folder, build_schema())
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        w = ix.writer(limitmb=256)
        for d in dicts:
            w.add_document(**d)
        w.commit()
        prof.disable()
        write_s = time.perf_counter() - t
        print(f"== write: {n} items in {write_s:.2f} s under cProfile ({n / write_s:.1f} items/s)")
        print(top(prof, "tottime", ns.lines))

        t = time.perf_counter()
        tokens = 0
        for d in dicts:
            for f in ("ref", "title", "body"):
                for _ in ANALYZER(d.get(f, ""), positions=True, chars=True):
                    tokens += 1
        analyze_s = time.perf_counter() - t
        print(f"== the portal ANALYZER alone over ref/title/body: {analyze_s:.2f} s, {tokens} tokens "
              f"({tokens / n:.0f} per item), {analyze_s / plain_s * 100:.0f} % of the unprofiled write time")

        plain = RegexTokenizer() | LowercaseFilter()
        t = time.perf_counter()
        ptokens = sum(1 for d in dicts for f in ("ref", "title", "body")
                      for _ in plain(d.get(f, ""), positions=True, chars=True))
        print(f"== Whoosh RegexTokenizer|LowercaseFilter over the same texts: {time.perf_counter() - t:.2f} s, "
              f"{ptokens} tokens (Chinese runs are one token each: not searchable by word)")
        del Schema
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    excerpts = [d.get("excerpt", "") for d in dicts]
    terms_list = [parse_query(q).terms for q in ("投诉", "纠正措施", '"管理评审"', "售后 服务", "的")]
    t = time.perf_counter()
    for terms in terms_list:
        for text in excerpts:
            snippet(text, terms)
    secs = time.perf_counter() - t
    print(f"== snippet() without profiler: {secs / (len(terms_list) * len(excerpts)) * 1000:.2f} ms per call "
          f"(the API page makes 20 calls, one per hit)")
    prof = cProfile.Profile()
    terms_list = [parse_query(q).terms for q in ("投诉", "纠正措施", '"管理评审"', "售后 服务", "的")]
    t = time.perf_counter()
    prof.enable()
    calls = 0
    for terms in terms_list:
        for text in excerpts:
            snippet(text, terms)
            calls += 1
    prof.disable()
    secs = time.perf_counter() - t
    print(f"== snippet(): {calls} calls in {secs:.2f} s under cProfile ({secs / calls * 1000:.2f} ms per call)")
    print(top(prof, "tottime", ns.lines))


def profile_drain(ns) -> None:
    """drain_outbox() under cProfile on a copy of the instance's database."""
    import os
    import sqlite3

    src = Path(os.environ["PORTAL_INSTANCE"])
    copy = Path(tempfile.mkdtemp(prefix="search-profile-drain-"))
    try:
        con = sqlite3.connect(src / "portal.db")
        dst = sqlite3.connect(copy / "portal.db")
        con.backup(dst)
        con.close()
        dst.execute("UPDATE search_outbox SET done_at = NULL")
        dst.commit()
        dst.close()
        env = dict(os.environ, PORTAL_INSTANCE=str(copy), PORTAL_DATABASE_URL=f"sqlite:///{copy / 'portal.db'}")
        code = (
            "import cProfile, pstats, time\n"
            "from portal import create_app\n"
            "from portal.search import index\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            "    index.open_index()\n"
            "    prof = cProfile.Profile(); t = time.perf_counter(); prof.enable(); n = index.drain_outbox(); prof.disable()\n"
            "    print(f'== drain_outbox into an empty index under cProfile: {n} rows in {time.perf_counter() - t:.2f} s')\n"
            f"    pstats.Stats(prof).sort_stats('cumulative').print_stats({ns.lines})\n"
            f"    pstats.Stats(prof).sort_stats('tottime').print_stats({ns.lines})\n")
        import subprocess
        import sys

        subprocess.run([sys.executable, "-c", code], env=env, timeout=3600, check=True)
    finally:
        shutil.rmtree(copy, ignore_errors=True)


if __name__ == "__main__":
    main()
