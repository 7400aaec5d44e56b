"""FileOutputs: a single-file command's companions replace only its own unchanged outputs (issue 24)."""

import pytest

from forecasting.common.errors import InputError
from forecasting.common.output_files import MARKER, FileOutputs, OutputFolder, check_output_file


def write(text):
    return lambda path: path.write_text(text)


def test_a_companion_another_command_wrote_is_refused_and_named(tmp_path):
    with OutputFolder(tmp_path, "ingest") as folder:
        folder.path("a_fte.csv").write_text("ingest's\n")
    outputs = FileOutputs("staff", tmp_path / "a.csv")
    with pytest.raises(InputError, match=r"`ingest` wrote.*kept"):
        outputs.expect(tmp_path / "a_fte.csv")
    assert (tmp_path / "a_fte.csv").read_text() == "ingest's\n"


def test_written_files_are_recorded_and_replaced_only_by_their_command(tmp_path):
    main, side = tmp_path / "a.csv", tmp_path / "a_fte.csv"
    for text in ("one\n", "two\n"):
        outputs = FileOutputs("staff", main)
        outputs.expect(side)
        outputs.write(side, write(text))
        outputs.write(main, write(text))
    assert side.read_text() == main.read_text() == "two\n"
    with pytest.raises(InputError, match="`staff` wrote"):  # another command's --out over it
        check_output_file(main, command="forecast")
    assert check_output_file(main, command="staff") == main
    other = FileOutputs("other", tmp_path / "b.csv")
    with pytest.raises(InputError, match="`staff` wrote"):
        other.expect(tmp_path / "a_fte.csv")


def test_a_file_appearing_during_the_work_is_kept(tmp_path):
    outputs = FileOutputs("staff", tmp_path / "a.csv")
    outputs.expect(tmp_path / "a_fte.csv")
    (tmp_path / "a_fte.csv").write_text("mine\n")
    with pytest.raises(InputError, match="kept"):
        outputs.write(tmp_path / "a_fte.csv", write("ours\n"))
    assert (tmp_path / "a_fte.csv").read_text() == "mine\n"


def test_a_users_file_named_like_the_marker_is_kept(tmp_path):
    (tmp_path / MARKER).write_text("my notes\n")
    with pytest.raises(InputError, match="kept"):
        FileOutputs("staff", tmp_path / "a.csv")
    assert (tmp_path / MARKER).read_text() == "my notes\n"


def test_an_unexpected_file_is_a_bug(tmp_path):
    with pytest.raises(ValueError):
        FileOutputs("staff", tmp_path / "a.csv").write(tmp_path / "b.csv", write("x"))
