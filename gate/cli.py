"""The command line: flags and ``CODEARTS_*`` variables in, a ``RawOptions`` out, then run.

Every option is built from the one registry (``gate.settings.registry``); the variables are read
here, one way for every option, so that each value carries where it came from. Nothing is
judged here: values are checked in ``gate.settings`` so that even a bad value still gets
the requested outputs written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import click

from gate import __version__
from gate.errors import EXIT_CODE_MEANINGS
from gate.metrics import METRICS
from gate.run import execute
from gate.settings import RawOptions
from gate.settings.registry import BY_FIELD, SECTIONS, SETTINGS, Setting, unknown_variables
from gate.streams import safe
from gate.text import one_line

EXAMPLES = """\b
Examples:
  codearts-gate --task-id T --run --junit junit.xml     run the task's scan and gate it
  codearts-gate --job-id J --max-major 5 --warn-major 0  gate a job, warn on any major
  codearts-gate --task-id a,b,c --run                   gate three tasks in one step
  codearts-gate --report-file saved.json                judge a saved answer offline
  codearts-gate --show-config                           where every setting comes from
Settings come from flags, then CODEARTS_* variables, then codearts-gate.toml, then defaults."""

EPILOG = (
    EXAMPLES
    + "\n\n\b\nExit codes (retry 4 only; 130 and 143 mean the user cancelled):\n"
    + "\n".join(f"  {int(code):<3}  {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items())
    + "\n\n\b\nMetrics for --max NAME=N (N is a whole number, or 'off'):\n"
    + "\n".join(f"  {m.name:<20} {m.description}" for m in METRICS.values())
)


def click_option(setting: Setting) -> click.Option:
    """The click option of a setting; its variables are read by ``gathered``, not click,
    so that every option reads them the same way."""
    names = [setting.flag, *([setting.short] if setting.short else []), setting.field]
    help_text = " ".join(part for part in (setting.help, setting.env_help()) if part)
    kinds: dict[str, dict[str, Any]] = {
        "switch": {"is_flag": True},
        "bool": {"is_flag": True},
        "count": {"count": True},
        "list": {"multiple": True},
        "optional": {"is_flag": False, "flag_value": setting.default_flag_value},
    }
    return click.Option(
        names, help=help_text, metavar=setting.metavar, **kinds.get(setting.kind, {})
    )


class SectionedCommand(click.Command):
    """A command whose ``--help`` shows its options in the registry's sections."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """One titled block per section; ``--help`` and ``--version`` under Configuration."""
        rows: dict[str, list[tuple[str, str]]] = {section: [] for section in SECTIONS}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            setting = BY_FIELD.get(param.name or "")
            if record:
                rows[setting.section if setting else "Configuration"].append(record)
        for section, records in rows.items():
            if records:
                with formatter.section(section):
                    formatter.write_dl(records)


def flag_value(setting: Setting, value: Any) -> Any:
    """A flag's value in ``RawOptions`` form; ``None`` when it says nothing."""
    if setting.kind == "switch":
        return "true" if value else None
    if setting.kind == "list":
        return tuple(item for item in value if item.strip()) or None
    if setting.kind in ("bool", "count"):
        return value or None
    if value == "" and setting.name != "branch":  # --branch '' sends no branch
        return None
    return value


def variable_value(setting: Setting, variable: str, text: str) -> Any:
    """A variable's text in ``RawOptions`` form (a yes/no flag's words checked here as
    click did; a switch's later, in settings)."""
    if setting.kind == "list":
        return tuple(item for item in text.split(",") if item.strip()) or None
    if setting.kind == "bool":
        try:
            return click.BOOL.convert(text, None, None) or None
        except click.BadParameter:
            raise click.BadParameter(
                f"{variable} must be true or false, got {one_line(repr(text), 80)}"
            ) from None
    return text


def gathered(params: Mapping[str, Any], env: Mapping[str, str]) -> RawOptions:
    """The flags given and, for the rest, the variables set: each with its source."""
    context = click.get_current_context()
    commandline = click.core.ParameterSource.COMMANDLINE
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        value, source = None, None
        if context.get_parameter_source(setting.field) is commandline:
            value, source = flag_value(setting, params[setting.field]), "flag"
        else:
            variable = next((name for name in setting.variables if env.get(name)), None)
            if variable:  # an empty variable counts as unset
                value = variable_value(setting, variable, env[variable])
                source = f"variable {variable}"
        if value is not None:
            values[setting.field], sources[setting.field] = value, source or "flag"
    from_env = frozenset(name for name, source in sources.items() if source != "flag")
    return RawOptions(**values, sources=sources, from_env=from_env)


def warn_unknown_variables(env: Mapping[str, str]) -> None:
    """A ``CODEARTS_*`` variable no setting reads is a warning with a suggestion, never
    silently ignored (``CODEARTS_MAX_MAJ`` -> ``CODEARTS_MAX_MAJOR``)."""
    for message in unknown_variables(list(env)):
        print(f"codearts-gate: warning: {one_line(message, 300)}", file=sys.stderr)


@click.command(
    cls=SectionedCommand,
    params=[click_option(setting) for setting in SETTINGS],
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.version_option(__version__, "--version", prog_name="codearts-gate")
def main(**params: Any) -> None:
    """Refresh a CodeArts Check report, judge its counts against maximums, write JUnit,
    Markdown and JSON reports, and exit with a code that says why."""
    # a closed or broken stdout/stderr must not cost the outputs, nor turn the exit code
    # into a traceback's (or into 120, CPython's when the last flush fails)
    sys.stdout, sys.stderr = safe(sys.stdout), safe(sys.stderr)
    warn_unknown_variables(os.environ)
    code = execute(gathered(params, os.environ))
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)
