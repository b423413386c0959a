"""The one list of settings: each with its flag, variables, kind, help section and secrecy.

The click options, the ``CODEARTS_*`` variables read, the config file's keys, the unknown-
variable check, ``--show-config`` and the Action's and README's lists all derive from here.
Pure data: no click, no I/O.
"""

from __future__ import annotations

from gate.structs import record

SECTIONS = (
    "Flow",
    "Thresholds",
    "Outputs",
    "Credentials",
    "Network",
    "Defects",
    "Pull requests",
    "Configuration",
)
"""The ``--help`` sections, in the order they are shown."""

FILE_NAME = "codearts-gate.toml"


@record
class Setting:
    """One setting. ``kind`` says how it is given and read:

    ``text``  a string (``""`` from a variable counts as unset);
    ``list``  repeatable ``NAME=N`` items; a variable holds them comma-separated;
    ``switch`` a yes/no flag whose variable says true/false (checked in settings);
    ``bool``  a yes/no flag; ``count`` a repeatable flag (``-vv``);
    ``optional`` a flag whose value may be left out (``default_flag_value`` then).
    ``file``: False when the config file may not set it; ``why_not_file`` says why.
    ``toml``: the TOML types the file may hold for it (``int``, ``str``, ``float``,
    ``bool``, ``list``)."""

    name: str
    help: str
    section: str
    variables: tuple[str, ...] = ()
    kind: str = "text"
    metavar: str | None = None
    secret: bool = False
    default: str = ""
    file: bool = True
    why_not_file: str = ""
    toml: tuple[str, ...] = ("str",)
    short: str | None = None
    default_flag_value: str = ""
    """``optional`` kind: the value of the flag given without one (``--sync-suppressions``)."""

    @property
    def field(self) -> str:
        """The ``RawOptions`` field: the long name with ``_`` for ``-``."""
        return self.name.replace("-", "_")

    @property
    def flag(self) -> str:
        """The long flag, ``--max-major``."""
        return f"--{self.name}"

    def env_help(self) -> str:
        """``[env var: A, B]``: the one way every option names its variables."""
        return f"[env var: {', '.join(self.variables)}]" if self.variables else ""


def _var(name: str) -> tuple[str, ...]:
    return (f"CODEARTS_{name.upper().replace('-', '_')}",)


_TRUST = (
    "where credentials are sent and which certificates are trusted is the pipeline's "
    "decision: a change to the repository must not redirect them"
)
_MODE = "it chooses which report is judged: a change to the repository must not pick it"


def _level(kind: str, metric: str, words: str) -> Setting:
    """``--max-NAME`` (default 0) or ``--warn-NAME`` (no default)."""
    texts = {
        "max": (f"Maximum {words} [default: 0].", "0"),
        "warn": (f"Warn (and still pass) above this many {words}.", ""),
    }
    help_text, default = texts[kind]
    name = f"{kind}-{metric}"
    return Setting(
        name,
        help_text,
        "Thresholds",
        _var(name),
        metavar="N|off",
        default=default,
        toml=("int", "str"),
    )


def _assignments(name: str, words: str) -> Setting:
    """``--max NAME=N`` or ``--warn NAME=N``: repeatable; the variable is comma-separated."""
    return Setting(
        name,
        f"{words} (repeatable; the variable is comma-separated).",
        "Thresholds",
        _var(name),
        kind="list",
        metavar="NAME=N",
        toml=("list", "str"),
    )


def _flow() -> list[Setting]:
    return [
        Setting(
            "job-id",
            "Execution record id of the scan to refresh.",
            "Flow",
            _var("job-id"),
            file=False,
            why_not_file=_MODE,
        ),
        Setting(
            "task-id",
            "Task id (1-32 chars): refresh the task's latest scan; a,b,c gates several at once.",
            "Flow",
            _var("task-id"),
        ),
        Setting(
            "run",
            "Run the task (--task-id), wait for the scan and gate it.",
            "Flow",
            _var("run"),
            kind="switch",
            toml=("bool",),
        ),
        Setting(
            "wait",
            "Wait for the task's current scan to end, then gate.",
            "Flow",
            _var("wait"),
            kind="switch",
            toml=("bool",),
        ),
        Setting(
            "report-file",
            "Judge a saved API answer (or its result) instead of calling the API; - for stdin.",
            "Flow",
            _var("report-file"),
            metavar="PATH",
            file=False,
            why_not_file=_MODE,
        ),
        Setting(
            "timeout",
            "Overall deadline for getting the report [default: 300 s, or 1800 s with --run "
            "or --wait].",
            "Flow",
            _var("timeout"),
            metavar="SECONDS",
            default="300 (1800 with --run/--wait)",
            toml=("int", "float", "str"),
        ),
        Setting(
            "on-error",
            "warn: exit 0 with a loud warning when no verdict is reached [default: fail].",
            "Flow",
            _var("on-error"),
            metavar="fail|warn",
            default="fail",
        ),
        Setting(
            "cancel-on-timeout",
            "Stop the scan this run started when the gate gives up (timeout, SIGTERM, Ctrl-C).",
            "Flow",
            _var("cancel-on-timeout"),
            kind="switch",
            toml=("bool",),
        ),
        Setting(
            "tasks-for-repo",
            "Gate every task of the CodeArts project (--console-project-id) whose repository "
            "is the CI's (GITHUB_SERVER_URL/GITHUB_REPOSITORY, CI_PROJECT_URL or GIT_URL).",
            "Flow",
            _var("tasks-for-repo"),
            kind="switch",
            toml=("bool",),
        ),
        Setting(
            "policy",
            "Whose verdict counts: local (the thresholds here; CodeArts' own gate is shown), "
            "codearts (CodeArts' own gate of the task), or both (fails when either fails) "
            "[default: local].",
            "Flow",
            _var("policy"),
            metavar="local|codearts|both",
            default="local",
        ),
        Setting(
            "check",
            "Diagnose the setup: endpoint, connection, TLS, credentials, one API call; then exit.",
            "Flow",
            kind="bool",
            file=False,
            why_not_file="it is a one-off diagnosis, given on the command line",
        ),
    ]


def _thresholds() -> list[Setting]:
    return [
        _level("max", "critical", "critical issues"),
        _level("max", "major", "major issues"),
        _level("max", "new", "new unresolved issues"),
        _assignments("max", "Maximum for any metric, by name"),
        _level("warn", "critical", "critical issues"),
        _level("warn", "major", "major issues"),
        _level("warn", "minor", "minor issues"),
        _level("warn", "suggestion", "suggestions"),
        _level("warn", "new", "new unresolved issues"),
        _assignments("warn", "Warn level for any metric, by name, like --max"),
        Setting(
            "baseline",
            "Compare the counts with the task's previous scan, a job's report or a previous "
            "run's --json output; growth fails the gate (see --max-increase).",
            "Thresholds",
            _var("baseline"),
            metavar="previous|job:ID|file:PATH",
        ),
        _assignments(
            "max-increase",
            "Allowed growth since the baseline, NAME=N|off [default: 0 for every count with a "
            "maximum that the baseline carries]",
        ),
        Setting(
            "baseline-optional",
            "Without the baseline, judge the maximums alone (and say so) instead of no verdict.",
            "Thresholds",
            _var("baseline-optional"),
            kind="switch",
            toml=("bool",),
        ),
    ]


def _outputs() -> list[Setting]:
    outputs = {
        "junit": "Write a JUnit XML report.",
        "summary": "Write a Markdown summary.",
        "json": "Write machine-readable results.",
    }
    return [
        Setting(name, words, "Outputs", _var(name), metavar="PATH")
        for name, words in outputs.items()
    ]


def _credentials() -> list[Setting]:
    def secret(name: str, words: str, variables: tuple[str, ...]) -> Setting:
        return Setting(name, words, "Credentials", variables, secret=True, file=False)

    def path(name: str, words: str) -> Setting:
        return Setting(name, words, "Credentials", _var(name), metavar="PATH")

    return [
        secret("token", "IAM token (X-Auth-Token). Prefer the variable.", _var("token")),
        path("token-file", "File holding the token."),
        Setting(
            "ak",
            "Access key id: sign requests with AK/SK (SDK-HMAC-SHA256).",
            "Credentials",
            (*_var("ak"), "HUAWEI_CLOUD_ACCESS_KEY_ID"),
        ),
        secret(
            "sk",
            "Secret access key. Prefer the variable or --sk-file.",
            (*_var("sk"), "HUAWEI_CLOUD_SECRET_ACCESS_KEY"),
        ),
        path("sk-file", "File holding the SK."),
        Setting(
            "project-id",
            "IAM project id, sent as X-Project-Id with AK/SK.",
            "Credentials",
            (*_var("project-id"), "HUAWEI_CLOUD_PROJECT_ID"),
        ),
        Setting(
            "iam-user", "IAM user name: log in with a password.", "Credentials", _var("iam-user")
        ),
        secret(
            "iam-password",
            "IAM user's password. Prefer the variable or --iam-password-file.",
            _var("iam-password"),
        ),
        path("iam-password-file", "File holding the IAM password."),
        Setting(
            "iam-domain",
            "Account (domain) name of the IAM user.",
            "Credentials",
            _var("iam-domain"),
        ),
    ]


def _network() -> list[Setting]:
    return [
        Setting(
            "endpoint",
            "Base URL of CodeArts Check [default: from --region].",
            "Network",
            _var("endpoint"),
            file=False,
            why_not_file=_TRUST,
        ),
        Setting(
            "region",
            "Region for the default endpoints [default: cn-north-4].",
            "Network",
            (*_var("region"), "HUAWEI_CLOUD_REGION"),
            default="cn-north-4",
        ),
        Setting(
            "iam-endpoint",
            "IAM base URL [default: https://iam.{region}.myhuaweicloud.com].",
            "Network",
            _var("iam-endpoint"),
            file=False,
            why_not_file=_TRUST,
        ),
        Setting(
            "ca-bundle",
            "PEM file of extra CA certificates (a corporate CA), added to the default ones.",
            "Network",
            _var("ca-bundle"),
            metavar="PATH",
            file=False,
            why_not_file=_TRUST,
        ),
        Setting(
            "insecure",
            "Do not verify TLS certificates (token only, or loopback). Warns on every run.",
            "Network",
            kind="bool",
            file=False,
            why_not_file=_TRUST,
        ),
    ]


def _defects() -> list[Setting]:
    def output(name: str, words: str) -> Setting:
        return Setting(name, words + " Needs --task-id.", "Defects", _var(name), metavar="PATH")

    return [
        output("sarif", "Write the defects as SARIF 2.1.0 (GitHub code scanning, Jenkins)."),
        output("codequality", "Write the defects as GitLab Code Quality JSON."),
        output("junit-defects", "Write JUnit XML with one test case per defect, grouped by file."),
        Setting(
            "defects",
            "Fetch the defects for the summary and annotations even without a defect file.",
            "Defects",
            _var("defects"),
            kind="bool",
            toml=("bool",),
        ),
        Setting(
            "defect-severity",
            "Severities of defects to fetch, comma-separated [default: those with a maximum].",
            "Defects",
            _var("defect-severity"),
            metavar="NAMES|all",
        ),
        Setting(
            "path-prefix-strip",
            "Remove PREFIX from the service's file paths [default: detected from the checkout].",
            "Defects",
            _var("path-prefix-strip"),
            metavar="PREFIX",
        ),
        Setting(
            "suppressions",
            "TOML file of [[suppress]] entries (defect_id or rule [+ path], reason, until): "
            "judge the defect list less the suppressed defects.",
            "Defects",
            _var("suppressions"),
            metavar="PATH",
        ),
        Setting(
            "sync-suppressions",
            "Say which suppressed defects would be marked ignored in CodeArts; =apply marks them.",
            "Defects",
            _var("sync-suppressions"),
            kind="optional",
            metavar="[apply]",
            default_flag_value="dry-run",
            file=False,
            why_not_file="it writes to the service: a change to the repository must not turn it on",
        ),
        Setting(
            "console-project-id",
            "CodeArts project id (or a console URL with /project/ID/), not the IAM one: "
            "shows the check log of a failed scan.",
            "Defects",
            _var("console-project-id"),
        ),
    ]


def _pull_requests() -> list[Setting]:
    return [
        Setting(
            "branch",
            "Branch the --run scan checks (git_branch) [default: the CI's branch; '' for none].",
            "Pull requests",
            _var("branch"),
        ),
        Setting(
            "scope",
            "change: judge the per-defect counts on the lines the change adds or modifies "
            "(needs --task-id and git) [default: all].",
            "Pull requests",
            _var("scope"),
            metavar="change|all",
            default="all",
        ),
        Setting(
            "base",
            "The change's base for --scope change [default: the pull/merge request's].",
            "Pull requests",
            _var("base"),
            metavar="REV",
        ),
        Setting(
            "comment",
            "Write (and update) one comment on the pull/merge request; token: GITHUB_TOKEN "
            "or CODEARTS_GITLAB_TOKEN.",
            "Pull requests",
            _var("comment"),
            kind="switch",
            toml=("bool",),
        ),
    ]


def _configuration() -> list[Setting]:
    no_file = "it is about the command line itself"
    return [
        Setting(
            "config",
            f"Read settings from this TOML file [default: ./{FILE_NAME}, else the one at the "
            "top of the git checkout].",
            "Configuration",
            _var("config"),
            metavar="PATH",
            file=False,
            why_not_file=no_file,
        ),
        Setting(
            "show-config",
            "Print every effective setting, its value and where it came from; then exit 0.",
            "Configuration",
            kind="bool",
            file=False,
            why_not_file=no_file,
        ),
        Setting(
            "verbose",
            "More detail on stderr (-vv for debug); -v also shows the settings.",
            "Configuration",
            kind="count",
            short="-v",
            file=False,
            why_not_file=no_file,
        ),
        Setting(
            "quiet",
            "Print only the verdict line and errors.",
            "Configuration",
            kind="bool",
            short="-q",
            file=False,
            why_not_file=no_file,
        ),
    ]


SETTINGS: tuple[Setting, ...] = (
    *_flow(),
    *_thresholds(),
    *_outputs(),
    *_credentials(),
    *_network(),
    *_defects(),
    *_pull_requests(),
    *_configuration(),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
BY_FIELD: dict[str, Setting] = {s.field: s for s in SETTINGS}

READ_VARIABLES = frozenset({"CODEARTS_GITLAB_TOKEN"})
"""Variables read without an option of their own (``--comment``'s GitLab token: a secret,
never a flag)."""
OWN_VARIABLES = frozenset(v for s in SETTINGS for v in s.variables) | READ_VARIABLES
"""Every variable a setting reads."""
TOOLING_PREFIX = "CODEARTS_GATE_"
"""Variables of the project's own tooling (tests, image builds), not settings."""


def suggestion(word: str, choices: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or ``""``."""
    import difflib  # noqa: PLC0415 - only when a name is unknown: runs stay light

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_variables(names: list[str] | tuple[str, ...]) -> list[str]:
    """The ``CODEARTS_*`` names among ``names`` that no setting reads, each with a
    suggestion: ``CODEARTS_MAX_MAJ`` -> ``CODEARTS_MAX_MAJOR``."""
    return [
        f"{name} is not a setting of codearts-gate and is ignored{suggestion(name, OWN_VARIABLES)}"
        for name in sorted(names)
        if name.startswith("CODEARTS_")
        and not name.startswith(TOOLING_PREFIX)
        and name not in OWN_VARIABLES
    ]
