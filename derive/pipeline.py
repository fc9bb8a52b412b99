"""The main job, one stage per line: load claims -> verify -> render tex/json -> compile pdf."""
from __future__ import annotations

import dataclasses
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from derive import claims as claims_module
from derive import budget
from derive.errors import ClaimError, DeriveError, ReportError
from derive.evidence import Diagnosis, Verdict
from derive.notation import claimsfile
from derive.report import figures, json_report, pdf, tex
from derive.report.files import write_atomic
from derive.report.output import staged
from derive.terminal import printable
from derive.verify import Settings, verify
from derive.verify.diagnosis import diagnose

TITLE = "Hand derivations of RNN and LSTM gradients, checked claim by claim"


@dataclass(frozen=True)
class ReportConfig:
    """What `derive report` does: where to write, which claims, how hard to check."""

    output: Path = Path("output")
    patterns: tuple = ()  # claim ids or prefixes ("arbel.", "arbel.*"); empty: all
    files: tuple = ()  # claim files or folders; empty: the built-in checks
    settings: Settings = field(default_factory=Settings)
    pdf: bool = True
    jobs: int = 0  # worker processes for verification; 0: one per core
    verbosity: int = 1  # 0 quiet, 1 a line per stage and claim, 2 more
    title: str = TITLE


@dataclass
class ReportResult:
    results: list  # (claim, verdict) pairs
    written: list  # paths written
    pdf_error: str = ""  # why no PDF was made, when one was asked for and none was


def versions() -> dict:
    import mpmath
    import numpy
    import sympy

    from derive import __version__

    return {"derive": __version__, "python": platform.python_version(), "sympy": sympy.__version__,
            "numpy": numpy.__version__, "mpmath": mpmath.__version__}


class Progress:
    """One line per stage and per claim on standard error, unless quiet."""

    def __init__(self, verbosity: int):
        self.verbosity = verbosity
        self.started = time.monotonic()

    def __call__(self, message: str, level: int = 1) -> None:
        if self.verbosity >= level:
            print(f"[{time.monotonic() - self.started:6.1f}s] {printable(message)}", file=sys.stderr, flush=True)


def settle(claim, settings: Settings, question=None):
    """The claim's verdict, and for one that differs or agrees only when truncated, its diagnosis."""
    if question is None:
        budget.stage("reading")
        question = claim.question()
    verdict = verify(question, settings)
    budget.stage("diagnosis")
    try:
        diagnosis = diagnose(claim, question, verdict, settings)
    except budget.OverBudget:
        raise
    except Exception as error:  # noqa: BLE001 - a diagnosis that fails must not cost the verdict
        diagnosis = Diagnosis("", note=f"the diagnosis failed: {type(error).__name__}: {error}")
    return dataclasses.replace(verdict, diagnosis=diagnosis)


@dataclass(frozen=True)
class Failed:
    """A claim that could not be read or verified: why; `named`: the message names the claim (and its line)."""

    message: str
    named: bool = False


def _settled(claim, settings: Settings):
    """In the claim's child: (verdict, its reading with the engine's notes), or Failed."""
    budget.stage("reading")
    try:
        question = claim.question()
    except budget.OverBudget as refusal:
        return budget.refused(refusal), claim.reading
    except DeriveError as error:
        return Failed(str(error), named=True)
    except MemoryError:
        raise  # the claim's limit: derive.budget makes it undecided
    except Exception as error:  # noqa: BLE001 - a stranger's claim must not end the run with a traceback
        return Failed(f"the formula cannot be evaluated: {type(error).__name__}: {error}")
    try:
        verdict = settle(claim, settings, question)
    except budget.OverBudget as refusal:
        verdict = budget.refused(refusal)
    except OverflowError as error:  # exp(exp(z^64)): undecided, not an error of the claim
        verdict = budget.refused(budget.too_large(error))
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - a failing claim is named, never a traceback
        return Failed(f"verification failed: {type(error).__name__}: {error}")
    return verdict, claimsfile.reading_with_notes(claim)


def settle_all(claims: list, settings: Settings, jobs: int, progress: Progress) -> list:
    """(claim, Verdict or Failed) for every claim, in the claims' order, each claim in a child within its limits.

    The claim comes back with the engine's readings in its `reading`. `jobs` children run at a time (0: one
    per core); the run's deadline (settings.deadline, from the progress's start) ends what is left.
    """
    jobs = min(jobs or budget.cores(), len(claims)) or 1
    deadline = None if settings.deadline is None else progress.started + settings.deadline
    results: dict = {}

    def done(index, outcome, seconds):
        kind, value = outcome
        claim = claims[index]
        if kind == "ok" and isinstance(value, Failed):
            results[index] = (claim, value)
        elif kind == "ok":
            verdict, reading = value
            results[index] = (dataclasses.replace(claim, reading=reading), verdict)
        elif kind == "over":
            results[index] = (claim, value)
        else:
            results[index] = (claim, Failed(f"verification failed: {value}"))
        shown = results[index][1]
        state = f"{shown.status} ({shown.method}, {seconds:.1f}s)" if isinstance(shown, Verdict) else "failed"
        progress(f"  [{len(results):2d}/{len(claims)}] {claim.id}: {state}")

    budget.run_claims(len(claims), lambda index: _settled(claims[index], settings), jobs, settings.claim_budget,
                      settings.memory, deadline, done)
    return [results[index] for index in range(len(claims))]


def verify_all(claims: list, settings: Settings, jobs: int, progress: Progress) -> list:
    """(claim, verdict) for every claim, in the claims' order; a claim that cannot be verified is a ClaimError."""
    results = settle_all(claims, settings, jobs, progress)
    for claim, outcome in results:
        if isinstance(outcome, Failed):
            raise ClaimError(outcome.message if outcome.named else f"claim {claim.id}: {outcome.message}")
    return results


def load_claims(config: ReportConfig) -> list:
    claims = claims_module.select(claims_module.load_all(config.files or None), config.patterns)
    if not claims:
        raise ClaimError("no claims to check")
    return claims


def write_figures(results, output: Path, seed: int):
    """Draw each experiment's figure from its evidence: (files written, figure name -> LaTeX block)."""
    files, blocks = [], {}
    for claim, verdict in results:
        evidence = verdict.evidence
        name = getattr(evidence, "figure", None)
        if not name or evidence.series is None or name in blocks:
            continue
        path = output / f"fig-{name}.pdf"
        write_atomic(path, figures.render(name, evidence))
        files.append(path)
        blocks[name] = figures.block(name, path.name, evidence, seed, claim.id)
    return files, blocks


def write_report(results, output: Path, settings: Settings, title: str = TITLE, make_pdf: bool = True,
                 progress=None) -> ReportResult:
    """Figures, report.tex, report.json and (when asked and TeX is there) report.pdf of verified claims.

    A missing TeX engine, or TeX failing, is not an error here: the result says why there is no PDF.
    """
    progress = progress or Progress(0)
    output = Path(output)
    info = versions()
    figure_files, figure_blocks = write_figures(results, output, settings.seed)
    if figure_files:
        progress(f"drew {len(figure_files)} figures")
    tex_path, json_path = output / "report.tex", output / "report.json"
    write_atomic(tex_path, tex.render(results, title=title, settings=settings, versions=info, figures=figure_blocks))
    write_atomic(json_path, json_report.render(results, settings=settings, versions=info))
    progress(f"wrote {tex_path.name} and {json_path.name}")
    result = ReportResult(results, [tex_path, json_path, *figure_files])
    if make_pdf:
        progress("compiling the PDF")
        try:
            result.written.append(pdf.compile_pdf(tex_path, figure_files))
            progress("wrote report.pdf")
        except ReportError as error:
            result.pdf_error = str(error)
    return result


def run_report(config: ReportConfig) -> ReportResult:
    """The main job; raises DeriveError subclasses on bad input, returns what was written."""
    progress = Progress(config.verbosity)
    with staged(config.output) as folder:  # checked and locked before the work; swapped in whole at the end
        claims = load_claims(config)
        progress(f"loaded {len(claims)} claims from {len({c.source.key for c in claims})} sources")
        progress("verifying")
        results = verify_all(claims, config.settings, config.jobs, progress)
        result = write_report(results, folder.path, config.settings, config.title, config.pdf, progress)
        folder.commit()
    result.written = [config.output / path.name for path in result.written]
    progress(f"the report is in {config.output}")
    return result
