"""The options as given, with where each came from (flag, variable, config file)."""

from __future__ import annotations

from collections.abc import Mapping

from gate.structs import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gate.settings.config_file import TaskTable
    from gate.suppressions import Suppression


@record
class RawOptions:
    """The options as given, unvalidated; ``None`` where the user said nothing."""

    job_id: str | None = None
    task_id: str | None = None
    endpoint: str | None = None
    region: str | None = None
    token: str | None = None
    token_file: str | None = None
    ak: str | None = None
    sk: str | None = None
    sk_file: str | None = None
    project_id: str | None = None
    iam_user: str | None = None
    iam_password: str | None = None
    iam_password_file: str | None = None
    iam_domain: str | None = None
    iam_endpoint: str | None = None
    max_critical: str | None = None
    max_major: str | None = None
    max_new: str | None = None
    max: tuple[str, ...] = ()
    report_file: str | None = None
    junit: str | None = None
    summary: str | None = None
    json: str | None = None
    timeout: str | None = None
    on_error: str | None = None
    ca_bundle: str | None = None
    insecure: bool = False
    check: bool = False
    verbose: int = 0
    quiet: bool = False
    from_env: frozenset[str] = frozenset()
    """The options above whose value came from an environment variable: a flag beats them."""
    run: str | None = None
    wait: str | None = None
    branch: str | None = None  # None: the CI's branch; "": send none
    cancel_on_timeout: str | None = None
    console_project_id: str | None = None
    sarif: str | None = None
    codequality: str | None = None
    junit_defects: str | None = None
    defects: bool = False
    defect_severity: str | None = None
    path_prefix_strip: str | None = None
    config: str | None = None
    show_config: bool = False
    warn_critical: str | None = None
    warn_major: str | None = None
    warn_minor: str | None = None
    warn_suggestion: str | None = None
    warn_new: str | None = None
    warn: tuple[str, ...] = ()
    policy: str | None = None
    tasks: tuple[TaskTable, ...] = ()
    """The config file's ``[[tasks]]`` tables (several tasks in one step)."""
    tasks_for_repo: str | None = None
    scope: str | None = None
    base: str | None = None
    comment: str | None = None
    baseline: str | None = None
    max_increase: tuple[str, ...] = ()
    baseline_optional: str | None = None
    suppressions: str | None = None
    sync_suppressions: str | None = None
    suppress: tuple[Suppression, ...] = ()
    """The config file's ``[[suppress]]`` entries (``--suppressions`` names another file)."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Where each field set came from: ``flag``, ``variable CODEARTS_X`` or ``FILE:LINE``
    (a field absent here took its default). Fields not listed fall back to ``from_env``."""

    def __repr__(self) -> str:
        return "RawOptions(...)"  # it holds raw secrets: never print it

    def rank(self, name: str) -> int:
        """How strong the source of field ``name`` is: 3 flag, 2 variable, 1 config file,
        0 unset. Where two settings compete (a mode, a credential method, a threshold),
        the stronger source wins."""
        if getattr(self, name) in (None, (), False):
            return 0
        source = self.sources.get(name)
        if source is None:
            return 2 if name in self.from_env else 3
        return 3 if source == "flag" else 2 if source.startswith("variable ") else 1
