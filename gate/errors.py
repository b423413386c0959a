"""The one exception root of codearts-gate and the one map from outcomes to exit codes.

Every failure the gate knows about is a ``GateError`` subclass that carries its exit
code and a short ``kind`` used in the machine-readable outputs. Nothing else in the
package decides an exit code.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The exit-code contract, documented in the README and ``--help``."""

    PASSED = 0
    GATE_FAILED = 1
    USAGE = 2
    CREDENTIALS_REFUSED = 3
    NO_VERDICT = 4
    INTERRUPTED = 130
    """SIGINT (Ctrl-C) ended the run: 128 + 2, as shells report it. Not retried."""
    TERMINATED = 143
    """SIGTERM (a cancelled job, ``docker stop``) ended the run: 128 + 15. Not retried."""


EXIT_CODE_MEANINGS = {
    ExitCode.PASSED: "the gate passed (or --on-error warn and no verdict was reached)",
    ExitCode.GATE_FAILED: "the gate failed: at least one count is over its maximum",
    ExitCode.USAGE: "usage or configuration error; nothing was sent",
    ExitCode.CREDENTIALS_REFUSED: "the service refused the credentials or the permission",
    ExitCode.NO_VERDICT: "no verdict: network, timeout, service error, unreadable report",
    ExitCode.INTERRUPTED: "stopped by SIGINT (Ctrl-C); the outputs were written",
    ExitCode.TERMINATED: "stopped by SIGTERM (a cancelled job); the outputs were written",
}
"""Each exit code in a few words, for ``--help``; only 4 is worth a retry."""

SIGNAL_EXIT_CODES = {2: ExitCode.INTERRUPTED, 15: ExitCode.TERMINATED}
"""Signal number to exit code, for the signals the gate ends on (SIGINT, SIGTERM)."""


class GateError(Exception):
    """Root of every error the gate reports; ``str(err)`` is the one-line message."""

    exit_code: ExitCode = ExitCode.NO_VERDICT
    kind: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} -- {self.hint}" if self.hint else self.message


class UsageError(GateError):
    """Bad flags, bad values, missing configuration: nothing was sent."""

    exit_code = ExitCode.USAGE
    kind = "usage"


class CredentialsError(GateError):
    """The service refused the credentials or the permission. ``identity`` is True when
    it refused who is calling (401, a bad token or signature), False for a permission."""

    exit_code = ExitCode.CREDENTIALS_REFUSED
    kind = "credentials"

    def __init__(self, message: str, *, hint: str | None = None, identity: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.identity = identity


class ServiceError(GateError):
    """The service answered with an error that is not about credentials."""

    kind = "service"


class TransientServiceError(ServiceError):
    """An answer worth retrying (429, 5xx, the service's own "retry later" codes)."""

    def __init__(
        self, message: str, *, hint: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class NetworkError(GateError):
    """The service could not be reached: DNS, connection, TLS, proxy."""

    kind = "network"


class TransientNetworkError(NetworkError):
    """A connection-level failure worth retrying."""


class DeadlineError(GateError):
    """The overall ``--timeout`` ran out before a report was had."""

    kind = "timeout"


class ScanError(GateError):
    """The scan did not succeed: its check failed, it was stopped, or it never ran."""

    kind = "scan"


class ReportError(GateError):
    """The body is not the documented report, or a count the policy needs is unreadable."""

    kind = "report"


class Interrupted(GateError):
    """The run was stopped by a signal (SIGTERM from a cancelled job, Ctrl-C). It exits as
    a shell reports a process that signal ended (130, 143), after writing the outputs, so
    that a retry loop (which retries 4) never restarts a scan the user cancelled."""

    kind = "interrupted"

    def __init__(self, message: str, *, signum: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = SIGNAL_EXIT_CODES.get(signum, ExitCode.NO_VERDICT)


class OutputError(GateError):
    """An output file that was asked for cannot be written."""

    exit_code = ExitCode.USAGE
    kind = "output"


class CommentError(GateError):
    """The pull/merge request comment could not be written (never changes the verdict)."""

    kind = "comment"


class BaselineError(GateError):
    """A baseline was asked for and cannot be had: no verdict, never a silent pass."""

    kind = "baseline"


def final_exit_code(code: ExitCode, *, warn_on_error: bool) -> ExitCode:
    """Apply ``--on-error warn``: a run with no verdict (3 or 4) exits 0 instead; a run a
    signal ended (130, 143) keeps its code: the user cancelled it."""
    no_verdict = code in (ExitCode.CREDENTIALS_REFUSED, ExitCode.NO_VERDICT)
    return ExitCode.PASSED if warn_on_error and no_verdict else code
