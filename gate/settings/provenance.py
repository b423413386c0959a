"""Where each setting came from: the config file merged under flags and variables, and
``--show-config``, which prints every effective setting with its source.

Precedence, for every setting: flag > variable > config file > default.
"""

from __future__ import annotations

import re
from pathlib import Path

from gate.settings.raw import RawOptions
from gate.settings.registry import BY_NAME, FILE_NAME, SETTINGS, Setting
from gate.structs import record, replace
from gate.text import one_line


@record
class ConfigFile:
    """Where the file is, as shown to people, and how it was found."""

    path: Path
    shown: str
    found: str  # "flag", "variable CODEARTS_CONFIG", or the place it was discovered


def discover(cwd: Path) -> ConfigFile | None:
    """``codearts-gate.toml`` in ``cwd``, else at the top of the git checkout ``cwd`` is in
    (the nearest folder up that holds ``.git``, a folder or a worktree's file). No git run."""
    here = cwd / FILE_NAME
    if here.is_file():
        return ConfigFile(here, FILE_NAME, "found in the working directory")
    for folder in cwd.parents:
        if (folder / ".git").exists():
            candidate = folder / FILE_NAME
            if candidate.is_file():
                return ConfigFile(candidate, str(candidate), "found at the top of the checkout")
            return None
    return None


def given(path: str, source: str) -> ConfigFile:
    """The file named by ``--config``/``CODEARTS_CONFIG``."""
    return ConfigFile(Path(path), path, source)


def config_of(raw: RawOptions, cwd: Path) -> ConfigFile | None:
    """The config file to read: ``--config``/``CODEARTS_CONFIG``, else the one found (the
    reader, ``config_file``, and TOML load only when there is one)."""
    if raw.config:
        return given(raw.config, raw.sources.get("config", "flag"))
    return discover(cwd)


def with_config_file(raw: RawOptions, cwd: Path | None = None) -> RawOptions:
    """``raw`` with the config file's settings filled in where no flag or variable set
    them; ``UsageError`` (exit 2) for a file that cannot be read or holds a bad key."""
    config = config_of(raw, cwd or Path.cwd())
    if config is None:
        return raw
    from gate.settings.config_file import read_settings  # noqa: PLC0415 - only with a file

    found = read_settings(config)
    sources = dict(raw.sources)
    sources["config"] = config.found if not raw.config else sources.get("config", "flag")
    updates: dict[str, object] = {}
    for name, value in found.items():
        if raw.rank(name) == 0:
            updates[name] = value.value
            sources[name] = f"{config.shown}:{value.line}"
    return replace(
        raw,
        **updates,  # type: ignore[arg-type]
        config=str(config.shown),
        sources=sources,
        from_env=raw.from_env | frozenset(updates),
    )


def shown_value(setting: Setting, value: object) -> str:
    """A setting's value for people: secrets as ``***``, lists comma-separated."""
    if value in (None, (), False):
        return setting.default or "(not set)"
    if setting.secret:
        return "***"
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, bool):
        return "true"
    return "'' (empty)" if value == "" else str(value)


def source_of(raw: RawOptions, setting: Setting) -> str:
    """``flag``, ``variable CODEARTS_X``, ``FILE:LINE`` or ``default``."""
    if raw.rank(setting.field) == 0:
        return "default"
    return raw.sources.get(setting.field) or (
        "variable" if setting.field in raw.from_env else "flag"
    )


def describe(raw: RawOptions, settings: tuple[Setting, ...] = SETTINGS) -> list[str]:
    """Every setting with its effective value and source, one line each, escaped."""
    rows = [
        (s.name, one_line(shown_value(s, getattr(raw, s.field)), 200), source_of(raw, s))
        for s in settings
        if s.name != "show-config"
    ]
    if raw.tasks:
        names = ", ".join(t.id if not t.name else f"{t.id} ({t.name})" for t in raw.tasks)
        source = raw.sources.get("tasks", "config file")
        if raw.rank("task_id") > 1:
            source += f", overridden by task-id ({source_of(raw, BY_NAME['task-id'])})"
        rows.append(("tasks", one_line(names, 200), source))
    name_width = max(len(name) for name, _, _ in rows)
    value_width = min(40, max(len(value) for _, value, _ in rows))
    lines = ["codearts-gate settings (flag > variable > config file > default):"]
    for name, value, source in rows:
        lines.append(f"  {name:<{name_width}}  {value:<{value_width}}  {one_line(source, 200)}")
    return lines


_OPTION = re.compile(r"--([a-z][a-z-]*)")


def file_origin(raw: RawOptions, message: str) -> str | None:
    """`` (set in codearts-gate.toml:3)`` when the first option a message names came from
    the config file: an error about a value says where to fix it."""
    found = _OPTION.search(message)
    setting = BY_NAME.get(found.group(1)) if found else None
    if setting is None or raw.rank(setting.field) != 1:
        return None
    return f" (set in {raw.sources.get(setting.field)})"
