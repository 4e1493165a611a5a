#!/usr/bin/env python
"""Concurrent record issuing against a real `portal serve` (SQLite or PostgreSQL).

For every run this script:

1. makes a fresh instance folder in a temporary directory (and, for PostgreSQL, a
   fresh database created with psql, dropped again at the end);
2. runs `portal init`, `create-department`, `create-user` (a controller, a reviewer,
   an approver and N staff issuers) and `create-token`;
3. starts the real server (`portal serve --port P --threads T`) as a subprocess;
4. registers a form through the JSON API (POST /documents, /revisions, submit,
   sign by reviewer and approver, release today);
5. starts N worker *processes*; each waits on a barrier, then POSTs its records
   one after another to /api/v1/documents/{id}/records over one keep-alive
   http.client connection to 127.0.0.1;
6. lists every record back (GET /api/v1/records?form_id=…&per_page=100, paged) and
   checks: count == N × R, numbers unique, sequence exactly 1..N×R (no gap), every
   response 201, the numbers the issuers were given == the numbers listed, and
   `portal verify-trail` still passes;
7. stops the server (only the process it started) and removes what it created.

Usage (from the repository root, with the venv's python):

    python bench/issue_records.py --backend sqlite --issuers 8 --records 100 --runs 3
    python bench/issue_records.py --backend postgresql --issuers 32 --records 100 --runs 3

Exit status 0 when every run passed every check, 1 otherwise.
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing as mp
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HOST = "127.0.0.1"
PASSWORD = "Bench-pass-2024!"
DEPT = "QA"
FORM_CODE = "QR-BENCH"
PATTERN = "{code}-{yyyy}{mm}-{seq:4}"
NUMBER_RE = re.compile(r"^(?P<prefix>" + re.escape(FORM_CODE) + r"-\d{6}-)(?P<seq>\d{4,})$")
FIELDS = [
    {"name": "item", "label": "Item", "type": "text", "required": True},
    {"name": "qty", "label": "Quantity", "type": "number", "required": False},
    {"name": "note", "label": "Note", "type": "textarea", "required": False},
]


def portal_bin() -> str:
    """The `portal` console script next to this interpreter, else the one on PATH."""
    here = Path(sys.executable).parent / "portal"
    return str(here) if here.exists() else (shutil.which("portal") or "portal")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds of one process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def machine_cpu() -> tuple[float, float] | None:
    """(busy, total) jiffies of the whole machine (Linux /proc/stat), None elsewhere."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)
    except (OSError, IndexError, ValueError):
        return None


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- HTTP


class Api:
    """A tiny JSON client over one keep-alive http.client connection to 127.0.0.1."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 60.0):
        self.port, self.token, self.timeout = port, token, timeout
        self.conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        conn = self._connect()
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
        except Exception:
            self.close()  # never reuse a connection in an unknown state
            raise
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, payload

    def call(self, method: str, path: str, body=None, expect=(200, 201)) -> dict:
        status, payload = self.request(method, path, body)
        if status not in expect:
            raise RuntimeError(f"{method} {path} -> {status}: {payload[:500]!r}")
        return json.loads(payload)


# ------------------------------------------------------------------------ workers


def issuer(index: int, port: int, token: str, form_id: int, records: int, timeout: float,
           barrier, results) -> None:
    """One issuer process: wait for the start signal, then POST `records` records in a row."""
    api = Api(port, token, timeout)
    path = f"/api/v1/documents/{form_id}/records"
    out = {"index": index, "ok": [], "latencies": [], "errors": [], "start": None, "end": None,
           "slowest": []}
    try:
        api.request("GET", "/api/v1/me")  # open the connection before the clock starts
        barrier.wait(timeout=120)
        out["start"] = time.time()
        for i in range(records):
            body = {"data": {"item": f"issuer {index} record {i}", "qty": i, "note": "bench"}}
            t0 = time.perf_counter()
            try:
                status, payload = api.request("POST", path, body)
            except Exception as exc:  # timeout, reset, refused: report, keep going
                out["latencies"].append(time.perf_counter() - t0)
                out["errors"].append({"i": i, "status": None, "body": f"{type(exc).__name__}: {exc}"})
                continue
            out["latencies"].append(time.perf_counter() - t0)
            out["slowest"].append((out["latencies"][-1], i, t0))
            if status == 201:
                rec = json.loads(payload)
                out["ok"].append((rec["id"], rec["number"]))
            else:
                out["errors"].append({"i": i, "status": status,
                                      "body": payload[:1000].decode("utf-8", "replace")})
        out["end"] = time.time()
        out["slowest"] = sorted(out["slowest"], reverse=True)[:5]
    except Exception as exc:
        out["errors"].append({"i": None, "status": None, "body": f"worker failed: {type(exc).__name__}: {exc}"})
    finally:
        api.close()
        results.put(out)


# ---------------------------------------------------------------------- one run


class Run:
    def __init__(self, args, run_no: int):
        self.args, self.run_no = args, run_no
        self.tmp = Path(tempfile.mkdtemp(prefix=f"portal-bench-{args.backend}-"))
        self.instance = self.tmp / "instance"
        # create it ourselves: with PORTAL_SECRET_KEY set, `portal init` does not
        # create a missing instance folder (SQLite: "unable to open database file")
        self.instance.mkdir()
        self.port = args.port or free_port()
        self.server: subprocess.Popen | None = None
        self.server_log = self.tmp / "server.log"
        self.db_name = None
        self.env = dict(os.environ)
        self.env.update({"PORTAL_INSTANCE": str(self.instance),
                         "PORTAL_SECRET_KEY": secrets.token_hex(32)})
        self.env.pop("PORTAL_DATABASE_URL", None)
        if args.backend == "postgresql":
            self.db_name = f"portal_bench_{os.getpid()}_{run_no}_{secrets.token_hex(3)}"
            self.env["PORTAL_DATABASE_URL"] = (
                f"postgresql+psycopg://{args.pg_user}@{args.pg_host}:{args.pg_port}/{self.db_name}")

    # -- plumbing
    def psql(self, sql: str, timeout: float = 60) -> str:
        return subprocess.run(["psql", "-h", self.args.pg_host, "-p", str(self.args.pg_port),
                               "-U", self.args.pg_user, "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                               "-qAtc", sql], check=True, timeout=timeout, capture_output=True,
                              text=True).stdout

    def portal(self, *argv: str) -> str:
        proc = subprocess.run([portal_bin(), *argv], env=self.env, capture_output=True,
                              text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"portal {' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def token(self, username: str) -> str:
        return self.portal("create-token", username).strip().splitlines()[-1].strip()

    # -- phases
    def setup_accounts(self) -> dict:
        if self.db_name:
            self.psql(f'CREATE DATABASE "{self.db_name}"')
        self.portal("init")
        self.portal("create-department", DEPT, "质量部")
        n = self.args.issuers
        users = [("ctl", "controller"), ("rev", "staff"), ("appr", "approver")]
        users += [(f"issuer{i:02d}", "staff") for i in range(n)]
        # CLI calls are independent processes; a few at a time keeps set-up short.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda u: self.portal("create-user", u[0], "--password", PASSWORD,
                                                "--role", u[1], "--department", DEPT,
                                                "--name", u[0]), users))
            names = [u[0] for u in users]
            tokens = dict(zip(names, pool.map(self.token, names)))
        return tokens

    def start_server(self) -> None:
        threads = self.args.threads or max(self.args.issuers, 8)
        self.server_log_fh = open(self.server_log, "wb")
        self.server = subprocess.Popen(
            [portal_bin(), "serve", "--host", HOST, "--port", str(self.port), "--threads", str(threads)],
            env=self.env, stdout=self.server_log_fh, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"server exited ({self.server.returncode}): {self.server_log.read_text()[-2000:]}")
            try:
                status, _ = Api(self.port, timeout=5).request("GET", "/api/v1/openapi.json")
                if status == 200:
                    log(f"server up on port {self.port} with {threads} threads (pid {self.server.pid})")
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not come up within 60 s")

    def stop_server(self) -> None:
        """Stop the server this run started — by its own pid/process group only."""
        if self.server is None:
            return
        if self.server.poll() is None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)  # its own session: start_new_session
            except ProcessLookupError:
                pass
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(timeout=15)
        self.server_log_fh.close()

    def register_form(self, tokens: dict) -> int:
        ctl = Api(self.port, tokens["ctl"])
        doc = ctl.call("POST", "/api/v1/documents", {
            "code": FORM_CODE, "title": "基准测试记录表 benchmark form", "doc_type": "form",
            "department": DEPT, "numbering_pattern": PATTERN, "retention_years": 3})
        rev = ctl.call("POST", f"/api/v1/documents/{doc['id']}/revisions", {
            "body_html": "<p>Benchmark form.</p>", "change_summary": "first issue",
            "change_level": "major", "fields": FIELDS})
        ctl.call("POST", f"/api/v1/revisions/{rev['id']}/submit", {"reviewers": ["rev"], "approver": "appr"})
        Api(self.port, tokens["rev"]).call("POST", f"/api/v1/revisions/{rev['id']}/sign", {
            "meaning": "review", "decision": "accept", "comment": "ok", "password": PASSWORD})
        Api(self.port, tokens["appr"]).call("POST", f"/api/v1/revisions/{rev['id']}/sign", {
            "meaning": "approve", "decision": "accept", "comment": "ok", "password": PASSWORD})
        # "today" in the portal's time zone (release refuses past dates, waits for future ones)
        today = datetime.now(ZoneInfo(self.env.get("PORTAL_TIMEZONE", "Asia/Shanghai"))).date()
        released = ctl.call("POST", f"/api/v1/revisions/{rev['id']}/release",
                            {"effective_date": today.isoformat()})
        if released["state"] != "effective":
            raise RuntimeError(f"form revision not effective after release: {released['state']}")
        ctl.close()
        return doc["id"]

    def fire(self, tokens: dict, form_id: int) -> dict:
        n, r = self.args.issuers, self.args.records
        ctx = mp.get_context("spawn" if sys.platform == "darwin" else "fork")
        barrier = ctx.Barrier(n + 1)
        results = ctx.Queue()
        procs = [ctx.Process(target=issuer,
                             args=(i, self.port, tokens[f"issuer{i:02d}"], form_id, r,
                                   self.args.request_timeout, barrier, results), daemon=True)
                 for i in range(n)]
        for p in procs:
            p.start()
        barrier.wait(timeout=120)  # every worker is connected; go
        t0 = time.perf_counter()
        cpu0, mach0 = proc_cpu_seconds(self.server.pid), machine_cpu()
        outs, deadline = [], time.monotonic() + self.args.run_timeout
        waits: list[tuple[int, int, list[str]]] = []  # PostgreSQL samples, see lock_waits()
        while len(outs) < n and time.monotonic() < deadline:
            if self.db_name and self.args.pg_lock_sample:
                waits.append(self.lock_waits())
            try:
                outs.append(results.get(timeout=1))
            except Exception:
                if not any(p.is_alive() for p in procs) and results.empty():
                    break
        wall = time.perf_counter() - t0
        cpu1, mach1 = proc_cpu_seconds(self.server.pid), machine_cpu()
        timed_out = len(outs) < n
        cpu = {}
        if cpu0 is not None and cpu1 is not None:  # >1.0 impossible for one GIL-bound process
            cpu["server_cpu_per_wall_s"] = round((cpu1 - cpu0) / wall, 2)
        if waits:
            cpu["pg_samples"] = len(waits)
            cpu["pg_avg_lock_waiting"] = round(statistics.mean(w[0] for w in waits), 1)
            cpu["pg_avg_active"] = round(statistics.mean(w[1] for w in waits), 1)
            on = Counter(q for w in waits for q in w[2])
            cpu["pg_waiters_by_query"] = {q: round(c / len(waits), 1) for q, c in on.most_common(4)}
        if mach0 and mach1 and mach1[1] > mach0[1]:
            cpu["machine_busy_pct"] = round(100 * (mach1[0] - mach0[0]) / (mach1[1] - mach0[1]), 1)
        for p in procs:  # only the workers this run started
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        return {"outs": outs, "wall": wall, "timed_out": timed_out, "cpu": cpu, "t0": t0}

    def lock_waits(self) -> tuple[int, int, list[str]]:
        """One sample of this database's backends: how many wait on a heavyweight lock
        (row/tuple/transactionid), how many are active, and what the waiters are running."""
        sql = ("select case when wait_event_type = 'Lock' then 'W' else 'A' end, state, "
               "regexp_replace(left(query, 60), '\\s+', ' ', 'g') from pg_stat_activity "
               f"where datname = '{self.db_name}' and state = 'active'")
        try:
            out = subprocess.run(
                ["psql", "-h", self.args.pg_host, "-p", str(self.args.pg_port), "-U", self.args.pg_user,
                 "-d", "postgres", "-qAtF", "\t", "-c", sql],
                capture_output=True, text=True, timeout=10).stdout.splitlines()
            rows = [line.split("\t") for line in out if line]
            waiting = [r[2] for r in rows if r[0] == "W"]
            return len(waiting), len(rows), waiting
        except Exception:
            return 0, 0, []

    def list_records(self, token: str, form_id: int) -> tuple[list[dict], int]:
        api, items, page, total = Api(self.port, token), [], 1, None
        while True:
            body = api.call("GET", f"/api/v1/records?form_id={form_id}&per_page=100&page={page}")
            total = body["total"]
            items.extend(body["items"])
            if not body["items"] or len(items) >= total:
                break
            page += 1
        api.close()
        return items, total

    def verify_trail(self) -> tuple[bool, str]:
        proc = subprocess.run([portal_bin(), "verify-trail"], env=self.env, capture_output=True,
                              text=True, timeout=300)
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        return proc.returncode == 0, (lines[-1] if lines else f"exit {proc.returncode}")

    def cleanup(self) -> None:
        if self.db_name:
            # DROP DATABASE waits for a checkpoint, which can take minutes on a busy machine.
            for attempt in range(3):
                try:
                    self.psql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)', timeout=300)
                except Exception as exc:
                    log(f"dropping database {self.db_name} (attempt {attempt + 1}): {exc}")
                try:
                    if not self.psql(f"select 1 from pg_database where datname = '{self.db_name}'").strip():
                        break
                except Exception:
                    pass
                time.sleep(5)
            else:
                log(f"WARNING: database {self.db_name} still exists; drop it by hand")
        if self.args.keep:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the whole run
    def execute(self) -> dict:
        a = self.args
        result = {"run": self.run_no, "backend": a.backend, "issuers": a.issuers, "records_each": a.records}
        try:
            t = time.perf_counter()
            tokens = self.setup_accounts()
            self.start_server()
            form_id = self.register_form(tokens)
            log(f"run {self.run_no}: set-up done in {time.perf_counter() - t:.1f} s (form id {form_id}); "
                f"firing {a.issuers} issuers × {a.records} records")
            fired = self.fire(tokens, form_id)
            listed, total = self.list_records(tokens["ctl"], form_id)
            result.update(analyse(fired, listed, total, a.issuers * a.records))
            ok, line = self.verify_trail()
            result["trail_ok"], result["trail"] = ok, line
            log_text = self.server_log.read_text(errors="replace")
            result["server_tracebacks"] = log_text.count("Traceback (most recent call last)")
            result["server_db_locked"] = log_text.count("database is locked")
            if result["server_tracebacks"]:
                kinds = Counter(m.group(0)[:300] for m in re.finditer(
                    r"^[A-Za-z_][\w.]*(?:Error|Exception|Timeout)\b.*$", log_text, re.M))
                result["server_errors"] = dict(kinds.most_common(5))
                result["server_log_tail"] = log_text[-4000:]
        except Exception as exc:
            result["fatal"] = f"{type(exc).__name__}: {exc}"
            if self.server_log.exists():
                result["server_log_tail"] = self.server_log.read_text(errors="replace")[-4000:]
        finally:
            self.stop_server()
            self.cleanup()
        result["passed"] = passed(result)
        return result


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))  # nearest-rank
    return s[k]


def analyse(fired: dict, listed: list[dict], total: int, expected: int) -> dict:
    outs = fired["outs"]
    issued = [num for o in outs for (_id, num) in o["ok"]]
    latencies = [x for o in outs for x in o["latencies"]]
    errors = [dict(e, issuer=o["index"]) for o in outs for e in o["errors"]]
    # the slowest requests, with when they started (s after the barrier; perf_counter is
    # system-wide on Linux, so worker and parent clocks agree)
    slow = sorted(((lat, o["index"], i, t0 - fired["t0"]) for o in outs for lat, i, t0 in o.get("slowest", [])),
                  reverse=True)[:5]
    numbers = [r["number"] for r in listed]
    dupes = sorted(n for n, c in Counter(numbers).items() if c > 1)
    prefixes, bad_format = {}, []
    for num in numbers:
        m = NUMBER_RE.match(num)
        if not m:
            bad_format.append(num)
            continue
        prefixes.setdefault(m["prefix"], []).append(int(m["seq"]))
    gaps = {}
    for prefix, seqs in prefixes.items():  # the running number restarts only with a new prefix (month)
        want = set(range(1, len(seqs) + 1))
        missing, extra = sorted(want - set(seqs)), sorted(set(seqs) - want)
        if missing or extra:
            gaps[prefix] = {"missing": missing[:50], "outside_1_to_n": extra[:50]}
    return {
        "wall_s": round(fired["wall"], 3),
        "timed_out": fired["timed_out"],
        "cpu": fired["cpu"],
        "created_201": len(issued),
        "records_per_s": round(len(issued) / fired["wall"], 1) if fired["wall"] else 0.0,
        "latency_ms": {"p50": round(pct(latencies, 50) * 1000, 1), "p95": round(pct(latencies, 95) * 1000, 1),
                       "max": round(max(latencies) * 1000, 1) if latencies else None},
        "slowest": [{"ms": round(lat * 1000), "issuer": w, "request": i, "started_at_s": round(t, 2)}
                    for lat, w, i, t in slow],
        "errors": len(errors),
        "error_samples": errors[:10],
        "error_statuses": dict(Counter(str(e["status"]) for e in errors)),
        "listed": len(listed), "listed_total": total, "expected": expected,
        "duplicates": dupes[:50], "duplicate_count": len(dupes),
        "bad_format": bad_format[:20], "prefixes": {p: len(s) for p, s in prefixes.items()},
        "gaps": gaps,
        "issued_matches_listed": sorted(issued) == sorted(numbers),
        "max_seq": max((max(s) for s in prefixes.values()), default=0),
    }


def passed(r: dict) -> bool:
    """The issue's acceptance: every response 201, every number there once, no gap, trail intact.
    Tracebacks in the server log that did not fail a request are reported as a warning."""
    return (not r.get("fatal") and not r["timed_out"] and r["errors"] == 0
            and r["created_201"] == r["expected"] == r["listed"] == r["listed_total"]
            and r["duplicate_count"] == 0 and not r["gaps"] and not r["bad_format"]
            and r["issued_matches_listed"] and r["trail_ok"] and r["server_db_locked"] == 0)


def report(r: dict) -> None:
    if r.get("fatal"):
        log(f"run {r['run']}: FATAL {r['fatal']}")
        if r.get("server_log_tail"):
            print(r["server_log_tail"])
        return
    lat = r["latency_ms"]
    log(f"run {r['run']} [{r['backend']}, {r['issuers']}×{r['records_each']}]: "
        f"{r['created_201']}/{r['expected']} created in {r['wall_s']} s → {r['records_per_s']} records/s; "
        f"latency p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms; errors {r['errors']} "
        f"{r['error_statuses'] or ''}; cpu {r['cpu']}")
    log(f"  check: listed {r['listed']} (total {r['listed_total']}), unique {r['duplicate_count'] == 0}, "
        f"prefixes {r['prefixes']}, max seq {r['max_seq']}, gaps {r['gaps'] or 'none'}, "
        f"issued==listed {r['issued_matches_listed']}, trail: {r['trail']}, "
        f"server tracebacks {r['server_tracebacks']} ('database is locked' ×{r['server_db_locked']}) "
        f"→ {'PASS' if r['passed'] else 'FAIL'}"
        f"{' (WARNING: tracebacks in the server log)' if r['passed'] and r['server_tracebacks'] else ''}")
    log("  slowest requests: " + ", ".join(
        f"{x['ms']} ms (issuer {x['issuer']} #{x['request']} at +{x['started_at_s']} s)" for x in r["slowest"][:3]))
    for line, count in (r.get("server_errors") or {}).items():
        log(f"  server log ×{count}: {line}")
    for e in r["error_samples"][:3]:
        log(f"  non-201 (issuer {e['issuer']}, request {e['i']}): {e['status']} {e['body']}")
    if r.get("server_log_tail"):
        print("---- server log tail ----\n" + r["server_log_tail"][-2500:])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=("sqlite", "postgresql"), required=True)
    p.add_argument("--issuers", type=int, default=None, help="concurrent issuer processes (default 8 on SQLite, 32 on PostgreSQL)")
    p.add_argument("--records", type=int, default=100, help="records per issuer (default 100)")
    p.add_argument("--threads", type=int, default=None, help="waitress threads (default max(issuers, 8))")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--port", type=int, default=None, help="server port (default: a free one)")
    p.add_argument("--request-timeout", type=float, default=60.0, help="socket timeout per request, s")
    p.add_argument("--run-timeout", type=float, default=600.0, help="limit for the issuing phase, s")
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    p.add_argument("--pg-lock-sample", action="store_true",
                   help="PostgreSQL: sample pg_stat_activity about once a second during issuing "
                        "(who waits on which lock); costs a little CPU")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    p.add_argument("--keep", action="store_true", help="keep the temporary instance folder")
    args = p.parse_args(argv)
    if args.issuers is None:
        args.issuers = 32 if args.backend == "postgresql" else 8
    if args.threads is not None and args.threads < args.issuers:
        p.error("--threads must be at least --issuers")

    probe = subprocess.run([sys.executable, "-c", "import portal; print(portal.__file__)"],
                           capture_output=True, text=True, cwd=tempfile.gettempdir(), timeout=60)
    log(f"portal package: {probe.stdout.strip() or probe.stderr.strip()}; console script: {portal_bin()}")
    results = []
    for run_no in range(1, args.runs + 1):
        r = Run(args, run_no).execute()
        report(r)
        results.append(r)
    good = [r for r in results if not r.get("fatal")]
    if good:
        summary = {
            "backend": args.backend, "issuers": args.issuers, "records_each": args.records,
            "runs": len(results), "passed": sum(r["passed"] for r in results),
            "records_per_s": [r["records_per_s"] for r in good],
            "median_records_per_s": round(statistics.median(r["records_per_s"] for r in good), 1),
            "median_p50_ms": round(statistics.median(r["latency_ms"]["p50"] for r in good), 1),
            "median_p95_ms": round(statistics.median(r["latency_ms"]["p95"] for r in good), 1),
            "total_errors": sum(r["errors"] for r in good),
        }
        log("summary " + json.dumps(summary, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    return 0 if results and all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
