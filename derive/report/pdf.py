"""Compiling report.tex into report.pdf: pdflatex, run until its cross-references settle."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from derive.errors import ReportError, TexMissingError
from derive.lifetime import run_command
from derive.report.files import write_atomic
from derive.terminal import printable

INSTALL_HINT = ("install a TeX engine, e.g. on Debian/Ubuntu: apt-get install texlive-latex-base "
                "texlive-latex-recommended texlive-fonts-recommended lmodern latexmk "
                "(or run `make report`, which does it when run as root)")


# pdfTeX stamps the PDF with the time unless told otherwise: a fixed date makes the PDF reproducible too.
REPRODUCIBLE = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "FORCE_SOURCE_DATE": "1"}


def engine() -> list[str] | None:
    """The command that compiles a .tex file here, or None when no TeX engine is installed."""
    if shutil.which("pdflatex"):
        return ["pdflatex", "-interaction=nonstopmode", "-halt-on-error"]
    return None


MOST_PASSES = 5  # pdflatex passes: the contents and references settle in two or three


def _references(scratch: Path, stem: str) -> bytes:
    """What the next pass reads back (.aux, .toc, .out): when a pass leaves it unchanged, the PDF is final."""
    return b"".join((scratch / f"{stem}{suffix}").read_bytes() if (scratch / f"{stem}{suffix}").exists() else b""
                    for suffix in (".aux", ".toc", ".out"))


def compile_pdf(tex_path: Path, extra_files=(), timeout: float = 300) -> Path:
    """Compile `tex_path` into the PDF beside it, in a scratch folder beside it too.

    Beside, not in /tmp: the report's staging folder holds it, so a kill leaves
    nothing that the next run does not remove. When TeX fails its log is kept
    beside the .tex and the error names the lines of the log that say why.
    """
    command = engine()
    if command is None:
        raise TexMissingError(f"no TeX engine found: {INSTALL_HINT}")
    tex_path = Path(tex_path)
    with tempfile.TemporaryDirectory(prefix="derive-tex-", dir=tex_path.parent) as scratch:
        scratch = Path(scratch)
        shutil.copy(tex_path, scratch / tex_path.name)
        for extra in extra_files:
            shutil.copy(extra, scratch / Path(extra).name)
        # Until the references settle, not a fixed number of passes nor latexmk's judgement of file times,
        # which sometimes stopped a pass early: the same .tex then gave PDFs with other page numbers.
        settled = None
        for _ in range(MOST_PASSES):
            try:
                done = run_command(command + [tex_path.name], cwd=scratch, timeout=timeout, env=REPRODUCIBLE)
            except subprocess.TimeoutExpired as error:
                raise ReportError(f"{command[0]} took longer than {timeout:.0f} s") from error
            if done.returncode != 0:
                log = scratch / (tex_path.stem + ".log")
                text = log.read_text(errors="replace") if log.exists() else done.stdout
                if log.exists():
                    shutil.copy(log, tex_path.with_suffix(".log"))
                raise ReportError(f"{command[0]} failed on {tex_path.name}: {' | '.join(tex_errors(text))}"
                                  + (f" (the whole log: {tex_path.stem}.log)" if log.exists() else ""))
            references = _references(scratch, tex_path.stem)
            if references == settled:
                break
            settled = references
        pdf = tex_path.with_suffix(".pdf")
        write_atomic(pdf, (scratch / pdf.name).read_bytes())
    return pdf


def tex_errors(log: str, most: int = 6, widest: int = 160) -> list[str]:
    """What a TeX log says went wrong: each `! ...` line with the `l.NN ...` line that locates it.

    Not the log's tail, which is often font information; the last lines only
    when the log has no error line at all.
    """
    lines = log.splitlines()
    quoted = []
    for number, line in enumerate(lines):
        if not line.startswith("!"):
            continue
        quoted.append(line)
        for following in lines[number + 1:number + 16]:
            if following.startswith("!"):
                break
            if re.match(r"l\.\d+ ", following):
                quoted.append(following)
                break
    quoted = quoted or [line for line in lines if line.strip()][-3:]
    return [printable(line if len(line) <= widest else line[:widest - 3] + "...") for line in quoted[:most]]
