"""The command line: flags and ``CODEARTS_*`` variables in, a ``RawOptions`` out, then run.

Nothing is judged here: values are checked in ``gate.settings`` so that even a bad value
still gets the requested outputs written.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from gate import __version__
from gate.errors import EXIT_CODE_MEANINGS
from gate.metrics import METRICS
from gate.run import execute
from gate.settings import RawOptions
from gate.streams import safe


class CommaList(click.types.StringParamType):
    """A string option whose environment variable holds comma-separated items."""

    name = "NAME=N"
    envvar_list_splitter = ","


EPILOG = (
    "\b\nExit codes (retry 4 only; 130 and 143 mean the user cancelled):\n"
    + "\n".join(f"  {int(code):<3}  {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items())
    + "\n\n\b\nMetrics for --max NAME=N (N is a whole number, or 'off'):\n"
    + "\n".join(f"  {m.name:<20} {m.description}" for m in METRICS.values())
)


def _option(*names: str, envvar: str | list[str] | None = None, **kwargs: Any) -> Any:
    return click.option(*names, envvar=envvar, show_envvar=envvar is not None, **kwargs)


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
        type=CommaList(),
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
        type=CommaList(),
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


def _with_options(func: Any) -> Any:
    for option in reversed(OPTIONS):
        func = option(func)
    return func


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


def options_from_env(params: dict[str, Any]) -> frozenset[str]:
    """The ``RawOptions`` fields whose value came from an environment variable."""
    context = click.get_current_context()
    env = click.core.ParameterSource.ENVIRONMENT
    flags = {name for name, var in ENV_FLAGS.items() if not params[name] and _text(os.getenv(var))}
    return (
        frozenset(name.rstrip("_") for name in params if context.get_parameter_source(name) is env)
        | flags
    )


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


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@_with_options
@click.version_option(__version__, "--version", prog_name="codearts-gate")
def main(**params: Any) -> None:
    """Refresh a CodeArts Check report, judge its counts against maximums, write JUnit,
    Markdown and JSON reports, and exit with a code that says why."""
    # a closed or broken stdout/stderr must not cost the outputs, nor turn the exit code
    # into a traceback's (or into 120, CPython's when the last flush fails)
    sys.stdout, sys.stderr = safe(sys.stdout), safe(sys.stderr)
    code = execute(raw_options(params, options_from_env(params)))
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)
