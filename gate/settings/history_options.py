"""``--baseline``, ``--baseline-optional``, ``--max-increase`` and the suppressions."""

from __future__ import annotations

import sys

from gate.errors import UsageError
from gate.settings.files import read_text_nowait
from gate.settings.raw import RawOptions
from gate.structs import record
from gate.text import one_line

TYPE_CHECKING = False
if TYPE_CHECKING:  # baselines and suppressions load only for the runs that have them
    from typing import Any

    from gate.suppressions import Suppression

SYNC_MODES = {"dry-run": "dry-run", "true": "dry-run", "apply": "apply"}


@record
class SuppressionSettings:
    """``--suppressions``: the entries read, where from, and ``--sync-suppressions``."""

    entries: tuple[Suppression, ...] = ()
    source: str | None = None
    sync: str | None = None
    """None (never by default), ``dry-run`` (say what would change) or ``apply``."""


def baseline_options(raw: RawOptions, offline: bool, optional: bool) -> dict[str, Any]:
    """``--baseline``, ``--baseline-optional``, ``--max-increase``, the suppressions."""
    from gate.settings.build import job_id_of  # noqa: PLC0415 - build imports this module

    spec = None
    if raw.baseline:
        from gate.baseline import spec_of  # noqa: PLC0415 - only when a baseline is asked for

        spec = spec_of(raw.baseline)
    if raw.max_increase and spec is None:
        raise UsageError("--max-increase compares with a baseline: set --baseline too")
    if spec is not None and spec.kind != "file" and offline:
        raise UsageError(f"--baseline {spec.kind} asks the service: use file:PATH offline")
    if spec is not None and spec.kind == "previous" and not raw.task_id:
        raise UsageError("--baseline previous reads the task's history: set --task-id")
    if spec is not None and spec.kind == "job":
        job_id_of(spec.value)
    return {
        "baseline": spec,
        "baseline_optional": optional,
        "suppressions": suppression_settings_of(raw, offline),
    }


def suppression_settings_of(raw: RawOptions, offline: bool) -> SuppressionSettings:
    """The suppressions file read and checked; ``--sync-suppressions``' mode."""
    sync_text = (raw.sync_suppressions or "").strip().lower()
    if sync_text in ("", "false", "0", "no", "off"):
        sync = None
    elif sync_text in SYNC_MODES:
        sync = SYNC_MODES[sync_text]
    else:
        shown = one_line(repr(raw.sync_suppressions), 60)
        raise UsageError(f"--sync-suppressions takes no value (a dry run) or 'apply', got {shown}")
    if not raw.suppressions and not raw.suppress:
        if sync:
            raise UsageError(
                "--sync-suppressions needs suppressions: [[suppress]] entries in the config "
                "file, or --suppressions"
            )
        return SuppressionSettings()
    if offline or not raw.task_id:
        raise UsageError(
            "suppressions ([[suppress]], --suppressions) judge the defect list: each needs "
            "--task-id and the service"
        )
    if raw.suppressions:  # a file named on purpose beats the config file's entries
        return SuppressionSettings(read_suppressions(raw.suppressions), raw.suppressions, sync)
    return SuppressionSettings(raw.suppress, raw.config or "codearts-gate.toml", sync)


def read_suppressions(path: str) -> tuple[Suppression, ...]:
    """The ``[[suppress]]`` entries of a TOML file; a usage error naming what is wrong."""
    if sys.version_info >= (3, 11):  # imported here: only a run with suppressions reads TOML
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # noqa: PLC0415
    name = f"--suppressions {one_line(repr(path), 200)}"
    try:
        data = tomllib.loads(read_text_nowait(path))
    except (OSError, ValueError) as err:  # TOMLDecodeError and UnicodeDecodeError included
        reason = getattr(err, "strerror", None) or one_line(str(err), 200)
        raise UsageError(f"cannot read {name}: {reason}") from None
    from gate.suppressions import suppressions_from_toml  # noqa: PLC0415 - only with a file

    return suppressions_from_toml(data, name)
