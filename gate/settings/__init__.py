"""The settings of one run, by source and concern.

- ``raw``: the options as given and where each came from (flag, variable, config file);
- ``registry``: the one list of settings (flags, variables, config keys, help sections);
- ``config_file`` and ``provenance``: ``codearts-gate.toml``, merged under flags and
  variables, and ``--show-config`` (imported only where used);
- ``credentials``, ``network``, ``branch``, ``thresholds``, ``defect_options``: each
  concern validated;
- ``build``: ``Settings``, validated from ``RawOptions`` (``build_settings``), one task
  or several.

Every public name of the former ``gate/settings.py`` is importable from here.
"""

from __future__ import annotations

from gate.settings.branch import (
    CI_BRANCH_VARIABLES,
    branch_of,
    from_fork,
)
from gate.settings.build import (
    MAX_TASKS,
    MODE_CONFLICTS,
    MODES,
    OutputPaths,
    Settings,
    TaskRun,
    build_settings,
    console_project_of,
    flag_of,
    flags_beat_variables,
    job_id_for,
    job_id_of,
    on_error_of,
    one_task,
    outputs_of,
    project_in_url,
    refuse_insecure_secrets,
    refuse_with_several_tasks,
    several_tasks,
    task_id_of,
    task_options,
    task_raw,
    task_tables_of,
    verdict_policy_of,
    waits,
)
from gate.settings.change import ChangeSettings, change_settings_of, forge_of, scope_of
from gate.settings.credentials import (
    AK_FORMAT,
    METHOD_OPTIONS,
    MIN_SECRET,
    NAME_FORMAT,
    OPTION_NAMES,
    PASSWORD_FORMAT,
    SK_FORMAT,
    TOKEN_FORMAT,
    AkSkCredentials,
    Credentials,
    IamPasswordCredentials,
    SecretFormat,
    TokenCredentials,
    check_format,
    credentials_of,
    format_problem,
    raw_secrets,
    read_secret_file,
    secret_of,
)
from gate.settings.defect_options import (
    DefectSettings,
    defect_outputs_of,
    defect_settings_of,
    defect_severities_of,
)
from gate.settings.files import (
    is_readable_file,
    read_bytes_nowait,
    read_text_nowait,
)
from gate.settings.history_options import (
    SYNC_MODES,
    SuppressionSettings,
    baseline_options,
    read_suppressions,
    suppression_settings_of,
)
from gate.settings.network import (
    DEFAULT_REGION,
    DEFAULT_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    ca_bundle_of,
    endpoint_of,
    iam_endpoint_of,
    is_loopback,
    region_of,
    timeout_of,
)
from gate.settings.raw import (
    RawOptions,
)
from gate.settings.thresholds import (
    WARN_METRICS,
    policy_of,
    warn_levels_of,
)

__all__ = [
    "AK_FORMAT",
    "CI_BRANCH_VARIABLES",
    "DEFAULT_REGION",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WAIT_TIMEOUT",
    "MAX_TASKS",
    "METHOD_OPTIONS",
    "MIN_SECRET",
    "MODES",
    "MODE_CONFLICTS",
    "NAME_FORMAT",
    "OPTION_NAMES",
    "PASSWORD_FORMAT",
    "SK_FORMAT",
    "SYNC_MODES",
    "TOKEN_FORMAT",
    "WARN_METRICS",
    "AkSkCredentials",
    "ChangeSettings",
    "Credentials",
    "DefectSettings",
    "IamPasswordCredentials",
    "OutputPaths",
    "RawOptions",
    "SecretFormat",
    "Settings",
    "SuppressionSettings",
    "TaskRun",
    "TokenCredentials",
    "baseline_options",
    "branch_of",
    "build_settings",
    "ca_bundle_of",
    "change_settings_of",
    "check_format",
    "console_project_of",
    "credentials_of",
    "defect_outputs_of",
    "defect_settings_of",
    "defect_severities_of",
    "endpoint_of",
    "flag_of",
    "flags_beat_variables",
    "forge_of",
    "format_problem",
    "from_fork",
    "iam_endpoint_of",
    "is_loopback",
    "is_readable_file",
    "job_id_for",
    "job_id_of",
    "on_error_of",
    "one_task",
    "outputs_of",
    "policy_of",
    "project_in_url",
    "raw_secrets",
    "read_bytes_nowait",
    "read_secret_file",
    "read_suppressions",
    "read_text_nowait",
    "refuse_insecure_secrets",
    "refuse_with_several_tasks",
    "region_of",
    "scope_of",
    "secret_of",
    "several_tasks",
    "suppression_settings_of",
    "task_id_of",
    "task_options",
    "task_raw",
    "task_tables_of",
    "timeout_of",
    "verdict_policy_of",
    "waits",
    "warn_levels_of",
]
