"""`derive check`: verify claims files in the articles' notation; a table, JSON or a report, and an exit code.

Exit codes: 0 every claim was read and every `expect` was met; 1 a claim could
not be read or verified, an expectation was not met, or the PDF of --report
could not be made; 2 unusable input (a file that cannot be read, is not a
claims file, is too large, or repeats an id) or an unusable --report folder
(derive.report.output, checked before the verification). Verification reuses
derive.pipeline (verify_all, its worker processes) and the report reuses
derive.report, so a checked file looks exactly like the main report.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from derive import pipeline
from derive.claim import check_unique
from derive.errors import ClaimError, DeriveError
from derive.evidence import Verdict, diagnosis_json, to_json
from derive.notation import claimsfile, fixfile
from derive.report.files import write_atomic
from derive.report.output import staged
from derive.report.text import diagnosis_lines, evidence_line, shorten
from derive.terminal import printable
from derive.verify import Settings


@dataclass
class Row:
    """One claim of a checked file: its verdict, or the error that stopped it."""

    id: str
    file: str
    claim: object = None
    expect: str | None = None
    verdict: Verdict | None = None
    error: str | None = None

    @property
    def met(self) -> bool | None:
        if self.expect is None:
            return None
        return self.verdict is not None and self.verdict.status == self.expect


def load(paths, stdin: bytes | None) -> tuple[list[Row], list[str]]:
    """Rows for every claim of the files (and of standard input), and the messages of unusable files."""
    rows, unusable, defined = [], [], []
    documents = []
    for path in paths:
        try:
            documents.append(claimsfile.read_path(path))
        except DeriveError as error:
            unusable.append(str(error))
    if stdin is not None:
        try:
            documents.append(claimsfile.read_bytes(stdin))
        except DeriveError as error:
            unusable.append(str(error))
    for document in documents:
        for entry in document.entries:
            try:
                check_unique(defined + [(entry.id, document.name)])
            except ClaimError as error:
                unusable.append(str(error))
                continue
            defined.append((entry.id, document.name))
            rows.append(Row(entry.id, document.name, entry.claim, entry.expect,
                            error=None if entry.error is None else str(entry.error)))
    return rows, unusable


def verify_rows(rows: list[Row], settings: Settings, jobs: int, verbosity: int) -> None:
    """Verify every readable row with derive.pipeline, each claim in its own child within its limits.

    A claim that cannot be read or verified keeps its error with its row; the others go on.
    """
    readable = [row for row in rows if row.error is None]
    if not readable:
        return
    results = pipeline.settle_all([row.claim for row in readable], settings, jobs, pipeline.Progress(verbosity))
    for row, (claim, outcome) in zip(readable, results):
        row.claim = claim  # with the readings the engine chose
        if isinstance(outcome, Verdict):
            row.verdict = outcome
        else:
            row.error = outcome.message if outcome.named else f"{row.file}: claim {row.id}: {outcome.message}"


def _short(row: Row) -> str:
    """The first line of a row's error without the file and claim it names: "line 3, column 7: ..."."""
    first = (row.error or "").split("\n")[0]
    located = re.match(r"^.*?:(\d+):(\d+): claim \S+ \([^)]*\): (.*)$", first)
    if located:
        first = f"line {located.group(1)}, column {located.group(2)}: {located.group(3)}"
    else:
        first = first.replace(f"{row.file}: ", "", 1).replace(f"claim {row.id}: ", "", 1)
    return shorten(first)


def table(rows: list[Row]) -> str:
    """The terminal table, the errors in full beneath it, and a summary line."""
    header = ("ID", "VERDICT", "METHOD", "EXPECT", "EVIDENCE")
    lines = []
    for row in rows:
        expect = "-" if row.expect is None else ("met" if row.met else f"UNMET ({row.expect})")
        if row.verdict is not None:
            lines.append((row.id, row.verdict.status, row.verdict.method, expect, evidence_line(row.verdict)))
        else:
            lines.append((row.id, "error", "-", expect, _short(row)))
    widths = [max(len(str(line[k])) for line in [header] + lines) for k in range(4)]
    out = ["  ".join(str(cell).ljust(widths[k]) if k < 4 else str(cell) for k, cell in enumerate(line)).rstrip()
           for line in [header] + lines]
    diagnoses = [line for row in rows if row.verdict is not None for line in diagnosis_lines(row.id, row.verdict)]
    if diagnoses:
        out += ["", "What is wrong:"] + diagnoses
    readings = [f"{row.id}: {row.claim.reading.split(claimsfile.ENGINE_READINGS, 1)[1].strip()}" for row in rows
                if row.claim is not None and claimsfile.ENGINE_READINGS in row.claim.reading]
    if readings:
        out += ["", "Readings the engine chose:"] + readings
    errors = [row.error for row in rows if row.error]
    if errors:
        out += ["", "Errors:"] + errors
    counts = {}
    for row in rows:
        status = row.verdict.status if row.verdict else "error"
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    expected = [row for row in rows if row.expect is not None]
    out.append("")
    out.append(f"{len(rows)} claim{'s' if len(rows) != 1 else ''}: {summary}; expectations: "
               f"{sum(1 for r in expected if r.met)} met, {sum(1 for r in expected if not r.met)} unmet.")
    return "\n".join(out)


def as_json(rows: list[Row], unusable: list[str], code: int) -> str:
    claims = [{"id": row.id, "file": row.file, "verdict": row.verdict.status if row.verdict else "error",
               "method": row.verdict.method if row.verdict else None, "expect": row.expect,
               "expectation_met": row.met, "printed": row.claim.printed if row.claim else None,
               "reading": row.claim.reading if row.claim else None,
               "evidence_line": evidence_line(row.verdict) if row.verdict else None,
               "evidence": to_json(row.verdict.evidence) if row.verdict else None,
               "diagnosis": diagnosis_json(row.verdict) if row.verdict else None, "error": row.error}
              for row in rows]
    return json.dumps({"claims": claims, "unusable": unusable, "exit_code": code}, indent=2,
                      ensure_ascii=False) + "\n"


def write_report(rows: list[Row], output: Path, settings: Settings, make_pdf: bool) -> str:
    """report.tex, report.json (and report.pdf) of the verified claims, as the main report lays them out.

    Returns why no PDF was made ("" when it was, or was not asked for).
    """
    results = [(row.claim, row.verdict) for row in rows if row.verdict is not None]
    files = sorted({row.file for row in rows})
    title = "Claims checked by derive check: " + ", ".join(Path(f).name for f in files)
    return pipeline.write_report(results, output, settings, title, make_pdf).pdf_error


def write_fixes(rows: list[Row], err) -> list[Path]:
    """FILE.fixed.toml beside each claims file that has corrections (see derive.notation.fixfile)."""
    written = []
    for name in dict.fromkeys(row.file for row in rows):
        corrections = {row.id: row.verdict.diagnosis.correction for row in rows if row.file == name and row.verdict
                       and row.verdict.diagnosis and row.verdict.diagnosis.correction
                       and row.verdict.diagnosis.correction.target != "statement"}
        if not corrections:
            continue
        path = Path(name)
        text, problems = fixfile.fixed(path.read_text(encoding="utf-8"), corrections)
        for problem in problems:
            err.write(f"derive: {path}: {printable(problem)}\n")
        if text:
            target = path.with_name(path.stem + ".fixed.toml")
            write_atomic(target, text)
            written.append(target)
    return written


def run(paths, stdin: bytes | None, settings: Settings, *, jobs: int = 0, as_json_output: bool = False,
        report: Path | None = None, make_pdf: bool = True, verbosity: int = 0, out=None, err=None,
        fix: bool = False) -> int:
    """The whole command; returns the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    rows, unusable = load(paths, stdin)
    if not rows and not unusable:
        unusable.append("no claims to check")
    pdf_error = ""
    with staged(report) as folder:  # the report's folder checked and locked before the work
        verify_rows(rows, settings, jobs, verbosity)
        if report is not None and any(row.verdict for row in rows):
            pdf_error = write_report(rows, folder.path, settings, make_pdf)
            folder.commit()
        elif report is not None:
            err.write("derive: no claim could be verified, so no report was written\n")
    if unusable:
        code = 2
    elif pdf_error or any(row.error for row in rows) or any(row.met is False for row in rows):
        code = 1
    else:
        code = 0
    if as_json_output:
        out.write(as_json(rows, unusable, code))
    elif rows:
        out.write(printable(table(rows)) + "\n")
    for message in unusable:
        err.write(f"derive: error: {printable(message)}\n")
    if fix:
        for written in write_fixes(rows, err):
            (err if as_json_output else out).write(f"corrected copy written to {written}\n")
    if pdf_error:
        err.write(f"derive: report.tex and report.json written to {report}, no PDF: {printable(pdf_error)}\n")
    elif report is not None and any(row.verdict for row in rows) and not as_json_output:
        out.write(f"report written to {report}\n")
    return code
