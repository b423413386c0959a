"""The config file, ``codearts-gate.toml``: found, read, and checked key by key.

Its keys are the long option names. Everything in it is untrusted: an unknown key, a
wrong type, a secret, a file that is not TOML or not UTF-8, too large or too deep, is a
``UsageError`` naming the file, the line and the key, never a traceback. ``tomllib``
(``tomli`` before Python 3.11) is imported only when there is a file to read.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from gate.errors import UsageError
from gate.settings.files import read_bytes_nowait
from gate.settings.provenance import ConfigFile
from gate.settings.registry import BY_NAME, Setting, suggestion
from gate.structs import record
from gate.text import one_line

MAX_BYTES = 256 * 1024
"""A policy file is a few dozen lines; anything this large is not one."""
MAX_NUMBER = 10**12
"""Far above any count or timeout: a larger number is a mistake, not a setting."""


@record
class FileValue:
    """One setting read from the file: its value for ``RawOptions`` and its line."""

    value: object
    line: int


def read_text(config: ConfigFile) -> str:
    """The file's text: UTF-8, a byte-order mark allowed, at most ``MAX_BYTES``."""
    name = one_line(config.shown, 200)
    try:
        data = read_bytes_nowait(config.path, MAX_BYTES + 1)
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or "not a readable path"
        raise UsageError(f"cannot read the config file {name}: {reason}") from None
    if len(data) > MAX_BYTES:
        raise UsageError(f"the config file {name} is over {MAX_BYTES // 1024} KiB: not a config")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UsageError(
            f"the config file {name} is not UTF-8 text (byte {err.start} cannot be decoded)"
        ) from None


def parse(text: str, shown: str) -> dict[str, Any]:
    """The TOML document; a syntax error, a key given twice or nesting too deep is exit 2."""
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415 - only when there is a file
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # noqa: PLC0415
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as err:
        raise UsageError(
            f"the config file {one_line(shown, 200)} is not valid TOML: {err}"
        ) from None
    except (RecursionError, ValueError, MemoryError):
        raise UsageError(
            f"the config file {one_line(shown, 200)} cannot be read as settings (nested too "
            "deeply, or a value out of range)"
        ) from None


def line_of(text: str, key: str) -> int:
    """The line where ``key`` is set (``key = ...``, quoted or not), 1-based; 0 if unseen."""
    pattern = re.compile(rf"""^\s*(["']?){re.escape(key)}\1\s*=""")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 0


def toml_type(value: object) -> str:
    """The TOML type name of a parsed value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    kinds = {float: "float", str: "str", list: "list", dict: "table"}
    for kind, name in kinds.items():
        if isinstance(value, kind):
            return name
    import datetime  # noqa: PLC0415 - a date or time in the file: rare, and only then

    if isinstance(value, datetime.date | datetime.time):
        return "date"
    return type(value).__name__


TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "list": "a list",
    "table": "a table",
    "date": "a date",
}


SUPPRESS = "suppress"
"""The ``[[suppress]]`` tables: defects accepted for a while, each with a reason."""
_SUPPRESS_HEADER = re.compile(r"^\s*\[\[\s*suppress\s*\]\]")


def _first_header(text: str) -> int:
    """The line of the first ``[[suppress]]`` header, 1-based; 0 if unseen."""
    return next((n for n, ln in enumerate(text.splitlines(), 1) if _SUPPRESS_HEADER.match(ln)), 0)


TASKS = "tasks"
"""The ``[[tasks]]`` tables: several tasks in one step, each with its own thresholds."""
TASK_KEYS = ("id", "name", "path")
TASK_SETTINGS: tuple[str, ...] = (
    "max-critical",
    "max-major",
    "max-new",
    "max",
    "policy",
    *(f"warn-{m}" for m in ("critical", "major", "minor", "suggestion", "new")),
    "warn",
)
MAX_TASKS = 50


@record
class TaskTable:
    """One ``[[tasks]]`` table: the task, its name and folder, and its own thresholds (as
    ``RawOptions`` field and value pairs)."""

    id: str
    name: str | None
    path: str | None
    overrides: tuple[tuple[str, object], ...]
    line: int


def read_settings(config: ConfigFile) -> dict[str, FileValue]:
    """Every key of the file as a ``RawOptions`` field and value, each checked."""
    text = read_text(config)
    data = parse(text, config.shown)
    found = {}
    for key, value in data.items():
        where = f"{one_line(config.shown, 200)}:{line_of(text, key) or '?'}"
        if key == SUPPRESS:  # [[suppress]] entries: checked as --suppressions' file is
            from gate.suppressions import suppressions_from_toml  # noqa: PLC0415 - only here

            entries = suppressions_from_toml({SUPPRESS: value}, one_line(config.shown, 200))
            found["suppress"] = FileValue(entries, line_of(text, key) or _first_header(text))
            continue
        if key == TASKS:
            line = next(
                (n for n, ln in enumerate(text.splitlines(), 1) if _TASK_HEADER.match(ln)),
                line_of(text, key),
            )
            found[TASKS] = FileValue(task_tables(value, text, config.shown), line)
            continue
        setting = checked_key(key, where)
        found[setting.field] = FileValue(value_of(setting, value, where), line_of(text, key))
    return found


def task_tables(value: object, text: str, shown: str) -> tuple[TaskTable, ...]:
    """The ``[[tasks]]`` tables, each checked: an ``id``, an optional ``name`` and
    ``path``, and only thresholds besides."""
    headers = [n for n, line in enumerate(text.splitlines(), 1) if _TASK_HEADER.match(line)]
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise UsageError(f"{one_line(shown, 200)}: 'tasks' must be [[tasks]] tables")
    if not 1 <= len(value) <= MAX_TASKS:
        raise UsageError(f"{one_line(shown, 200)}: 1 to {MAX_TASKS} [[tasks]] tables, please")
    lines = headers + [0] * (len(value) - len(headers))
    return tuple(
        task_table(t, f"{one_line(shown, 200)}:{n or '?'}", n)
        for t, n in zip(value, lines, strict=True)
    )


_TASK_HEADER = re.compile(r"^\s*\[\[\s*tasks\s*\]\]")


def task_table(table: dict[str, Any], where: str, line: int) -> TaskTable:
    """One task table, checked key by key."""
    texts = {}
    for key in TASK_KEYS:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{where}: [[tasks]] {key!r} must be a string")
        texts[key] = value
    if not texts["id"]:
        raise UsageError(f"{where}: a [[tasks]] table needs its 'id'")
    overrides = []
    for key, value in table.items():
        if key in TASK_KEYS:
            continue
        if key not in TASK_SETTINGS:
            shown = one_line(repr(key), 80)
            raise UsageError(
                f"{where}: [[tasks]] key {shown} is not id, name, path or a threshold"
                f"{suggestion(key, (*TASK_KEYS, *TASK_SETTINGS))}"
            )
        setting = BY_NAME[key]
        overrides.append((setting.field, value_of(setting, value, where)))
    return TaskTable(texts["id"] or "", texts["name"], texts["path"], tuple(overrides), line)


def checked_key(key: str, where: str) -> Setting:
    """The setting ``key`` names; unknown, secret or not for a file is exit 2."""
    shown = one_line(repr(key), 80)
    setting = BY_NAME.get(key)
    if setting is None:
        allowed = [s.name for s in BY_NAME.values() if s.file] + [TASKS]
        raise UsageError(f"{where}: unknown key {shown}{suggestion(key, allowed)}")
    if setting.secret:
        raise UsageError(
            f"{where}: {shown} holds a secret, which never belongs in a file kept in the "
            f"repository (its value is not shown): use {secret_home(setting)}"
        )
    if not setting.file:
        raise UsageError(
            f"{where}: {shown} cannot be set in the config file ({setting.why_not_file}); "
            f"give {setting.flag}" + (f" or {setting.variables[0]}" if setting.variables else "")
        )
    return setting


def secret_home(setting: Setting) -> str:
    """Where a secret belongs instead: its variable from a CI secret, or its file option."""
    return f"a CI secret passed as {setting.variables[0]}, or --{setting.name}-file"


def value_of(setting: Setting, value: object, where: str) -> object:
    """The ``RawOptions`` value of a file value of the right TOML type."""
    kind = toml_type(value)
    if kind not in setting.toml:
        wanted = " or ".join(TYPE_WORDS[t] for t in setting.toml)
        raise UsageError(
            f"{where}: {setting.name!r} must be {wanted}, got {TYPE_WORDS.get(kind, kind)}"
        )
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise UsageError(f"{where}: {setting.name!r} is out of range")
    if setting.kind == "list":
        return _items(setting, value, where)
    if isinstance(value, bool):
        return value if setting.kind == "bool" else ("true" if value else "false")
    return str(value)


def _items(setting: Setting, value: object, where: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    assert isinstance(items, list)
    if not all(isinstance(item, str) for item in items):
        raise UsageError(f"{where}: {setting.name!r} must be a list of strings like 'minor=40'")
    return tuple(item for item in items if item.strip())
