"""The command line: flags and ``CODEARTS_*`` variables in, a ``RawOptions`` out, then run.

Nothing is judged here: values are checked in ``gate.settings`` so that even a bad value
still gets the requested outputs written.

``OPTIONS`` is the one table of the options. click reads it for everything a person types
by hand (``--help``, ``--version``, a mistake and its message); the plain command lines a
pipeline runs are read from the same table by ``quick_parse``, which declines whatever it
does not read exactly as click would, so that a verdict does not pay for importing click.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

from gate import __version__
from gate.errors import EXIT_CODE_MEANINGS
from gate.run import execute
from gate.settings import RawOptions
from gate.streams import safe

if TYPE_CHECKING:  # click is imported only for help, version and mistakes
    import click

PROG_NAME = "codearts-gate"


def epilog() -> str:
    """The help's closing text: exit codes and the metrics ``--max`` knows."""
    from gate.metrics import METRICS  # noqa: PLC0415 - only --help lists them

    return (
        "\b\nExit codes (retry 4 only; 130 and 143 mean the user cancelled):\n"
        + "\n".join(f"  {int(code):<3}  {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items())
        + "\n\n\b\nMetrics for --max NAME=N (N is a whole number, or 'off'):\n"
        + "\n".join(f"  {m.name:<20} {m.description}" for m in METRICS.values())
    )


class Option(NamedTuple):
    """One option of the table: its names, its variable(s) and click's keywords."""

    names: tuple[str, ...]
    envvar: str | list[str] | None
    kwargs: dict[str, Any]

    @property
    def dest(self) -> str:
        """The parameter name click gives it (an explicit one, else the first long name)."""
        bare = [n for n in self.names if not n.startswith("-")]
        longs = [n for n in self.names if n.startswith("--")]
        return bare[0] if bare else longs[0][2:].replace("-", "_").lower()

    @property
    def takes_value(self) -> bool:
        return not (self.kwargs.get("is_flag") or self.kwargs.get("count"))

    @property
    def default(self) -> Any:
        if "default" in self.kwargs:
            return self.kwargs["default"]
        if self.kwargs.get("multiple"):
            return ()
        return 0 if self.kwargs.get("count") else False if self.kwargs.get("is_flag") else None

    def plain(self) -> bool:
        """Read by ``quick_parse`` exactly as click reads it: no type conversion, callback
        or on/off pair, and a multiple value only as a comma list."""
        if set(self.kwargs) - _PLAIN_KEYWORDS or any("/" in name for name in self.names):
            return False
        if self.kwargs.get("multiple") and not self.kwargs.get("comma_list"):
            return False
        optional_value = "flag_value" in self.kwargs  # --name alone, or --name=VALUE
        if optional_value and (self.kwargs.get("is_flag") or self.kwargs.get("multiple")):
            return False
        return isinstance(self.kwargs.get("default"), (str, type(None)))

    def variables(self) -> tuple[str, ...]:
        if self.envvar is None:
            return ()
        return (self.envvar,) if isinstance(self.envvar, str) else tuple(self.envvar)


_PLAIN_KEYWORDS = frozenset(
    {"help", "metavar", "is_flag", "count", "multiple", "comma_list", "default", "flag_value"}
)


def _option(*names: str, envvar: str | list[str] | None = None, **kwargs: Any) -> Option:
    return Option(names, envvar, kwargs)


OPTIONS = [
    _option(
        "--job-id", envvar="CODEARTS_JOB_ID", help="Execution record id of the scan to refresh."
    ),
    _option(
        "--task-id",
        envvar="CODEARTS_TASK_ID",
        help="Task id (1-32 chars): refresh the task's latest scan.",
    ),
    _option(
        "--endpoint",
        envvar="CODEARTS_ENDPOINT",
        help="Base URL of CodeArts Check (default: from --region).",
    ),
    _option(
        "--region",
        envvar=["CODEARTS_REGION", "HUAWEI_CLOUD_REGION"],
        help="Region for the default endpoints [default: cn-north-4].",
    ),
    _option(
        "--token", envvar="CODEARTS_TOKEN", help="IAM token (X-Auth-Token). Prefer the variable."
    ),
    _option(
        "--token-file", envvar="CODEARTS_TOKEN_FILE", metavar="PATH", help="File holding the token."
    ),
    _option(
        "--ak",
        envvar=["CODEARTS_AK", "HUAWEI_CLOUD_ACCESS_KEY_ID"],
        help="Access key id: sign requests with AK/SK (SDK-HMAC-SHA256).",
    ),
    _option(
        "--sk",
        envvar=["CODEARTS_SK", "HUAWEI_CLOUD_SECRET_ACCESS_KEY"],
        help="Secret access key. Prefer the variable or --sk-file.",
    ),
    _option("--sk-file", envvar="CODEARTS_SK_FILE", metavar="PATH", help="File holding the SK."),
    _option(
        "--project-id",
        envvar=["CODEARTS_PROJECT_ID", "HUAWEI_CLOUD_PROJECT_ID"],
        help="IAM project id, sent as X-Project-Id with AK/SK.",
    ),
    _option(
        "--iam-user", envvar="CODEARTS_IAM_USER", help="IAM user name: log in with a password."
    ),
    _option(
        "--iam-password",
        envvar="CODEARTS_IAM_PASSWORD",
        help="IAM user's password. Prefer the variable or --iam-password-file.",
    ),
    _option(
        "--iam-password-file",
        envvar="CODEARTS_IAM_PASSWORD_FILE",
        metavar="PATH",
        help="File holding the IAM password.",
    ),
    _option(
        "--iam-domain", envvar="CODEARTS_IAM_DOMAIN", help="Account (domain) name of the IAM user."
    ),
    _option(
        "--iam-endpoint",
        envvar="CODEARTS_IAM_ENDPOINT",
        help="IAM base URL [default: https://iam.{region}.myhuaweicloud.com].",
    ),
    _option(
        "--max-critical",
        envvar="CODEARTS_MAX_CRITICAL",
        metavar="N|off",
        help="Maximum critical issues [default: 0].",
    ),
    _option(
        "--max-major",
        envvar="CODEARTS_MAX_MAJOR",
        metavar="N|off",
        help="Maximum major issues [default: 0].",
    ),
    _option(
        "--max-new",
        envvar="CODEARTS_MAX_NEW",
        metavar="N|off",
        help="Maximum new unresolved issues [default: 0].",
    ),
    _option(
        "--max",
        "max_",
        envvar="CODEARTS_MAX",
        comma_list=True,  # the variable holds NAME=N items separated by commas
        multiple=True,
        help="Maximum for any metric, by name (repeatable; the variable is comma-separated).",
    ),
    _option(
        "--report-file",
        envvar="CODEARTS_REPORT_FILE",
        metavar="PATH",
        help="Judge a saved API answer (or its result) instead of calling the API; - for stdin.",
    ),
    _option("--junit", envvar="CODEARTS_JUNIT", metavar="PATH", help="Write a JUnit XML report."),
    _option(
        "--summary", envvar="CODEARTS_SUMMARY", metavar="PATH", help="Write a Markdown summary."
    ),
    _option(
        "--json",
        "json_",
        envvar="CODEARTS_JSON",
        metavar="PATH",
        help="Write machine-readable results.",
    ),
    _option(
        "--timeout",
        envvar="CODEARTS_TIMEOUT",
        metavar="SECONDS",
        help="Overall deadline for getting the report [default: 300].",
    ),
    _option(
        "--on-error",
        envvar="CODEARTS_ON_ERROR",
        metavar="fail|warn",
        help="warn: exit 0 with a loud warning when no verdict is reached [default: fail].",
    ),
    _option(
        "--ca-bundle",
        envvar="CODEARTS_CA_BUNDLE",
        metavar="PATH",
        help="PEM file of extra CA certificates (a corporate CA), added to the default ones.",
    ),
    _option(
        "--insecure",
        is_flag=True,
        help="Do not verify TLS certificates (token only, or loopback). Warns on every run.",
    ),
    _option(
        "--check",
        is_flag=True,
        help="Diagnose the setup: endpoint, connection, TLS, credentials, every read-only call "
        "of the run; then exit.",
    ),
    _option(
        "--run",
        is_flag=True,
        help="Run the task (--task-id), wait for the scan and gate it. [env var: CODEARTS_RUN]",
    ),
    _option(
        "--wait",
        is_flag=True,
        help="Wait for the task's current scan to end, then gate. [env var: CODEARTS_WAIT]",
    ),
    _option(
        "--branch",
        envvar="CODEARTS_BRANCH",
        help="Branch the --run scan checks (git_branch) [default: the CI's branch; '' for none].",
    ),
    _option(
        "--cancel-on-timeout",
        is_flag=True,
        help="Stop the scan this run started when the gate gives up (timeout, SIGTERM, "
        "Ctrl-C). [env var: CODEARTS_CANCEL_ON_TIMEOUT]",
    ),
    _option(
        "--console-project-id",
        envvar="CODEARTS_CONSOLE_PROJECT_ID",
        help="CodeArts project id (or a console URL with /project/ID/), not the IAM one: "
        "shows the check log of a failed scan.",
    ),
    _option(
        "--sarif",
        envvar="CODEARTS_SARIF",
        metavar="PATH",
        help="Write the defects as SARIF 2.1.0 (GitHub code scanning, Jenkins). Needs --task-id.",
    ),
    _option(
        "--codequality",
        envvar="CODEARTS_CODEQUALITY",
        metavar="PATH",
        help="Write the defects as GitLab Code Quality JSON. Needs --task-id.",
    ),
    _option(
        "--junit-defects",
        envvar="CODEARTS_JUNIT_DEFECTS",
        metavar="PATH",
        help="Write JUnit XML with one test case per defect, grouped by file. Needs --task-id.",
    ),
    _option(
        "--defects",
        envvar="CODEARTS_DEFECTS",
        is_flag=True,
        help="Fetch the defects for the summary and annotations even without a defect file.",
    ),
    _option(
        "--defect-severity",
        envvar="CODEARTS_DEFECT_SEVERITY",
        metavar="NAMES|all",
        help="Severities of defects to fetch, comma-separated [default: those with a maximum].",
    ),
    _option(
        "--path-prefix-strip",
        envvar="CODEARTS_PATH_PREFIX_STRIP",
        metavar="PREFIX",
        help="Remove PREFIX from the service's file paths [default: detected from the checkout].",
    ),
    _option(
        "--scope",
        envvar="CODEARTS_SCOPE",
        metavar="change|all",
        help="change: judge the per-defect counts on the lines the change adds or modifies "
        "(needs --task-id and git) [default: all].",
    ),
    _option(
        "--base",
        envvar="CODEARTS_BASE",
        metavar="REV",
        help="The change's base for --scope change [default: the pull/merge request's].",
    ),
    _option(
        "--comment",
        is_flag=True,
        help="Write (and update) one comment on the pull/merge request; token: GITHUB_TOKEN "
        "or CODEARTS_GITLAB_TOKEN. [env var: CODEARTS_COMMENT]",
    ),
    _option(
        "--baseline",
        envvar="CODEARTS_BASELINE",
        metavar="previous|job:ID|file:PATH",
        help="Compare the counts with the task's previous scan, a job's report or a previous "
        "run's --json output; growth fails the gate (see --max-increase).",
    ),
    _option(
        "--max-increase",
        "max_increase",
        envvar="CODEARTS_MAX_INCREASE",
        comma_list=True,  # the variable holds NAME=N items separated by commas
        multiple=True,
        help="Allowed growth since the baseline, NAME=N|off [default: 0 for every count with a "
        "maximum that the baseline carries].",
    ),
    _option(
        "--baseline-optional",
        is_flag=True,
        help="Without the baseline, judge the maximums alone (and say so) instead of no "
        "verdict. [env var: CODEARTS_BASELINE_OPTIONAL]",
    ),
    _option(
        "--suppressions",
        envvar="CODEARTS_SUPPRESSIONS",
        metavar="PATH",
        help="TOML file of [[suppress]] entries (defect_id or rule [+ path], reason, until): "
        "judge the defect list less the suppressed defects.",
    ),
    _option(
        "--sync-suppressions",
        envvar="CODEARTS_SYNC_SUPPRESSIONS",
        is_flag=False,
        flag_value="dry-run",
        metavar="[apply]",
        help="Say which suppressed defects would be marked ignored in CodeArts; =apply marks them.",
    ),
    _option("-v", "--verbose", count=True, help="More detail on stderr (-vv for debug)."),
    _option("-q", "--quiet", is_flag=True, help="Print only the verdict line and errors."),
]


def _text(value: str | None) -> str | None:
    return value or None  # an empty variable counts as unset


def raw_options(params: dict[str, Any], from_env: frozenset[str] = frozenset()) -> RawOptions:
    """The parsed values as ``RawOptions``; ``from_env`` names those read from variables."""
    texts = {key: _text(value) for key, value in params.items() if key not in _NON_TEXT}
    return RawOptions(
        **texts,
        max=tuple(item for item in params["max_"] if item.strip()),
        json=_text(params["json_"]),
        verbose=params["verbose"],
        quiet=params["quiet"],
        insecure=params["insecure"],
        check=params["check"],
        from_env=from_env,
        run=env_flag(params["run"], "CODEARTS_RUN"),
        wait=env_flag(params["wait"], "CODEARTS_WAIT"),
        branch=params["branch"],  # "" (given) sends no branch; None takes the CI's
        cancel_on_timeout=env_flag(params["cancel_on_timeout"], "CODEARTS_CANCEL_ON_TIMEOUT"),
        defects=params["defects"],
        comment=env_flag(params["comment"], "CODEARTS_COMMENT"),
        max_increase=tuple(item for item in params["max_increase"] if item.strip()),
        baseline_optional=env_flag(params["baseline_optional"], "CODEARTS_BASELINE_OPTIONAL"),
    )


def options_from_env(params: Mapping[str, Any], read_from_env: set[str]) -> frozenset[str]:
    """The ``RawOptions`` fields whose value came from an environment variable, given the
    parameters that were read from their variable."""
    flags = {name for name, var in ENV_FLAGS.items() if not params[name] and _text(os.getenv(var))}
    return frozenset(name.rstrip("_") for name in read_from_env) | flags


ENV_FLAGS = {
    "run": "CODEARTS_RUN",
    "wait": "CODEARTS_WAIT",
    "cancel_on_timeout": "CODEARTS_CANCEL_ON_TIMEOUT",
    "comment": "CODEARTS_COMMENT",
    "baseline_optional": "CODEARTS_BASELINE_OPTIONAL",
}
"""The yes/no flags read from a variable here (click would take "false" for true)."""


_NON_TEXT = frozenset(
    {"max_", "json_", "verbose", "quiet", "insecure", "check", "defects"}
    | {"run", "wait", "branch", "cancel_on_timeout", "comment"}
    | {"max_increase", "baseline_optional"}
)


def env_flag(given: bool, variable: str) -> str | None:
    """A yes/no flag: "true" when given, else the variable's text (checked in settings)."""
    return "true" if given else _text(os.environ.get(variable))


# --------------------------------------------------------------------------- quick parse

_BY_NAME = {name: option for option in OPTIONS for name in option.names if name.startswith("-")}
_QUICK = all(option.plain() for option in OPTIONS)
"""False when an option needs click's own reading: then click reads every command line."""
_DECLINED = frozenset({"-h", "--help", "--version"})
"""Read by click: the help and the version (and anything not in the table)."""


class Parsed(NamedTuple):
    """What a command line and the environment said: click's parameters and the names of
    those read from a variable."""

    params: dict[str, Any]
    from_env: frozenset[str]


def quick_parse(args: Sequence[str]) -> Parsed | None:
    """The command line read as click reads it, or None for anything but plain options
    with plain values (help, version, mistakes, a value that looks like an option, a flag
    given by its variable, shell completion): click reads those."""
    if not _QUICK or os.environ.get(f"_{PROG_NAME.replace('-', '_').upper()}_COMPLETE"):
        return None
    given = _given(args)
    if given is None:
        return None
    params = {option.dest: given.get(option.dest, option.default) for option in OPTIONS}
    read_from_env = set()
    for option in OPTIONS:
        value = _from_variable(option) if option.dest not in given else None
        if value is None:
            continue
        if not option.takes_value:
            return None  # a yes/no flag's variable: click's boolean words
        params[option.dest] = tuple(value.split(",")) if option.kwargs.get("multiple") else value
        read_from_env.add(option.dest)
    return Parsed(params, options_from_env(params, read_from_env))


def _given(args: Sequence[str]) -> dict[str, Any] | None:
    """The options on the command line by parameter name, or None to leave it to click."""
    given: dict[str, Any] = {}
    queue = list(args)
    while queue:
        token = queue.pop(0)
        name, equals, value = token.partition("=")
        if len(token) > 2 and token[0] == "-" and set(token[1:]) == {"v"}:
            given["verbose"] = given.get("verbose", 0) + len(token) - 1  # -vv
            continue
        option = _BY_NAME.get(name) if name not in _DECLINED else None
        if option is None or (equals and not option.takes_value):
            return None
        if not option.takes_value:
            count = option.kwargs.get("count")
            given[option.dest] = given.get(option.dest, 0) + 1 if count else True
            continue
        if not equals:
            option_next = not queue or (queue[0].startswith("-") and queue[0] != "-")
            if option_next and "flag_value" in option.kwargs:
                value = option.kwargs["flag_value"]  # given bare: its value may be left out
            elif option_next:
                return None  # click would take it as the value, or complain: let it
            else:
                value = queue.pop(0)
        multiple = option.kwargs.get("multiple")
        given[option.dest] = (*given.get(option.dest, ()), value) if multiple else value
    return given


def _from_variable(option: Option) -> str | None:
    """The first non-empty variable of an option, as click reads it."""
    return next((v for v in map(os.environ.get, option.variables()) if v), None)


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
        parsed = quick_parse(args) if not extra else None
        if parsed is None:
            return command().main(args, prog_name or PROG_NAME, **extra)
        try:
            run_and_exit(raw_options(parsed.params, parsed.from_env))
        except (EOFError, KeyboardInterrupt):
            _aborted()


def run_and_exit(raw: RawOptions) -> NoReturn:
    """Run, and exit with the run's code."""
    # a closed or broken stdout/stderr must not cost the outputs, nor turn the exit code
    # into a traceback's (or into 120, CPython's when the last flush fails)
    sys.stdout, sys.stderr = safe(sys.stdout), safe(sys.stderr)
    code = execute(raw)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


def _aborted() -> NoReturn:
    """Ctrl-C outside the run's own handling, told as click's standalone mode tells it."""
    print("\nAborted!", file=sys.stderr)
    sys.exit(1)


main = Main()


@functools.lru_cache(maxsize=1)
def command() -> click.Command:
    """The click command built from ``OPTIONS``: help, version and its error messages."""
    import click  # noqa: PLC0415 - only for what a person types by hand

    class CommaList(click.types.StringParamType):
        """A string option whose environment variable holds comma-separated items."""

        name = "NAME=N"
        envvar_list_splitter = ","

    def as_click(option: Option) -> Any:
        kwargs = dict(option.kwargs)
        if kwargs.pop("comma_list", False):
            kwargs["type"] = CommaList()
        envvar = option.envvar
        return click.option(*option.names, envvar=envvar, show_envvar=envvar is not None, **kwargs)

    def run(**params: Any) -> None:
        context = click.get_current_context()
        env = click.core.ParameterSource.ENVIRONMENT
        read = {name for name in params if context.get_parameter_source(name) is env}
        run_and_exit(raw_options(params, options_from_env(params, read)))

    decorated: Any = run
    for option in reversed(OPTIONS):
        decorated = as_click(option)(decorated)
    decorated = click.version_option(__version__, "--version", prog_name=PROG_NAME)(decorated)
    settings = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
    build = click.command(PROG_NAME, context_settings=settings, epilog=epilog(), help=HELP)
    return build(decorated)


HELP = """Refresh a CodeArts Check report, judge its counts against maximums, write JUnit,
Markdown and JSON reports, and exit with a code that says why."""
