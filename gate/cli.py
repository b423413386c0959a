"""The command line: flags and ``CODEARTS_*`` variables in, a ``RawOptions`` out, then run.

Every option is built from the one registry (``gate.settings.registry``); the variables are
read here, one way for every option, so that each value carries where it came from.
Nothing is judged here: values are checked in ``gate.settings`` so that even a bad value
still gets the requested outputs written.

click reads everything a person types by hand (``--help``, ``--version``, a mistake and its
message); the plain command lines a pipeline runs are read from the same registry by
``quick_given``, which declines whatever it does not read exactly as click would, so that
a verdict does not pay for importing click.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, Sequence

from gate import __version__
from gate.errors import EXIT_CODE_MEANINGS
from gate.run import execute
from gate.settings import RawOptions
from gate.settings.registry import BY_FIELD, SECTIONS, SETTINGS, Setting, unknown_variables
from gate.streams import safe
from gate.text import one_line

TYPE_CHECKING = False
if TYPE_CHECKING:  # click is imported only for help, version and mistakes
    from typing import Any, NoReturn

    import click

PROG_NAME = "codearts-gate"
COMPLETION_VARIABLE = "_CODEARTS_GATE_COMPLETE"
"""Set by click's shell completion: click answers it."""

EXAMPLES = """\b
Examples:
  codearts-gate --task-id T --run --junit junit.xml     run the task's scan and gate it
  codearts-gate --job-id J --max-major 5 --warn-major 0  gate a job, warn on any major
  codearts-gate --task-id a,b,c --run                   gate three tasks in one step
  codearts-gate --report-file saved.json                judge a saved answer offline
  codearts-gate --show-config                           where every setting comes from
Settings come from flags, then CODEARTS_* variables, then codearts-gate.toml, then defaults."""


def epilog() -> str:
    """The help's closing text: examples, exit codes and the metrics ``--max`` knows."""
    from gate.metrics import METRICS  # noqa: PLC0415 - only --help lists them

    return (
        EXAMPLES
        + "\n\n\b\nExit codes (retry 4 only; 130 and 143 mean the user cancelled):\n"
        + "\n".join(f"  {int(code):<3}  {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items())
        + "\n\n\b\nMetrics for --max NAME=N (N is a whole number, or 'off'):\n"
        + "\n".join(f"  {m.name:<20} {m.description}" for m in METRICS.values())
    )


# --------------------------------------------------------------------------- values

NO_VALUE_KINDS = frozenset({"switch", "bool", "count"})
"""Kinds of setting given without a value on the command line."""
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "on"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "off"})
"""What click's ``BOOL`` reads as yes and no (case and surrounding blanks aside)."""


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


class VariableError(ValueError):
    """A yes/no variable that says neither (click's message is given by the click path)."""


def variable_value(setting: Setting, variable: str, text: str) -> Any:
    """A variable's text in ``RawOptions`` form (a yes/no flag's words checked here as
    click does; a switch's later, in settings)."""
    if setting.kind == "list":
        return tuple(item for item in text.split(",") if item.strip()) or None
    if setting.kind == "bool":
        word = text.strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise VariableError(f"{variable} must be true or false, got {one_line(repr(text), 80)}")
        return (word in TRUE_WORDS) or None
    return text


def gathered(given: Mapping[str, Any], env: Mapping[str, str]) -> RawOptions:
    """The flags ``given`` (field to the flag's raw value) and, for the rest, the variables
    set: each value with its source."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        value, source = None, None
        if setting.field in given:
            value, source = flag_value(setting, given[setting.field]), "flag"
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


# --------------------------------------------------------------------------- quick reading

_BY_FLAG = {name: s for s in SETTINGS for name in (s.flag, s.short) if name}
_DECLINED = frozenset({"-h", "--help", "--version"})
"""Read by click: the help and the version (and anything not in the registry)."""
_YES_NO_VARIABLES = tuple(v for s in SETTINGS if s.kind == "bool" for v in s.variables)


def quick_given(args: Sequence[str]) -> dict[str, Any] | None:
    """The options on a plain command line, by field, as click reads them; None to leave
    the line to click (help, version, a mistake, a value that looks like an option)."""
    given: dict[str, Any] = {}
    queue = list(args)
    while queue:
        token = queue.pop(0)
        if len(token) > 2 and token[0] == "-" and set(token[1:]) == {"v"}:
            given["verbose"] = given.get("verbose", 0) + len(token) - 1  # -vv
            continue
        name, equals, value = token.partition("=")
        setting = _BY_FLAG.get(name) if name not in _DECLINED else None
        if setting is None or (equals and setting.kind in NO_VALUE_KINDS):
            return None
        if setting.kind in NO_VALUE_KINDS:
            count = setting.kind == "count"
            given[setting.field] = given.get(setting.field, 0) + 1 if count else True
            continue
        read = value if equals else _value_after(setting, queue)
        if read is None or (setting.kind == "optional" and read.startswith("-")):
            return None  # click takes "-x" for an option there, not for a value
        repeated = given.get(setting.field, ()) if setting.kind == "list" else None
        given[setting.field] = read if repeated is None else (*repeated, read)
    return given


def _value_after(setting: Setting, queue: list[str]) -> str | None:
    """The value of an option given without ``=``: the next token, or the flag value of
    an option whose value may be left out; None where click would read it otherwise."""
    option_next = not queue or (queue[0].startswith("-") and queue[0] != "-")
    if option_next and setting.kind == "optional":
        return setting.default_flag_value  # given bare: its value may be left out
    if option_next:
        return None  # click would take it as the value, or complain: let it
    return queue.pop(0)


def quick_raw(args: Sequence[str], env: Mapping[str, str]) -> RawOptions | None:
    """The ``RawOptions`` of a plain command line, or None to leave it to click (shell
    completion, and a yes/no flag's variable, whose mistakes click words)."""
    if env.get(COMPLETION_VARIABLE) or any(env.get(v) for v in _YES_NO_VARIABLES):
        return None
    given = quick_given(args)
    return None if given is None else gathered(given, env)


# --------------------------------------------------------------------------- entry point


class Main:
    """The ``codearts-gate`` command. Plain command lines run at once; the rest goes to
    click. It also answers ``main(args, prog_name)`` like a click command, so that click's
    test runner can drive it."""

    name = PROG_NAME

    def __call__(self, args: Sequence[str] | None = None, prog_name: str | None = None) -> Any:
        return self.main(args, prog_name)

    def main(
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        """Run with ``args`` (default: the process's arguments) and exit with its code."""
        args = sys.argv[1:] if args is None else list(args)
        raw = quick_raw(args, os.environ) if not extra else None
        if raw is None:
            return command().main(args, prog_name or PROG_NAME, **extra)
        try:
            run_and_exit(raw)
        except (EOFError, KeyboardInterrupt):
            _aborted()


def run_and_exit(raw: RawOptions) -> NoReturn:
    """Warn of unknown variables, run, and exit with the run's code."""
    # a closed or broken stdout/stderr must not cost the outputs, nor turn the exit code
    # into a traceback's (or into 120, CPython's when the last flush fails)
    sys.stdout, sys.stderr = safe(sys.stdout), safe(sys.stderr)
    warn_unknown_variables(os.environ)
    code = execute(raw)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


def _aborted() -> NoReturn:
    """Ctrl-C outside the run's own handling, told as click's standalone mode tells it."""
    print("\nAborted!", file=sys.stderr)
    sys.exit(1)


main = Main()


def click_option(setting: Setting) -> click.Option:
    """The click option of a setting; its variables are read by ``gathered``, not click,
    so that every option reads them the same way."""
    import click  # noqa: PLC0415 - only for what a person types by hand

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


def given_by_click(context: click.Context) -> dict[str, Any]:
    """The parameters click read from the command line, by field."""
    import click  # noqa: PLC0415 - only for what a person types by hand

    commandline = click.core.ParameterSource.COMMANDLINE
    return {
        name: value
        for name, value in context.params.items()
        if context.get_parameter_source(name) is commandline
    }


@functools.lru_cache(maxsize=1)
def command() -> click.Command:
    """The click command built from the registry: help, version and its error messages."""
    import click  # noqa: PLC0415 - only for what a person types by hand

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

    def run(**_params: Any) -> None:
        try:
            raw = gathered(given_by_click(click.get_current_context()), os.environ)
        except VariableError as err:
            raise click.BadParameter(str(err)) from None
        run_and_exit(raw)

    decorated = click.version_option(__version__, "--version", prog_name=PROG_NAME)(run)
    return click.command(
        PROG_NAME,
        cls=SectionedCommand,
        params=[click_option(setting) for setting in SETTINGS],
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
        epilog=epilog(),
        help="Refresh a CodeArts Check report, judge its counts against maximums, write "
        "JUnit, Markdown and JSON reports, and exit with a code that says why.",
    )(decorated)
