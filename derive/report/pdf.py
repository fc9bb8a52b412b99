"""Compiling report.tex into report.pdf with latexmk, or pdflatex run twice."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from derive.errors import ReportError, TexMissingError
from derive.report.files import write_atomic

INSTALL_HINT = ("install a TeX engine, e.g. on Debian/Ubuntu: apt-get install texlive-latex-base "
                "texlive-latex-recommended texlive-fonts-recommended lmodern latexmk "
                "(or run `make report`, which does it when run as root)")


# pdfTeX stamps the PDF with the time unless told otherwise: a fixed date makes the PDF reproducible too.
REPRODUCIBLE = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "FORCE_SOURCE_DATE": "1"}


def engine() -> list[str] | None:
    """The command that compiles a .tex file here, or None when no TeX engine is installed."""
    if shutil.which("latexmk") and shutil.which("pdflatex"):
        return ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet"]
    if shutil.which("pdflatex"):
        return ["pdflatex", "-interaction=nonstopmode", "-halt-on-error"]
    return None


def compile_pdf(tex_path: Path, extra_files=(), timeout: float = 300) -> Path:
    """Compile `tex_path` in a scratch folder and move the PDF beside it atomically."""
    command = engine()
    if command is None:
        raise TexMissingError(f"no TeX engine found: {INSTALL_HINT}")
    tex_path = Path(tex_path)
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as scratch:
        scratch = Path(scratch)
        shutil.copy(tex_path, scratch / tex_path.name)
        for extra in extra_files:
            shutil.copy(extra, scratch / Path(extra).name)
        runs = 1 if command[0] == "latexmk" else 2  # pdflatex twice, for the table widths and links
        for _ in range(runs):
            try:
                done = subprocess.run(command + [tex_path.name], cwd=scratch, capture_output=True, text=True,
                                      timeout=timeout, env=REPRODUCIBLE)
            except subprocess.TimeoutExpired as error:
                raise ReportError(f"{command[0]} took longer than {timeout:.0f} s") from error
            if done.returncode != 0:
                log = scratch / (tex_path.stem + ".log")
                tail = log.read_text(errors="replace").splitlines()[-25:] if log.exists() else done.stdout.splitlines()[-25:]
                errors = [line for line in tail if line.startswith("!")] or tail[-3:]
                raise ReportError(f"{command[0]} failed on {tex_path.name}: {' | '.join(errors)}")
        pdf = tex_path.with_suffix(".pdf")
        write_atomic(pdf, (scratch / pdf.name).read_bytes())
    return pdf
