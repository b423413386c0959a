"""Reading the service's answer into a ``Report``: total over any input.

Any body ends in a ``Report`` or a ``GateError``; never in a stray exception. Errors can
arrive with HTTP 200, so the body decides: ``status: failed``, an ``error_code`` or a
missing ``result`` is an error.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping

from gate.errors import GateError, ReportError
from gate.metrics import METRICS
from gate.service_errors import ServiceAnswer, classify
from gate.structs import record
from gate.text import bidi_shown, encodable, one_line, preview


@record
class Report:
    """The ``result`` object of a refresh answer (JobReportInfo), as received."""

    fields: Mapping[str, object]

    def count(self, metric: str) -> int:
        """The value of a metric: the first field present, or ``ReportError`` if unreadable."""
        for field in METRICS[metric].fields:
            value = self.fields.get(field)
            if value is not None:
                return _as_count(value, metric, field)
        names = " or ".join(repr(f) for f in METRICS[metric].fields)
        raise ReportError(f"the report has no count for {metric!r} (field {names})")

    def readable_counts(self) -> dict[str, int]:
        """Every metric the report holds a valid count for, by friendly name."""
        counts = {}
        for name in METRICS:
            try:
                counts[name] = self.count(name)
            except ReportError:
                continue
        return counts

    @property
    def report_url(self) -> str | None:
        """The console link to the report, when the service gave a string."""
        url = self.fields.get("REPORT_URL")
        return bidi_shown(encodable(url)) if isinstance(url, str) and url else None

    @property
    def tools(self) -> tuple[str, ...]:
        """The engines the scan used (``TOOL_LIST``), strings only."""
        tools = self.fields.get("TOOL_LIST")
        if not isinstance(tools, list):
            return ()
        return tuple(bidi_shown(encodable(t)) for t in tools if isinstance(t, str))


def _as_count(value: object, metric: str, field: str) -> int:
    """A non-negative integer, or an integer-valued decimal string such as ``"3"``."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        with contextlib.suppress(ValueError):  # past int()'s digit limit: not a count either
            return int(value)
    if isinstance(value, float) and not math.isfinite(value):  # 1e400 decodes as inf
        raise ReportError(
            f"the count for {metric!r} (field {field!r}) is a number too large to hold "
            "(it overflows a double, e.g. 1e400): not a count"
        )
    shown = one_line(repr(value), 60)
    raise ReportError(
        f"the count for {metric!r} (field {field!r}) is not a whole number >= 0: {shown}"
    )


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


class DuplicateKeyError(ValueError):
    """An object names the same key twice: which value counts is anyone's guess."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """An object whose keys are unique; a repeated key (a count twice) is an error."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise DuplicateKeyError(f"the key {one_line(repr(key), 60)} appears twice")
            seen.add(key)
    return obj


def decode_json(body: bytes, content_type: str | None = None) -> object:
    """Decode a JSON body strictly (no NaN/Infinity, no key twice in an object: an ambiguous
    answer never passes); ``ReportError`` naming what came instead."""
    try:
        return json.loads(body, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except DuplicateKeyError as err:
        raise ReportError(f"the answer is ambiguous: {err}") from err
    except (ValueError, RecursionError) as err:
        kind = f"a {one_line(content_type, 60)} body" if content_type else "a body"
        shown = preview(body) if body else "(empty)"
        raise ReportError(f"expected the report as JSON, got {kind} that is not: {shown}") from err


def envelope_error(
    payload: Mapping[str, object],
    status: int,
    request_id: str | None,
    source: str | None = None,
) -> GateError:
    """The error an envelope reports (HTTP 200 included); ``source`` says where it was read
    when that was not the service's answer (a saved file)."""
    code, msg = payload.get("error_code"), payload.get("error_msg")
    rid = payload.get("request_id", request_id)
    return classify(
        ServiceAnswer(
            status=status,
            error_code=code if isinstance(code, str) else None,
            error_msg=msg if isinstance(msg, str) else "status: failed",
            request_id=rid if isinstance(rid, str) else None,
            source=source,
        )
    )


def is_error_envelope(payload: Mapping[str, object]) -> bool:
    """An answer that says it failed, whatever its HTTP status. A success answer carrying
    ``"error_code": null`` (or an empty code) does not."""
    return payload.get("error_code") not in (None, "") or payload.get("status") == "failed"


def report_from_payload(
    payload: object,
    *,
    status: int = 200,
    request_id: str | None = None,
    allow_bare: bool = False,
    source: str | None = None,
) -> Report:
    """The report in a decoded body: its ``result``, or (from a file) a bare result object."""
    if not isinstance(payload, dict):
        raise ReportError(f"expected a JSON object, got {type(payload).__name__}")
    if is_error_envelope(payload):
        raise envelope_error(payload, status, request_id, source)
    if "result" in payload:
        return _result_of(payload)
    if allow_bare and not ({"status", "httpStatus"} & payload.keys()):
        return Report(payload)
    raise ReportError("the answer has no 'result': the report was not refreshed synchronously")


def _result_of(payload: Mapping[str, object]) -> Report:
    status = payload.get("status", "success")
    if status != "success":
        raise ReportError(f"the answer's status is {one_line(repr(status), 60)}, not 'success'")
    result = payload["result"]
    if not isinstance(result, dict):
        raise ReportError(f"the answer's 'result' is {type(result).__name__}, not an object")
    return Report(result)
