"""Command line: `derive report` (the main job), `derive list` and `derive check`; one-line errors and exit codes.

Exit codes: 0 done; 1 the report was written but its PDF was not (no TeX
engine, or TeX failed); 2 unusable input (bad option, unknown claim, broken
claims file) or an unusable output folder (a file, read-only, full, or being
written by another run); 128 + the signal's number when interrupted: 130 SIGINT (Ctrl-C), 143 SIGTERM, 129 SIGHUP, the output
folder then left as it was. A claim whose process dies, or that runs out of
time or memory, is undecided, not an error. `derive check` has its own (derive.check):
0 all claims read and every `expect` met, 1 otherwise, 2 unusable input.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from derive import lifetime
from derive.errors import DeriveError, ReportError
from derive.terminal import printable

DESCRIPTION = """\
derive checks hand derivations of RNN and LSTM gradients against the exact
mathematics: every claim transcribed from the source articles is verified
symbolically (SymPy, under a time budget), numerically (30-digit evaluation at
seeded random points) or by a measured experiment, and the verdicts are written
as a LaTeX/PDF report and a JSON file."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on standard error and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _whole_number(minimum: int):
    """An argparse type: a whole number of at least `minimum`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number of at least {minimum}, got {value}")
        return value
    return parse


_positive_int, _nonnegative_int = _whole_number(1), _whole_number(0)


def _seconds(most: float):
    """An argparse type: a finite, positive number of seconds, at most `most`."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
        if not 0 < value <= most:  # also refuses nan and inf
            raise argparse.ArgumentTypeError(f"expected a positive number of seconds of at most {most:g}, got {text}")
        return value
    return parse


def _memory(text: str) -> int:
    from derive.budget import LEAST_MEMORY, MOST_MEMORY, memory_text, parse_memory

    try:
        value = parse_memory(text)
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"expected a size such as 2G or 512M, got {text!r}") from None
    if not LEAST_MEMORY <= value <= MOST_MEMORY:
        raise argparse.ArgumentTypeError(f"expected a size between {memory_text(LEAST_MEMORY)} and "
                                         f"{memory_text(MOST_MEMORY)}, got {text}")
    return value


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--claims", nargs="+", metavar="ID", default=[],
                        help="only these claims: exact ids (arbel.D_t) or prefixes ending in '.' or '*' "
                             "(arbel., cv-lstm.*); default: all")
    parser.add_argument("--file", nargs="+", metavar="PATH", default=[], dest="files",
                        help="claims modules (.py), claims files (.toml) or folders of them, to check instead of the built-in "
                             "claims of the source articles")


def _add_checking(parser: argparse.ArgumentParser, quick: bool) -> None:
    """The options that say how hard to check: seed, points, digits, proof budget, workers (and --quick)."""
    parser.add_argument("--seed", type=_nonnegative_int, default=20240531,
                        help="seed of the random points and experiments (default: 20240531)")
    parser.add_argument("--points", type=_positive_int, default=None,
                        help="random points per numeric comparison (default: 200" + ("; 50 with --quick)" if quick else ")"))
    if quick:
        parser.add_argument("--quick", action="store_true",
                            help="a fast preview: experiments with fewer draws and shorter spans, 50 points")
    parser.add_argument("--digits", type=_positive_int, default=30,
                        help="significant digits of the numeric comparisons (default: 30; at least 20)")
    parser.add_argument("--budget", type=_seconds(3600), default=10.0, metavar="SECONDS",
                        help="processor time of each symbolic proof attempt (default: 10)")
    parser.add_argument("--claim-budget", type=_seconds(86400), default=120.0, metavar="SECONDS",
                        help="wall-clock time for a whole claim, from reading to diagnosis; a claim over it is "
                             "undecided (default: 120)")
    parser.add_argument("--memory", type=_memory, default=2 * 1024 ** 3, metavar="SIZE",
                        help="memory (address space) of each process that verifies a claim, e.g. 2G or 512M; a "
                             "claim over it is undecided (default: 2G)")
    parser.add_argument("--deadline", type=_seconds(7 * 86400), default=None, metavar="SECONDS",
                        help="end of the whole run: claims not verified by then are undecided, and the results "
                             "are still written (default: none)")
    parser.add_argument("--jobs", type=_nonnegative_int, default=0,
                        help="claims verified at once, each in a process of its own (default: 0, one per core; "
                             "at most the number of cores)")


def _jobs(requested: int) -> int:
    """--jobs, at most one per core (saying so on standard error when more were asked for)."""
    from derive.budget import cores as count_cores

    cores = count_cores()
    if requested > cores:
        print(f"derive: --jobs {requested} is more than the {cores} cores; using {cores}", file=sys.stderr)
        return cores
    return requested


def _settings(args):
    """The Settings the checking options ask for; the tolerance needs at least 20 digits."""
    from derive.verify import Settings

    if args.digits < 20:
        raise DeriveError(f"--digits must be at least 20 (got {args.digits}): the tolerance is 10^-(digits-10)")
    quick = getattr(args, "quick", False)
    return Settings(points=args.points or (50 if quick else 200), digits=args.digits, seed=args.seed,
                    budget=args.budget, quick=quick, claim_budget=args.claim_budget, memory=args.memory,
                    deadline=args.deadline)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description=DESCRIPTION,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from derive import __version__

    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    report = commands.add_parser(
        "report", help="verify the claims and write output/report.tex, report.pdf and report.json",
        description="Verify every claim and write the report: report.tex, report.pdf (with "
                    "pdflatex) and report.json, in the output folder. Without a TeX engine the .tex and "
                    ".json are still written and the exit code is 1, unless --no-pdf is given.")
    report.add_argument("-o", "--output", type=Path, default=Path("output"), metavar="DIR",
                        help="folder for report.tex, report.pdf and report.json (default: output)")
    _add_selection(report)
    _add_checking(report, quick=True)
    report.add_argument("--no-pdf", action="store_true", help="write report.tex and report.json only")
    verbosity = report.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="print more detail")

    listing = commands.add_parser("list", help="list the claims with their sources",
                                  description="List the claims (id, source, where) without checking them.")
    _add_selection(listing)
    _add_check(commands)
    return parser


CHECK_DESCRIPTION = """\
Check claims files: TOML files whose claims are written in the articles' LaTeX
notation (see the README, "Check your own derivation"). Prints a table (id,
verdict, method, expectation, one line of evidence). Exit codes: 0 every claim
was read and every `expect` met; 1 a claim could not be read or verified, or an
expectation was not met (or the PDF of --report could not be made); 2 unusable
input (unreadable, not a claims file, too large) or --report folder."""


def _add_check(commands) -> None:
    check = commands.add_parser("check", help="check claims files written in the articles' LaTeX notation",
                                description=CHECK_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("files", nargs="*", type=Path, metavar="FILE", help="claims files (.toml)")
    check.add_argument("--stdin", action="store_true", help="read one claims file from standard input")
    check.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    check.add_argument("--report", type=Path, metavar="DIR",
                       help="also write report.tex, report.json and report.pdf of these claims into DIR")
    check.add_argument("--no-pdf", action="store_true", help="with --report: write report.tex and report.json only")
    check.add_argument("--fix", action="store_true",
                       help="write beside each FILE a copy, FILE.fixed.toml, with every correction the diagnosis "
                            "found written into its latex (or define) field and a comment saying what changed")
    _add_checking(check, quick=False)
    check.add_argument("-v", "--verbose", action="store_true", help="print a line per claim as it is verified")


def _report(args) -> int:
    from derive.pipeline import ReportConfig, run_report

    settings = _settings(args)
    config = ReportConfig(output=args.output, patterns=tuple(args.claims), files=tuple(args.files),
                          settings=settings, pdf=not args.no_pdf, jobs=_jobs(args.jobs),
                          verbosity=0 if args.quiet else 2 if args.verbose else 1)
    result = run_report(config)
    if result.pdf_error:
        print(f"derive: report.tex and report.json written, no PDF: {printable(result.pdf_error)}", file=sys.stderr)
        return 1
    return 0


def _list(args) -> int:
    from derive import claims

    for claim in claims.select(claims.load_all(args.files or None), args.claims):
        print(printable(f"{claim.id:34s} {claim.source.key:12s} {claim.where}", newlines=False))
    return 0


def _check(args) -> int:
    from derive import check
    from derive.notation import claimsfile

    settings = _settings(args)
    if not args.files and not args.stdin:
        raise DeriveError("check needs claims files, or --stdin to read one from standard input")
    if args.no_pdf and args.report is None:
        raise DeriveError("--no-pdf goes with --report")
    if args.fix and args.stdin:
        raise DeriveError("--fix writes a corrected copy beside each claims file; it cannot fix standard input")
    stdin = sys.stdin.buffer.read(claimsfile.LARGEST_FILE + 1) if args.stdin else None
    return check.run(args.files, stdin, settings, jobs=_jobs(args.jobs), as_json_output=args.json, report=args.report,
                     make_pdf=not args.no_pdf, verbosity=1 if args.verbose else 0, fix=args.fix)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with lifetime.signals_handled():
            return {"report": _report, "list": _list, "check": _check}[args.command](args)
    except ReportError as error:
        print(f"derive: {printable(error)}", file=sys.stderr)
        return 1
    except DeriveError as error:
        print(f"derive: error: {printable(error)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as interrupt:  # derive.errors.Interrupted for SIGTERM and SIGHUP too
        print(f"derive: interrupted ({getattr(interrupt, 'signal_name', 'SIGINT')})", file=sys.stderr)
        return getattr(interrupt, "exit_code", 130)
