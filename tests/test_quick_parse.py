"""The quick reading of plain command lines (``gate.cli.quick_parse``) agrees with click on
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

LONG_NAMES = sorted(name for option in cli.OPTIONS for name in option.names if name[:1] == "-")
VARIABLES = sorted(
    {v for option in cli.OPTIONS for v in option.variables()}
    | set(cli.ENV_FLAGS.values())
    | {"_CODEARTS_GATE_COMPLETE"}
)
VALUES = ["", "x", "-", "-x", "--junit", "a,b", "critical=1", " major = 2 ,", "true", "false"]

tokens = st.one_of(
    st.sampled_from(LONG_NAMES),
    st.sampled_from(["-vv", "-vvv", "-vq", "-qv", "-h", "--", "job", "-", "--no-such"]),
    st.builds(lambda n, v: f"{n}={v}", st.sampled_from(LONG_NAMES), st.sampled_from(VALUES)),
    st.sampled_from(VALUES),
)
environments = st.dictionaries(st.sampled_from(VARIABLES), st.sampled_from(VALUES), max_size=5)


def read_by_click(args: list[str]) -> cli.Parsed | None:
    """What click makes of the command line: its parameters and their sources; None for
    an error, the help or the version."""
    command = cli.command()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            context = command.make_context(cli.PROG_NAME, list(args))
        except (click.exceptions.ClickException, click.exceptions.Exit):
            return None
    env = click.core.ParameterSource.ENVIRONMENT
    read = {n for n in context.params if context.get_parameter_source(n) is env}
    return cli.Parsed(context.params, cli.options_from_env(context.params, read))


@settings(max_examples=examples(400), deadline=None)
@given(args=st.lists(tokens, max_size=6), env=environments)
def test_what_the_quick_reading_accepts_click_reads_the_same(args, env):
    with mock.patch.dict(os.environ, env, clear=True):
        quick = cli.quick_parse(args)
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
        quick = cli.quick_parse(args)
        assert quick is not None
        assert quick == read_by_click(args)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["-h"], ["--version"], ["--no-such"], ["extra"], ["--junit"], ["--insecure=1"]],
)
def test_help_version_and_mistakes_are_left_to_click(args):
    assert cli.quick_parse(args) is None


def test_a_flag_set_by_its_variable_is_left_to_click(monkeypatch):
    monkeypatch.setenv("CODEARTS_DEFECTS", "true")
    assert cli.quick_parse(["--job-id", "abc"]) is None


def test_an_option_the_quick_reading_cannot_follow_sends_every_line_to_click(monkeypatch):
    odd = cli._option("--retries", type=int, help="An option click converts.")
    monkeypatch.setattr(cli, "_QUICK", all(o.plain() for o in [*cli.OPTIONS, odd]))
    assert cli.quick_parse(["--job-id", "abc"]) is None


def test_interrupted_outside_the_run_exits_1_as_click_does(monkeypatch, capsys):
    def interrupted(_raw):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "execute", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--report-file", "r.json"])
    assert exit_info.value.code == 1
    assert "Aborted!" in capsys.readouterr().err
