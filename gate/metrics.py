"""The counts a gate can judge, by friendly lower-case name.

The service reports severities under two namings. The trap: upper-case ``CRITICAL`` is
the legacy name of *major*; critical issues are ``critical`` or legacy ``FATAL``. Each
metric lists the fields to read, preferred first.
"""

from __future__ import annotations

from gate.structs import record


@record
class Metric:
    """A count in the report: its friendly name, the fields holding it, a description."""

    name: str
    fields: tuple[str, ...]
    description: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("critical", ("critical", "FATAL"), "critical issues"),
        Metric("major", ("major", "CRITICAL"), "major issues"),
        Metric("minor", ("minor", "GENERAL"), "minor issues"),
        Metric("suggestion", ("suggestion", "PROMPT"), "suggestions"),
        Metric("new", ("UNRESOLVED_ADD",), "new unresolved issues"),
        Metric("unresolved", ("UNRESOLVED",), "unresolved issues"),
        Metric("new-all", ("NEW",), "new issues, resolved or not"),
        Metric("standard-new", ("STANDARD_NEW",), "new issues (official version)"),
        Metric("standard-fixed", ("STANDARD_FIXED",), "fixed issues (official version)"),
        Metric("standard-dismissed", ("STANDARD_DISMISSED",), "ignored issues (official)"),
        Metric("resolved", ("RESOLVED",), "resolved issues"),
        Metric("fixed", ("FIX",), "fixed issues"),
        Metric("ignored", ("IGNORE",), "ignored issues"),
        Metric("confirmed", ("COMFIRM",), "confirmed issues"),
        Metric("deferred", ("DELAYSTATUS_COUNT",), "deferred issues"),
        Metric("deferred-critical", ("delay_critical",), "deferred critical issues"),
        Metric("deferred-major", ("delay_major",), "deferred major issues"),
        Metric("deferred-minor", ("delay_minor",), "deferred minor issues"),
        Metric("deferred-suggestion", ("delay_suggestion",), "deferred suggestions"),
        Metric("code-size", ("CODE_SIZE",), "lines of code"),
        Metric("ncloc", ("UCC_NBNC",), "non-blank, non-comment lines"),
        Metric("files", ("FILE_TOTAL",), "files"),
    )
}

# The checks every run makes unless switched off, in display order.
DEFAULT_MAXIMUMS: dict[str, int] = {"critical": 0, "major": 0, "new": 0}


def metric_help() -> str:
    """One line per metric, for ``--help`` and the README."""
    return "\n".join(
        f"{m.name}: {m.description} ({' / '.join(m.fields)})" for m in METRICS.values()
    )
