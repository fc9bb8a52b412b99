"""The exceptions derive raises; the CLI turns each into a one-line message and an exit code."""


class DeriveError(Exception):
    """Base of every error derive reports to its user."""

    exit_code = 2


class ModelError(DeriveError):
    """A model was asked for with bad options, or for a quantity it does not have."""


class ClaimError(DeriveError):
    """A claim could not be loaded or built: duplicate id, bad file, unknown claim id, failing claim code."""


class VerificationError(DeriveError):
    """A question could not be answered: unknown question type, shapes that do not match, no points."""


class ReportError(DeriveError):
    """The report could not be written or compiled (other than a missing TeX engine)."""


class TexMissingError(ReportError):
    """No TeX engine is installed: the .tex and .json were written, the PDF was not."""
