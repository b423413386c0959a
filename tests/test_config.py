"""The config file, the settings registry and provenance: precedence flag > variable >
file > default for every setting, ``--show-config``, hostile files, unknown variables."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from gaterun import GATE, clean_env
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from gate.cli import main
from gate.errors import UsageError
from gate.settings import RawOptions, build_settings
from gate.settings.registry import SECTIONS, SETTINGS, Setting, unknown_variables

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
API_EXAMPLE = str(EXAMPLES / "reports" / "api-example.json")
CLEAN = str(EXAMPLES / "reports" / "clean.json")


@pytest.fixture
def runner(clean_runner):
    return clean_runner


def invoke(runner, args, env=None):
    return runner.invoke(main, args, env=env, catch_exceptions=False)


def shown(output: str) -> dict[str, tuple[str, str]]:
    """``--show-config``'s lines as name -> (value, source)."""
    rows = {}
    for line in output.splitlines()[1:]:
        parts = line.split()
        if parts and not line.startswith("codearts-gate:"):
            cut = -2 if parts[-2] == "variable" else -1
            rows[parts[0]] = (" ".join(parts[1:cut]), " ".join(parts[cut:]))
    return rows


# ------------------------------------------------------------------ precedence property

SOURCES = ("flag", "variable", "file")


def possible_sources(setting: Setting) -> list[str]:
    kinds = ["flag"]
    if setting.variables:
        kinds.append("variable")
    if setting.file:
        kinds.append("file")
    return kinds


def value_for(setting: Setting, source: str) -> str:
    """A value of the setting's kind that tells which source it came from."""
    if setting.kind == "list":
        return {"flag": "minor=1", "variable": "minor=2", "file": "minor=3"}[source]
    return {"flag": "qq7-by-flag", "variable": "qq7-by-var", "file": "qq7-by-file"}[source]


def given_as(setting: Setting, source: str) -> tuple[list[str], dict[str, str], str]:
    """(arguments, variables, config line) giving ``setting`` from ``source``."""
    value = value_for(setting, source)
    switch = setting.kind in ("switch", "bool", "count")
    if source == "flag":
        return ([setting.flag] if switch else [setting.flag, value]), {}, ""
    if source == "variable":
        return [], {setting.variables[0]: "true" if switch else value}, ""
    return [], {}, f"{setting.name} = {'true' if switch else repr(value)}\n"


MASKED = ("ak", "token-file", "sk-file", "iam-password-file")
"""Masked like secrets: the AK names the account; a path may be a secret pasted there."""
TESTABLE = [s for s in SETTINGS if s.name not in ("config", "show-config")]
SETTING_SOURCES = st.sampled_from(TESTABLE).flatmap(
    lambda s: st.tuples(
        st.just(s), st.sets(st.sampled_from(possible_sources(s)), min_size=0, max_size=3)
    )
)


@hyp_settings(max_examples=150, deadline=None)
@given(case=SETTING_SOURCES)
def test_every_precedence_pair_for_every_setting(tmp_path_factory, case):
    """For each setting and each set of sources, the strongest wins and is named."""
    setting, sources = case
    folder = tmp_path_factory.mktemp("config")
    args, env, text = ["--show-config"], dict(clean_env()), ""
    for source in sources:
        more_args, more_env, line = given_as(setting, source)
        args += more_args
        env.update(more_env)
        text += line
    config = folder / "codearts-gate.toml"
    config.write_text(text, encoding="utf-8")
    env["CODEARTS_CONFIG"] = str(config)
    for name in [n for n in env if n.startswith(("CODEARTS_", "HUAWEI_CLOUD_"))]:
        if name != "CODEARTS_CONFIG" and name not in setting.variables[:1]:
            del env[name]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    value, source = shown(result.output)[setting.name]
    winner = next((s for s in SOURCES if s in sources), None)
    if winner is None:
        assert source == "default"
    elif winner == "flag":
        assert source == "flag"
    elif winner == "variable":
        assert source == f"variable {setting.variables[0]}"
    else:
        assert source == f"{config}:1"
    if winner and (setting.secret or setting.name in MASKED):
        assert value == "***"
    elif winner and setting.kind in ("text", "list"):
        assert value == value_for(setting, winner)


def test_show_config_names_variable_sources_in_full(runner):
    result = invoke(runner, ["--show-config"], env={"CODEARTS_MAX_MAJOR": "4"})
    assert "max-major" in result.output
    line = next(x for x in result.output.splitlines() if x.split()[:1] == ["max-major"])
    assert line.split()[1:] == ["4", "variable", "CODEARTS_MAX_MAJOR"]


# ------------------------------------------------------------------ the file in use


def write(folder: Path, text: str | bytes, name: str = "codearts-gate.toml") -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_a_file_in_the_working_directory_sets_the_policy(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, 'max-major = 4\nmax-new = "off"\njson = "out/r.json"\n')
    result = invoke(runner, ["--report-file", API_EXAMPLE])
    assert result.exit_code == 0, result.output + result.stderr
    assert (tmp_path / "out" / "r.json").is_file()
    assert invoke(runner, ["--report-file", API_EXAMPLE, "--max-major", "3"]).exit_code == 1
    env = {"CODEARTS_MAX_MAJOR": "3"}
    assert invoke(runner, ["--report-file", API_EXAMPLE], env=env).exit_code == 1


def test_the_file_at_the_top_of_the_git_checkout_is_found_from_a_subfolder(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, 'max-major = 4\nmax = ["new=off"]\n')
    sub = tmp_path / "services" / "api"
    sub.mkdir(parents=True)
    proc = subprocess.run(
        [str(GATE), "--report-file", API_EXAMPLE, "-v"],
        cwd=sub,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "found at the top of the checkout" in proc.stderr  # -v shows the settings
    assert f"{tmp_path / 'codearts-gate.toml'}:1" in proc.stderr


def test_no_file_above_the_checkout_top_is_read(tmp_path, monkeypatch):
    write(tmp_path, "max-major = 4\n")  # outside the checkout: not this repository's
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "src").mkdir()
    monkeypatch.chdir(repo / "src")
    result = CliRunner().invoke(main, ["--show-config"], env=clean_env(), catch_exceptions=False)
    assert shown(result.output)["max-major"] == ("0", "default")


def test_a_utf8_byte_order_mark_is_accepted(runner, tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbfmax-major = 4\nmax-new = 'off'\n")
    result = invoke(runner, ["--report-file", API_EXAMPLE, "--config", str(path)])
    assert result.exit_code == 0, result.stderr


def test_a_variable_credential_beats_a_file_credential_path(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("file-token-123456\n", encoding="utf-8")
    raw = RawOptions(
        job_id="j",
        token="variable-token-1234",
        token_file=str(secret),
        sources={"token": "variable CODEARTS_TOKEN", "token_file": "codearts-gate.toml:3"},
    )
    creds = build_settings(raw).credentials
    assert creds is not None and creds.secrets() == ("variable-token-1234",)


def test_a_variable_mode_beats_a_file_mode(runner, tmp_path):
    raw = RawOptions(
        task_id="t",
        run="true",
        wait="true",
        token="variable-token-1234",
        branch="",
        sources={"run": "codearts-gate.toml:1", "wait": "variable CODEARTS_WAIT"},
    )
    settings = build_settings(raw)
    assert (settings.run, settings.wait) == (False, True)


def test_thresholds_merge_by_level_file_under_variables(runner, tmp_path):
    path = write(tmp_path, 'max = ["critical=5", "major=5"]\nmax-new = 9\n')
    result = invoke(
        runner,
        ["--show-config", "--config", str(path)],
        env={"CODEARTS_MAX_MAJOR": "1"},
    )
    rows = shown(result.output)
    assert rows["max"][0] == "critical=5, major=5" and rows["max-major"][0] == "1"
    raw = RawOptions(
        max=("major=5",),
        max_major="1",
        sources={"max": "codearts-gate.toml:1", "max_major": "variable CODEARTS_MAX_MAJOR"},
    )
    from gate.settings import policy_of

    assert {t.metric: t.maximum for t in policy_of(raw).thresholds}["major"] == 1


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize("key", ["token", "sk", "iam-password"])
def test_a_secret_in_the_file_is_exit_2_without_its_value(runner, tmp_path, key):
    path = write(tmp_path, f'# team policy\n{key} = "hunter2-SECRET-value"\n')
    junit = tmp_path / "j.xml"
    result = invoke(runner, ["--config", str(path), "--report-file", CLEAN, "--junit", str(junit)])
    assert result.exit_code == 2
    assert f"{path}:2: '{key}' holds a secret" in result.stderr
    assert "CODEARTS_" in result.stderr  # says where secrets belong
    assert "hunter2" not in result.output + result.stderr + junit.read_text()


@pytest.mark.parametrize("key", ["token-file", "sk-file", "iam-password-file", "ak"])
def test_secret_file_paths_and_the_ak_are_allowed(runner, tmp_path, key):
    path = write(tmp_path, f'{key} = "some-value-1234567890"\n')
    result = invoke(runner, ["--config", str(path), "--show-config"])
    assert result.exit_code == 0, result.stderr
    assert shown(result.output)[key][1] == f"{path}:1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\n\nmax-majr = 1\n", ":3: unknown key 'max-majr' (did you mean 'max-major'?)"),
        ("max-major = [1]\n", ":1: 'max-major' must be a whole number or a string, got a list"),
        ("timeout = true\n", ":1: 'timeout' must be"),
        ("run = 'yes'\n", ":1: 'run' must be true or false, got a string"),
        ("max = [1, 2]\n", ":1: 'max' must be a list of strings"),
        ("junit = 2026-01-01\n", ":1: 'junit' must be a string, got a date"),
        ("[max]\nminor = 1\n", ":?: 'max' must be a list or a string, got a table"),
        ("max-major = 99999999999999999\n", ":1: 'max-major' is out of range"),
        ("endpoint = 'https://collector.example'\n", "cannot be set in the config file"),
        ("report-file = 'clean.json'\n", "cannot be set in the config file"),
        ("max-major = 1\nmax-major = 2\n", "is not valid TOML"),
        ("max-major = \n", "is not valid TOML"),
        ("a = " + "[" * 4000 + "]" * 4000 + "\n", "nested too deeply"),
        ("a = " + "1" * 5000 + "\n", "out of range"),
    ],
)
def test_hostile_or_wrong_files_are_exit_2_naming_file_line_and_key(
    runner, tmp_path, text, expected
):
    path = write(tmp_path, text)
    result = invoke(runner, ["--config", str(path), "--report-file", CLEAN])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.parametrize(
    "data",
    [b"max-major = 1\n\xff\xfe\n", b"\x00" * 64, b"x" * (300 * 1024)],
    ids=["not-utf8", "nul", "huge"],
)
def test_binary_and_huge_files_are_exit_2(runner, tmp_path, data):
    path = write(tmp_path, data)
    result = invoke(runner, ["--config", str(path), "--report-file", CLEAN])
    assert result.exit_code == 2
    assert "config file" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_config_file_is_exit_2(runner, tmp_path):
    env = {"CODEARTS_CONFIG": str(tmp_path / "nope.toml")}
    result = invoke(runner, ["--report-file", CLEAN], env=env)
    assert result.exit_code == 2 and "cannot read the config file" in result.stderr


@hyp_settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode()))
def test_any_file_is_read_or_refused_never_a_traceback(tmp_path_factory, data):
    path = write(tmp_path_factory.mktemp("hostile"), data)
    env = {**clean_env(), "CODEARTS_CONFIG": str(path)}
    result = CliRunner().invoke(main, ["--show-config"], env=env, catch_exceptions=False)
    assert result.exit_code in (0, 2)


# ------------------------------------------------------------------ variables


def test_a_misspelt_variable_is_a_warning_with_a_suggestion(runner):
    result = invoke(runner, ["--report-file", CLEAN], env={"CODEARTS_MAX_MAJ": "5"})
    assert result.exit_code == 0
    assert "CODEARTS_MAX_MAJ is not a setting" in result.stderr
    assert "did you mean 'CODEARTS_MAX_MAJOR'" in result.stderr


def test_tooling_variables_and_known_ones_are_not_warned_about():
    assert unknown_variables(["CODEARTS_GATE_IMAGE", "CODEARTS_TOKEN", "PATH"]) == []
    assert len(unknown_variables(["CODEARTS_NOPE"])) == 1


def test_an_invalid_yes_no_variable_is_exit_2(runner):
    result = invoke(runner, ["--report-file", CLEAN], env={"CODEARTS_DEFECTS": "maybe"})
    assert result.exit_code == 2 and "CODEARTS_DEFECTS must be true or false" in result.output


# ------------------------------------------------------------------ show-config


def test_show_config_masks_secrets_and_contacts_nothing(runner, fake_api):
    token = "tok-NEVER-PRINT-9f8e7d"
    env = {"CODEARTS_TOKEN": token, "CODEARTS_ENDPOINT": fake_api.url}
    result = invoke(runner, ["--show-config", "--job-id", "j"], env=env)
    assert result.exit_code == 0
    assert token not in result.output + result.stderr
    assert shown(result.output)["token"] == ("***", "variable CODEARTS_TOKEN")
    assert len(fake_api.requests) == 0


def test_show_config_escapes_hostile_values(runner):
    result = invoke(runner, ["--show-config", "--junit", "a\n::error::pwned\x1b[2J"])
    assert result.exit_code == 0
    assert "\n::error" not in result.output and "\x1b" not in result.output


def test_usage_errors_still_apply_after_the_file(runner, tmp_path):
    path = write(tmp_path, 'on-error = "maybe"\n')
    result = invoke(runner, ["--config", str(path), "--report-file", CLEAN])
    assert result.exit_code == 2 and "--on-error must be" in result.stderr
    assert f"(set in {path}:1)" in result.stderr  # says where to fix it
    result = invoke(runner, ["--report-file", CLEAN, "--on-error", "maybe"])
    assert result.exit_code == 2 and "(set in" not in result.stderr


def test_settings_raise_usage_errors_for_bad_switch_words():
    raw = RawOptions(run="perhaps", task_id="t", token="x" * 20, sources={"run": "f:1"})
    with pytest.raises(UsageError):
        build_settings(raw)


# ------------------------------------------------------------------ help


def test_help_is_grouped_into_sections_with_examples_and_flow_defaults(runner):
    text = invoke(runner, ["--help"]).output
    positions = [text.index(f"\n{title}:\n") for title in SECTIONS]
    assert positions == sorted(positions)
    assert "Examples:" in text and "--show-config" in text
    assert "1800 s with --run" in " ".join(text.split())
    flat = " ".join(text.split())
    for setting in SETTINGS:
        for variable in setting.variables:
            assert variable in flat, variable


def test_the_example_file_is_valid(runner):
    result = invoke(runner, ["--show-config", "--config", str(EXAMPLES / "codearts-gate.toml")])
    assert result.exit_code == 0, result.stderr
    rows = shown(result.output)
    assert rows["max"][0] == "minor=200, suggestion=off"
    value, source = rows["tasks"]
    assert "(web)" in value and "(worker)" in value
    text = (EXAMPLES / "codearts-gate.toml").read_text(encoding="utf-8").splitlines()
    assert text[int(source.rsplit(":", 1)[1]) - 1] == "[[tasks]]"


def test_a_fifo_without_a_writer_reads_as_empty_and_an_endless_file_is_cut(runner, tmp_path):
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    result = invoke(runner, ["--show-config", "--config", str(fifo)])
    assert result.exit_code == 0  # nothing to read: no hang, no setting
    result = invoke(runner, ["--show-config", "--config", "/dev/zero"])
    assert result.exit_code == 2 and "over 256 KiB" in result.stderr
