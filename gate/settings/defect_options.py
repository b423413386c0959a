"""The per-defect outputs and what to fetch for them."""

from __future__ import annotations

from gate.defects import SEVERITIES, default_severities
from gate.errors import UsageError
from gate.policy import Policy
from gate.settings.raw import RawOptions
from gate.structs import record, replace


@record
class DefectSettings:
    """The per-defect outputs asked for and what to fetch for them."""

    sarif: str | None = None
    codequality: str | None = None
    junit_defects: str | None = None
    wanted: bool = False
    severities: tuple[str, ...] = ("critical", "major")
    path_prefix: str | None = None
    chosen: bool = False
    """True when ``--defect-severity`` was given (else: those with a maximum)."""
    task: str | None = None
    """In a step of several tasks, the task whose part of each file is written here."""
    tasks: int = 1
    """How many tasks' parts the files hold (they share GitHub's SARIF size limit)."""
    folder: str | None = None
    """The task's folder in the repository (``path``): its defect paths are mapped under it."""

    def paths(self) -> dict[str, str]:
        """Format name (as in the flag) to path, for the per-defect files asked for."""
        pairs = {
            "sarif": self.sarif,
            "codequality": self.codequality,
            "junit-defects": self.junit_defects,
        }
        return {name: path for name, path in pairs.items() if path}

    def requested(self) -> bool:
        """True when defects are to be fetched: ``--defects`` or a per-defect file."""
        return self.wanted or bool(self.paths())


def defect_outputs_of(raw: RawOptions) -> DefectSettings:
    """The per-defect output paths, readable even when the rest of the options are not."""
    return DefectSettings(
        sarif=raw.sarif or None,
        codequality=raw.codequality or None,
        junit_defects=raw.junit_defects or None,
    )


def defect_settings_of(raw: RawOptions, policy: Policy) -> DefectSettings:
    """The per-defect outputs, the severities to fetch and the path prefix to strip."""
    metrics = [threshold.metric for threshold in policy.thresholds]
    return replace(
        defect_outputs_of(raw),
        wanted=raw.defects,
        severities=defect_severities_of(raw.defect_severity, metrics),
        path_prefix=(raw.path_prefix_strip or "").strip() or None,
        chosen=bool((raw.defect_severity or "").strip()),
    )


def defect_severities_of(text: str | None, metrics: list[str]) -> tuple[str, ...]:
    """``--defect-severity``: comma-separated names or ``all``; default: those with a threshold."""
    if not text or not text.strip():
        return default_severities(metrics)
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    if names == {"all"}:
        return SEVERITIES
    unknown = sorted(names - set(SEVERITIES))
    if unknown or not names:
        valid = ", ".join(SEVERITIES)
        raise UsageError(f"--defect-severity: unknown {unknown!r}; use {valid} or all")
    return tuple(s for s in SEVERITIES if s in names)
