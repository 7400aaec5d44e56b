"""Every YAML file (mapping, targets, scenario) is parsed within bounds: size, nesting and alias
expansion. A 400-byte 'billion laughs' file expanded to gigabytes when validated."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from forecasting.common.errors import InputError
from forecasting.history.config import MAX_YAML_BYTES, MAX_YAML_DEPTH, read_yaml_mapping
from forecasting.history.targets import load_targets
from tests.conftest import BANK_CALLS

ROOT = Path(__file__).resolve().parents[3]


def alias_bomb(key: str, levels: int = 9, mapping: bool = False, prefix: str = "") -> bytes:
    """``key`` holding 9 ** levels copies of 'lol' through nested aliases, in a few hundred bytes."""

    def level(i: int) -> str:
        items = ['"lol"'] * 9 if i == 0 else [f"*a{i - 1}"] * 9
        if mapping:
            return f"&a{i} {{" + ", ".join(f"k{j}: {item}" for j, item in enumerate(items)) + "}"
        return f"&a{i} [" + ",".join(items) + "]"

    return (prefix + f"{key}: [" + ", ".join(level(i) for i in range(levels)) + "]\n").encode()


SCENARIO = f"name: bomb\ndata: {{input: {BANK_CALLS}, time_col: DateTime, value_col: Calls}}\n"
KPIS = ["kpis", str(BANK_CALLS), "--time-col", "DateTime", "--value-col", "Calls"]
COMMANDS = {  # file kind: (the bomb as that file, the command line that reads it: {} is its path)
    "mapping": (
        lambda m: alias_bomb("realtime_channels", mapping=m),
        ["ingest", "log.csv", "--mapping", "{}", "--out", "out"],
    ),
    "targets": (
        lambda m: alias_bomb("first_response", mapping=m),
        [*KPIS, "--targets", "{}", "--out", "out"],
    ),
    "scenario": (
        lambda m: alias_bomb("description", mapping=m, prefix=SCENARIO),
        ["scenario", "run", "{}", "--no-track"],
    ),
}


@pytest.mark.parametrize("mapping", [False, True], ids=["lists", "mappings"])
@pytest.mark.parametrize("kind", COMMANDS)
def test_an_alias_bomb_is_one_line_in_bounded_memory(tmp_path, kind, mapping):
    """The command runs under a 1 GB address-space limit: expanding the aliases would need more."""
    write, command = COMMANDS[kind]
    bomb = tmp_path / f"{kind}.yaml"
    bomb.write_bytes(write(mapping))
    assert len(bomb.read_bytes()) < 1_000  # a few hundred bytes
    (tmp_path / "log.csv").write_text("contact_id,arrival_time\nc1,2024-01-08 09:00:00\n")
    args = [a.replace("{}", str(bomb)) for a in command]
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))\n"
        "from capplan.cli import main\n"
        f"sys.exit(main(['-q', *{args!r}]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {"PYTHONPATH": str(ROOT), "CAPPLAN_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert str(bomb) in done.stderr and f"aliases expand it to more than {MAX_YAML_BYTES:,}" in done.stderr


def refused(tmp_path: Path, content: bytes, name: str = "config.yaml") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_yaml_mapping(path, "mapping file")
    message = str(err.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"columns: " + b"[" * 100_000 + b"]" * 100_000, f"nested more than {MAX_YAML_DEPTH} levels"),
        (b"columns: " + b"{a: " * 30_000 + b"1" + b"}" * 30_000, f"nested more than {MAX_YAML_DEPTH} levels"),
        (
            b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 200)),
            f"nested more than {MAX_YAML_DEPTH}",
        ),
        # few levels written, many once aliases are expanded: each alias nests the one before
        (
            b"a: [&x0 [1], " + b", ".join(b"&x%d [*x%d]" % (i, i - 1) for i in range(1, 60)) + b"]\n",
            "levels deep once its aliases are expanded",
        ),
        (b"columns: &a [*a]\n", "an alias refers to the collection it is in"),
        (b"columns: &a {x: *a}\n", "an alias refers to the collection it is in"),
        (b"sep: '" + b"x" * (MAX_YAML_BYTES + 1) + b"'\n", f"at most {MAX_YAML_BYTES:,} bytes"),
        # wide rather than deep: 2,000 aliases of a 400-character text
        (
            b"a: &t '" + b"x" * 400 + b"'\nb: [" + b", ".join([b"*t"] * 2_000) + b"]\n",
            "aliases expand it",
        ),
    ],
    ids=[
        "deep lists",
        "deep mappings",
        "deep blocks",
        "alias chain",
        "self list",
        "self mapping",
        "too large",
        "wide aliases",
    ],
)
def test_a_document_beyond_the_bounds_is_refused_in_one_line(tmp_path, content, words):
    assert words in refused(tmp_path, content)


def test_a_device_is_not_read(tmp_path):
    with pytest.raises(InputError, match="not a regular file"):
        read_yaml_mapping(Path(os.devnull), "targets file")


def test_ordinary_anchors_and_aliases_still_load(tmp_path):
    """Bounds, not a ban: an anchor reused a few times is what YAML is for."""
    path = tmp_path / "targets.yaml"
    path.write_text(
        "targets: {service_level: &share {min: 0.8}, fcr: *share}\n"
        "queues: {sales: {service_level: *share}, support: {service_level: *share}}\n"
    )
    targets = load_targets(path)
    assert targets.queues["support"]["service_level"].min == 0.8 == targets.targets["fcr"].min


def test_yes_and_no_are_text_where_text_is_expected(tmp_path):
    """YAML 1.1 read a status 'No' as false; it was kept as the text 'False' and matched nothing."""
    from forecasting.history.contact_log import load_mapping

    path = tmp_path / "mapping.yaml"
    path.write_text("columns: {status: {column: Solved, resolved: [Yes, Closed], open: [No, On hold]}}\n")
    spec = load_mapping(path).columns["status"]
    assert spec.resolved == ("Yes", "Closed") and spec.open == ("No", "On hold")
