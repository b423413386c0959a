"""The temporary file beside an output (gate.outputs.create_beside, in place of tempfile's
mkstemp): private, never an existing file or a link, another name on a collision."""

from __future__ import annotations

import itertools
import os
import stat

import pytest

from gate import outputs


def test_the_temporary_file_is_new_private_and_beside_the_target(tmp_path):
    fd, name = outputs.create_beside(tmp_path / "r.json")
    os.close(fd)
    made = tmp_path / os.path.basename(name)
    assert made.parent == tmp_path and made.name.startswith(".r.json.")
    assert stat.S_IMODE(made.stat().st_mode) == 0o600


def test_a_name_taken_by_a_file_or_a_link_is_passed_over(tmp_path, monkeypatch):
    draws = itertools.chain([b"\0" * 6, b"\1" * 6], itertools.repeat(b"\2" * 6))
    monkeypatch.setattr(os, "urandom", lambda n: next(draws))
    (tmp_path / f".r.json.{'00' * 6}.tmp").write_text("someone else's")
    (tmp_path / f".r.json.{'01' * 6}.tmp").symlink_to(tmp_path / "elsewhere")
    fd, name = outputs.create_beside(tmp_path / "r.json")
    os.close(fd)
    assert name.endswith(f".r.json.{'02' * 6}.tmp")
    assert not (tmp_path / "elsewhere").exists()  # the link was not followed


def test_no_free_name_is_an_error_not_a_loop(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "urandom", lambda n: b"\0" * n)
    (tmp_path / f".r.json.{'00' * 6}.tmp").write_text("taken")
    with pytest.raises(FileExistsError, match="no free temporary name"):
        outputs.create_beside(tmp_path / "r.json")
