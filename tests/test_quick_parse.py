"""The quick reading of plain command lines (``gate.cli.quick_raw``) agrees with click on
every command line it accepts, and declines the rest to click; the common pipeline lines
are read quickly, so that a verdict does not import click."""

from __future__ import annotations

import contextlib
import io
import os
from unittest import mock

import click
import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from gate import cli
from gate.settings import RawOptions
from gate.settings.registry import OWN_VARIABLES, SETTINGS

LONG_NAMES = sorted(name for setting in SETTINGS for name in (setting.flag, setting.short) if name)
VARIABLES = sorted(OWN_VARIABLES | {cli.COMPLETION_VARIABLE})
VALUES = ["", "x", "-", "-x", "--junit", "a,b", "critical=1", " major = 2 ,", "true", "false"]

tokens = st.one_of(
    st.sampled_from(LONG_NAMES),
    st.sampled_from(["-vv", "-vvv", "-vq", "-qv", "-h", "--", "job", "-", "--no-such"]),
    st.builds(lambda n, v: f"{n}={v}", st.sampled_from(LONG_NAMES), st.sampled_from(VALUES)),
    st.sampled_from(VALUES),
)
environments = st.dictionaries(st.sampled_from(VARIABLES), st.sampled_from(VALUES), max_size=5)


def read_by_click(args: list[str]) -> RawOptions | None:
    """What click makes of the command line (and the environment, read by the gate as for
    the quick reading); None for an error, the help or the version."""
    command = cli.command()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            context = command.make_context(cli.PROG_NAME, list(args))
        except (click.exceptions.ClickException, click.exceptions.Exit):
            return None
    try:
        return cli.gathered(cli.given_by_click(context), os.environ)
    except cli.VariableError:
        return None


@settings(max_examples=examples(400), deadline=None)
@given(args=st.lists(tokens, max_size=6), env=environments)
def test_what_the_quick_reading_accepts_click_reads_the_same(args, env):
    with mock.patch.dict(os.environ, env, clear=True):
        quick = cli.quick_raw(args, os.environ)
        if quick is None:
            return
        assert read_by_click(args) == quick


PIPELINE_LINES = [
    (["--report-file", "r.json", "--junit", "j.xml", "--summary=s.md", "--json", "r.json"], {}),
    (["--job-id", "abc", "-vv", "--max", "minor=5", "--max=new=off", "-q"], {}),
    (["--task-id", "t1", "--run", "--sarif", "d.sarif", "--timeout", "600"], {}),
    ([], {"CODEARTS_JOB_ID": "abc", "CODEARTS_TOKEN": "t", "CODEARTS_MAX": "minor=5,new=off"}),
    (
        ["--report-file", "-", "--on-error", "warn"],
        {"CODEARTS_RUN": "no", "HUAWEI_CLOUD_REGION": "r"},
    ),
]


@pytest.mark.parametrize(("args", "env"), PIPELINE_LINES)
def test_pipeline_lines_are_read_quickly_and_as_click_reads_them(args, env):
    with mock.patch.dict(os.environ, env, clear=True):
        quick = cli.quick_raw(args, os.environ)
        assert quick is not None
        assert quick == read_by_click(args)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["-h"], ["--version"], ["--no-such"], ["extra"], ["--junit"], ["--insecure=1"]],
)
def test_help_version_and_mistakes_are_left_to_click(args):
    assert cli.quick_raw(args, {}) is None


def test_a_flag_set_by_its_variable_is_left_to_click(monkeypatch):
    monkeypatch.setenv("CODEARTS_DEFECTS", "true")
    assert cli.quick_raw(["--job-id", "abc"], os.environ) is None


def test_every_kind_of_setting_is_one_the_quick_reading_knows():
    """A new kind of setting would be read wrongly, not declined: the list is closed."""
    known = {"text", "optional", "list", *cli.NO_VALUE_KINDS}
    assert {setting.kind for setting in SETTINGS} <= known


def test_interrupted_outside_the_run_exits_1_as_click_does(monkeypatch, capsys):
    def interrupted(_raw):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "execute", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--report-file", "r.json"])
    assert exit_info.value.code == 1
    assert "Aborted!" in capsys.readouterr().err
