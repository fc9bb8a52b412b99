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


class OutputError(DeriveError):
    """The output folder cannot take the report: a file stands in its place, it is read-only or full, or
    another run is writing it. Checked before any work; raised too when writing fails for lack of space
    or permission, the folder then left as it was."""


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP arrived (derive.lifetime): the run stops, its children end, nothing is written.

    A KeyboardInterrupt, not a DeriveError, on purpose: no `except Exception` fallback may swallow it.
    """

    def __init__(self, signal_number: int):
        import signal

        super().__init__(signal.Signals(signal_number).name)
        self.signal_name = signal.Signals(signal_number).name
        self.exit_code = 128 + signal_number  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


class OverBudget(ClaimError):
    """A guard refused work beyond derive's limits (derive.budget): the claim is undecided, saying why.

    `stage` names the stage that refused (reading, numeric evaluation, ...), `note` what was measured.
    """

    def __init__(self, stage: str, note: str):
        super().__init__(note)
        self.stage, self.note = stage, note


class ClaimsFileError(ClaimError):
    """A claims file (.toml) cannot be used at all: unreadable, not TOML, unknown keys, bad model options."""


class ModelSpecError(ClaimsFileError):
    """A [model] table's `state`, `inputs` or `truncate` names something the equations do not allow.

    `key` and `value` (the entry as written) let the claims file loader point at it.
    """

    def __init__(self, message: str, key: str = "", value: str = ""):
        super().__init__(message)
        self.message, self.key, self.value = message, key, value


class InputTooLargeError(ClaimsFileError):
    """A claims file, a formula or a range in it exceeds derive's limits; it is refused before any work."""


class NotationError(ClaimError):
    """A formula in the articles' notation cannot be read; `position` is the offending character's offset.

    The formula text and position let the claims file loader name the line and
    column and draw a caret under the culprit.
    """

    def __init__(self, message: str, position: int | None = None, formula=None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.formula = formula  # the derive.parser.Formula the position refers to


class FormulaSyntaxError(NotationError):
    """The formula does not follow the notation's grammar (derive/notation_grammar.lark)."""


class UnknownSymbolError(NotationError):
    """A symbol the claim's model does not know; the message lists the ones it knows."""


class ShapeMismatchError(NotationError):
    """Two operands, or the two sides of a claim, have shapes that do not fit together."""
