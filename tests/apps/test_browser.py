"""End to end in a real browser: Debian's Chromium, driven by Playwright, against `streamlit run`.

Starts the app on a store with a champion and two scenario runs, runs a what-if from the
scenario builder (saved to MLflow), compares scenarios, shows a rejected upload, and saves
screenshots to out/screenshots/ (to docs/screenshots/, which the README shows, with
CAPPLAN_UPDATE_SCREENSHOTS=1).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.apps.conftest import APP

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ("docs" if os.environ.get("CAPPLAN_UPDATE_SCREENSHOTS") else "out") / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(filled_store, tmp_path_factory):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=filled_store.tracking_uri)
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with open(log, "w") as output:
        yield from _serve(env, log, output, port)


def _serve(env: dict, log, output, port: int):
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"streamlit did not start: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    yield url
    server.terminate()
    server.wait(30)


@pytest.fixture(scope="module")
def page(app_url):
    chromium = _chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.set_default_timeout(120_000)
        page.goto(app_url)
        app_navigation(page)
        yield page
        browser.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1500)  # let charts finish drawing
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def wait_idle(page) -> None:
    """Until Streamlit has finished running the script (its status widget disappears)."""
    page.wait_for_timeout(500)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=180_000)


def app_navigation(page) -> None:
    """Until the sidebar shows the app's own navigation. Before the main script has run once,
    Streamlit may draw the files of apps/pages/ as links of their own ("data kpis"); a click
    on one runs that page alone, outside the app."""
    for _ in range(5):
        try:
            page.get_by_role("link", name="Data & KPIs", exact=True).wait_for(timeout=20_000)
            return
        except Exception:
            page.reload()
    page.get_by_role("link", name="Data & KPIs", exact=True).wait_for()


def choose_upload(page) -> None:
    """Switch Data & KPIs to an upload and wait until its uploader is drawn: on a busy machine
    the rerun may start after wait_idle has looked, and a file set before it can be lost."""
    page.get_by_text("Upload a file").click()
    page.get_by_text("Contact log or interval report").first.wait_for()
    wait_idle(page)


def upload(page, path, nth: int = 0) -> None:
    """Give the nth file uploader a file and wait until it shows the file's name and the page
    has run with it."""
    page.locator('input[type="file"]').nth(nth).set_input_files(str(path))
    page.get_by_text(Path(path).name, exact=True).first.wait_for()
    wait_idle(page)


def go(page, title: str) -> None:
    page.get_by_role("link", name=title, exact=True).first.click()
    wait_idle(page)


PAGES = (
    "Overview",
    "Data & KPIs",
    "Forecast",
    "Scenario builder",
    "Compare",
    "Targets",
    "Capacity plan",
    "Schedule",
)
SIZES = ((1280, 800), (1920, 1080))


def no_error_on_the_page(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.first.inner_text()


def test_every_page_opens_without_an_error_at_both_sizes(page):
    """First open of each page, as a planner would: no exception, no error box; a screenshot of
    each at a laptop's and a desktop's size (docs/screenshots with CAPPLAN_UPDATE_SCREENSHOTS=1)."""
    for title in PAGES:
        go(page, title)
        page.get_by_role("heading", name=HEADINGS[title]).first.wait_for()
        wait_idle(page)  # the page as a planner reads it, not its spinner (Targets costs a few seconds)
        no_error_on_the_page(page)
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(500)
            name = title.lower().replace(" & ", "_").replace(" ", "_")
            shot(page, f"{name}_{width}x{height}")
    page.set_viewport_size({"width": 1400, "height": 1800})


HEADINGS = {
    "Overview": "Capacity planning",
    "Data & KPIs": "Data & KPIs",
    "Forecast": "Forecast",
    "Scenario builder": "Scenario builder",
    "Compare": "Compare scenarios",
    "Targets": "Realistic targets",
    "Capacity plan": "Capacity plan",
    "Schedule": "Schedule",
}


def test_a_multi_column_report_is_uploaded_and_read(page, tmp_path):
    """A daily ACD export with offered, handled, abandoned and the export's own service level
    over handled calls: the columns are recognised, the denominator chosen, the KPIs shown."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(2)
    days = pd.date_range("2021-10-01", "2021-12-31")
    offered = rng.poisson(400, len(days))
    handled = (offered * 0.75).astype(int)
    report = pd.DataFrame(
        {
            "Date": days.strftime("%Y-%m-%d"),
            "Offered": offered,
            "Handled": handled,
            "Abandoned": offered - handled,
            "SL": rng.uniform(0.45, 0.6, len(days)).round(3),
            "Agents": 12,
        }
    )
    path = tmp_path / "acd_daily.csv"
    report.to_csv(path, index=False)
    go(page, "Data & KPIs")
    choose_upload(page)
    upload(page, path)
    page.get_by_text("The report's service level is a share of").wait_for()
    page.get_by_text("handled (answered) calls").click()
    wait_idle(page)
    page.get_by_text("rows read").first.wait_for()
    page.get_by_text("columns not read").first.wait_for()  # drawn after the counts on a busy machine
    no_error_on_the_page(page)
    body = page.locator("body").inner_text()  # tables are drawn on a canvas: their cells are not text
    assert "columns not read: Agents" in body and "share of handled contacts" in body, body[-3000:]
    shot(page, "data_upload_report")


def test_a_helpdesk_export_is_read_with_its_mapping_and_reviewed(page, tmp_path):
    """A helpdesk export (experiments/helpdesk): detected as a contact log, read with its
    mapping (minutes, hours, status) and the SLA targets uploaded beside it; the quarterly
    review shows SLAs per channel and the backlog."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_export", ROOT / "experiments/helpdesk/make_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    export = tmp_path / "helpdesk_export.csv"
    module.make_export(__import__("pandas").Timestamp("2025-06-30 16:00"), days=200).to_csv(
        export, index=False
    )
    go(page, "Data & KPIs")
    choose_upload(page)
    upload(page, export)
    page.get_by_text("Mapping file (YAML, optional)").wait_for()  # asked for contact logs only: detected
    upload(page, ROOT / "experiments/helpdesk/mapping.yaml", 1)
    page.get_by_text("rows read").first.wait_for()
    upload(page, ROOT / "experiments/helpdesk/targets.yaml", 2)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("quarter", exact=True).click()
    wait_idle(page)
    page.get_by_text("KPI review: quarter").wait_for()  # the rerun may not have started at once
    wait_idle(page)
    no_error_on_the_page(page)
    body = page.locator("body").inner_text()
    for text in ("KPI review: quarter", "first response within SLA", "Largest misses", "past resolution SLA"):
        assert text in body, text
    shot(page, "data_helpdesk_review")


def test_overview_shows_the_scenarios(page):
    go(page, "Overview")
    page.get_by_text("Scenarios (2)").wait_for()
    assert page.get_by_role("heading", name="Capacity planning").is_visible()


def test_run_a_scenario_from_the_builder(page):
    go(page, "Scenario builder")
    page.get_by_text("What-if (instant)").wait_for()
    growth = page.get_by_label("Overall growth (%)")
    growth.fill("20")
    growth.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Run and save").click()
    page.get_by_text("Saved 'baseline_what_if'").wait_for(timeout=180_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_text("What-if (instant)").scroll_into_view_if_needed()
    shot(page, "scenario_builder")


def test_compare_two_scenarios(page):
    go(page, "Compare")
    page.get_by_text("Latest run of each scenario").wait_for()
    assert page.get_by_text("campaign_week", exact=False).first.is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_bad_upload_is_explained(page, tmp_path):
    go(page, "Data & KPIs")
    choose_upload(page)
    bad = tmp_path / "calls_export.csv"
    bad.write_text("contact_id,queue,arrival_time\n1,sales,next tuesday\n")
    page.locator('input[type="file"]').first.set_input_files(str(bad))
    wait_idle(page)
    error = page.locator('[data-testid="stAlertContentError"]').first
    error.wait_for()
    assert "calls_export.csv" in error.inner_text()
    assert "capplan-upload" not in error.inner_text() and "/tmp" not in error.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not list(Path(tempfile.gettempdir()).glob("capplan-upload-*/*"))  # read, then deleted
    assert not (Path(tempfile.gettempdir()) / "capplan-uploads").exists()  # older versions' folder
    shot(page, "data_upload_error")


def test_an_upload_with_a_very_long_name_is_read(page):
    """A browser may send a name longer than a file system allows (255 bytes): the upload is
    read under a shortened name instead of failing with a server path."""
    go(page, "Data & KPIs")
    choose_upload(page)
    rows = "contact_id,arrival_time\n" + "".join(f"{i},2024-01-08 08:{i:02d}\n" for i in range(30))
    name = "calls_" + "é" * 150 + ".csv"  # 306 bytes in UTF-8
    page.locator('input[type="file"]').first.set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": rows.encode()}]
    )
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_text("rows read").first.wait_for()
    assert not list(Path(tempfile.gettempdir()).glob("capplan-upload-*/*"))


TABLE_OVERFLOW = """() => [...document.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"]')]
  .filter(e => e.getBoundingClientRect().width > 0)
  .map(e => {
    const box = e.querySelector('.dvn-scroller') || e;
    return {kind: e.dataset.testid, scroll: box.scrollWidth, client: box.clientWidth};
  })"""


def test_no_table_is_cut_off_at_1280_px(page):
    """At a laptop's 1280 x 800, with the sidebar open, every table of every page fits its
    width (no sideways scrolling hides a column); expanders opened so their tables are drawn."""
    page.set_viewport_size({"width": 1280, "height": 800})
    cut = {}
    try:
        for title in PAGES:
            go(page, title)
            page.get_by_role("heading", name=HEADINGS[title]).first.wait_for()
            for summary in page.locator('[data-testid="stExpander"] summary').all():
                summary.click()
            wait_idle(page)
            page.wait_for_timeout(1500)  # grids measure their columns after drawing
            tables = page.evaluate(TABLE_OVERFLOW)
            evidence = ROOT / "out" / "screenshots"  # evidence to look at, not the README's
            evidence.mkdir(parents=True, exist_ok=True)
            name = title.lower().replace(" & ", "_").replace(" ", "_")
            page.screenshot(path=str(evidence / f"tables_{name}_1280x800.png"))
            wider = [t for t in tables if t["scroll"] > t["client"] + 1]
            if wider:
                cut[title] = wider
    finally:
        page.set_viewport_size({"width": 1400, "height": 1800})
    assert not cut, "; ".join(
        f"{p}: {t}" for p, t in cut.items()
    )  # every page looked at, then all the tables that scroll sideways named
