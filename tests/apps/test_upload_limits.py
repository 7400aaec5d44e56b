"""Uploads are bounded before they are read: a data file by Streamlit's server.maxUploadSize, a
mapping or targets file by the YAML loader's size; a small alias bomb is one line, not the
server's memory."""

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from tests.apps.conftest import APP
from tests.forecasting.history.test_bounded_yaml import alias_bomb

LOG = (
    b"contact_id,queue,arrival_time,answer_time,end_time,handle_seconds,abandoned\n"
    b"c1,sales,2024-01-08 09:00:00,2024-01-08 09:00:30,2024-01-08 09:05:00,270,0\n"
    b"c2,sales,2024-01-08 09:01:00,2024-01-08 09:01:10,2024-01-08 09:04:00,170,0\n"
)


def data_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page("pages/data_kpis.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def uploader(at: AppTest, starts: str):
    return next(u for u in at.get("file_uploader") if u.label.startswith(starts))


def errors(at: AppTest) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    return [e.value for e in at.error]


@pytest.fixture
def one_mb_data_limit():
    """The server's data limit set to 1 MB, as an operator would in .streamlit/config.toml."""
    before = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 1)
    yield
    config.set_option("server.maxUploadSize", before)


def test_an_oversized_data_upload_is_refused_unread_at_the_server_limit(empty_store, one_mb_data_limit):
    at = data_page()
    at.radio(key="source").set_value("Upload a file").run()
    data_uploader = uploader(at, "Contact log or interval report")
    assert "up to 1 MB" in data_uploader.label  # the limit said where the file is chosen
    data_uploader.set_value(("calls.csv", LOG + b"x" * 2**20, "text/csv")).run()
    (shown,) = errors(at)
    assert shown.startswith("calls.csv: too large to upload") and "at most 1.0 MB" in shown
    assert "\n" not in shown and "capplan ingest" in shown


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"# padding\n" * 60_000, ["too large to upload", "at most"]),  # 600 KB: refused unread
        (alias_bomb("targets"), ["aliases expand it", "at most"]),  # 400 bytes: refused unexpanded
    ],
)
def test_a_targets_upload_is_bounded(empty_store, content, words):
    at = data_page()
    uploader(at, "Targets file").set_value(("targets.yaml", content, "text/yaml")).run()
    (shown,) = errors(at)
    assert shown.startswith("targets.yaml") and all(w in shown for w in words) and "\n" not in shown


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"# padding\n" * 60_000, ["too large to upload", "at most"]),
        (alias_bomb("columns"), ["aliases expand it", "at most"]),
    ],
)
def test_a_mapping_upload_is_bounded(empty_store, content, words):
    at = data_page()
    at.radio(key="source").set_value("Upload a file").run()
    uploader(at, "Contact log or interval report").set_value(("log.csv", LOG, "text/csv")).run()
    assert not errors(at)
    uploader(at, "Mapping file").set_value(("mapping.yaml", content, "text/yaml")).run()
    (shown,) = errors(at)
    assert shown.startswith("mapping.yaml") and all(w in shown for w in words) and "\n" not in shown
