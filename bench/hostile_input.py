"""Work that used to grow faster than its input (issue 9, items 17-19), side by side with
the code before the fix.

    python bench/hostile_input.py [--old PATH] [--repeat N]

PATH is a checkout of the portal before the fix (e.g. `git worktree add /tmp/old 7b04a0b`);
each case runs in a fresh subprocess per code base, so both are measured in one run on the
same machine. Every case prints the median of N runs (default 3) in seconds and what the
code answered (ok, or the refusal's code). Cases that are quadratic in the old code run at a
smaller size there; the per-size growth shows which code is linear.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# --- inputs -----------------------------------------------------------------------------

def nested_divs(kilobytes: int) -> str:
    """The outside test's input: `<div>` nested as deep as the size allows."""
    depth = kilobytes * 1024 // 11
    return "<div>" * depth + "x" + "</div>" * depth


def honest_nesting(kilobytes: int) -> str:
    """Honest deep markup: a list nine levels deep in a table cell, repeated."""
    block = ("<table><tr><td>" + "<ul><li>条款" * 9 + "要求" + "</li></ul>" * 9
             + "</td></tr></table><p>说明文字 <b>加粗</b> <i>斜体</i></p>")
    return block * max(1, kilobytes * 1024 // len(block.encode()))


def reopened_formatting(kilobytes: int) -> str:
    """Unclosed <b><i><u> re-opened in every later paragraph."""
    return "<p><b><i><u>x</p>" * (kilobytes * 1024 // 17)


def repeated_lines(count: int) -> str:
    return "\n".join(["同上"] * count)


def few_distinct_lines(count: int, shift: int) -> str:
    return "\n".join(f"第{(i + shift) % 7}条 同上" for i in range(count))


def rewritten(count: int) -> tuple[str, str]:
    """Every line replaced: only line breaks and line numbers are common."""
    return ("\n".join(f"旧的第{i}行内容，质量管理体系文件。" for i in range(count)),
            "\n".join(f"New line {i}, entirely different wording." for i in range(count)))


def docx_with_paragraphs(count: int, identical: bool) -> bytes:
    """A .docx of ``count`` paragraphs, built as XML (python-docx would take minutes)."""
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    paragraph = "<w:p><w:r><w:t>{}</w:t></w:r></w:p>"
    body = "".join(paragraph.format("质量手册正文段落。" if identical else f"第{i}段：文件控制的要求。")
                   for i in range(count))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                text = data.decode()
                start = text.index("<w:body>") + len("<w:body>")
                data = (text[:start] + body + text[start:]).encode()
            target.writestr(info, data)
    return out.getvalue()


# --- cases (run inside the subprocess, against whichever code base is on sys.path) -----------

def _sanitise(html: str) -> str:
    from portal.security.html import sanitize_html

    return sanitize_html(html)


def _refusal(fn, *args) -> str:
    """'ok', or the code of the portal's refusal."""
    try:
        fn(*args)
    except Exception as exc:  # both code bases' refusals; the old one has fewer
        return getattr(exc, "code", type(exc).__name__)
    return "ok"


def _diff(old: str, new: str) -> str:
    from portal.documents.diff import diff_html

    html = diff_html(old, new)
    return "cut" if "diff-note" in html else "ok"


def _import(data: bytes) -> str:
    from portal.security.uploads import check_docx
    from portal.documents.docx_import import docx_to_html

    check_docx(data, "大文件.docx", max_bytes=50 * 1024 * 1024)
    return "%d chars" % len(docx_to_html(data))


def _export(paragraphs: int) -> str:
    from portal.documents.docx_export import ExportContext, render_docx

    body = "".join(f"<p>第{i}段：文件控制的要求。</p>" for i in range(paragraphs))
    ctx = ExportContext(code="QM-01", title="质量手册", revision_label="A/0", stamp="",
                        effective_date="2026-12-04", issued_date="2026-12-04",
                        confidentiality="内部", body_html=body)
    return "%d bytes" % len(render_docx(ctx))


CASES = {
    "sanitise nested <div>": lambda size: _refusal(_sanitise, nested_divs(size)),
    "sanitise honest deep markup": lambda size: _refusal(_sanitise, honest_nesting(size)),
    "sanitise re-opened formatting": lambda size: _refusal(_sanitise, reopened_formatting(size)),
    "diff identical repeated lines": lambda size: _diff(repeated_lines(size), repeated_lines(size)),
    "diff few distinct lines, shifted": lambda size: _diff(few_distinct_lines(size, 0),
                                                           few_distinct_lines(size, 3)),
    "diff rewritten document": lambda size: _diff(*rewritten(size)),
    "import .docx, distinct paragraphs": lambda size: _refusal(_import, docx_with_paragraphs(size, False)),
    "import .docx, identical paragraphs": lambda size: _refusal(_import, docx_with_paragraphs(size, True)),
    "export .docx": lambda size: _export(size),
}
# (case, unit, sizes for the current code, sizes for the old code)
PLAN = [
    ("sanitise nested <div>", "KB", [40, 160, 640], [10, 20, 40]),
    ("sanitise honest deep markup", "KB", [160, 640, 2560], [160, 640]),
    ("sanitise re-opened formatting", "KB", [40, 160], [10, 20, 40]),
    ("diff identical repeated lines", "lines", [8000, 32000, 128000], [2000, 4000, 8000]),
    ("diff few distinct lines, shifted", "lines", [8000, 32000, 128000], [2000, 4000, 8000]),
    ("diff rewritten document", "lines", [2000, 8000, 32000], [250, 500, 1000]),
    ("import .docx, distinct paragraphs", "paragraphs", [12500, 50000], [12500, 25000]),
    ("import .docx, identical paragraphs", "paragraphs", [12500, 50000], [12500]),
    ("export .docx", "paragraphs", [12500, 50000], [12500, 25000]),
]


def run_case(name: str, size: int, repeat: int) -> dict:
    times, answer = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = CASES[name](size)
        times.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(times), 3), "answer": answer}


def _in_subprocess(root: Path, name: str, size: int, repeat: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--root", str(root), "--case", name,
                          "--size", str(size), "--repeat", str(repeat)],
                         capture_output=True, text=True, timeout=3600)
    if out.returncode:
        return {"median_s": None, "answer": "crashed: " + out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", type=Path, help="a checkout of the code before the fix")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        sys.path.insert(0, str(args.root))
        print(json.dumps(run_case(args.case, args.size, args.repeat)))
        return
    print(f"{'case':38} {'code':4} {'size':>14} {'median s':>9}  answer")
    for name, unit, sizes, old_sizes in PLAN:
        for label, root, plan in (("new", ROOT, sizes), ("old", args.old, old_sizes)):
            for size in plan if root else ():
                result = _in_subprocess(root, name, size, args.repeat)
                print(f"{name:38} {label:4} {size:>8} {unit:5} {result['median_s']!s:>9}  {result['answer']}",
                      flush=True)


if __name__ == "__main__":
    main()
