"""The Targets page and ``capplan targets`` answer one question with one figure in one set of
words: the same sentences, and the plan's and the risk's FTE named by the vocabulary's phrases
("staffed to the forecast in each interval", "on 80% of days")."""

from forecasting.common.vocabulary import EACH_INTERVAL, format_value, fte_question, on_days
from tests.apps.test_streamlit_app import by_label, open_page


def test_page_and_cli_name_each_fte_figure_alike(store, run_cli):
    at = open_page("targets")
    assert by_label(at.number_input, "Headcount (FTE)").value == 360.0  # the baseline's own supply
    code, out, err = run_cli("targets", "baseline")
    assert code == 0, err
    cli = [line for line in out.split("\n\n")[0].splitlines() if line.endswith(".")]  # the sentences
    page = [m.value.strip("*") for m in at.markdown]
    assert len(cli) >= 5 and page[: len(cli)] == cli
    metrics = {m.label: m.value for m in at.metric}
    plan, days = fte_question("fte_total"), fte_question("fte_for_target_days", days_share=0.8)
    assert plan == f"FTE {EACH_INTERVAL}" and days == f"FTE to meet the target {on_days(0.8)}"
    plan_sentence = next(line for line in cli if line.startswith(f"To meet 80/20 {EACH_INTERVAL}"))
    days_sentence = next(line for line in cli if line.startswith(f"To meet 80/20 {on_days(0.8)}"))
    assert f": {metrics[plan]} FTE" in plan_sentence
    assert f": {metrics[days]} FTE" in days_sentence
    plan_row = next(line for line in out.splitlines() if "← the plan" in line)
    assert metrics[plan] in plan_row
    assert any(f"FTE each target costs ({EACH_INTERVAL};" in c.value for c in at.caption)
    assert f"FTE each target costs ({EACH_INTERVAL};" in out


def test_agents_on_the_phones_on_the_page_equal_the_cli(store, run_cli):
    at = open_page("targets")
    at.radio(key="supply_kind").set_value("Agents on the phones").run()
    by_label(at.number_input, "Agents on the phones").set_value(200.0).run()
    assert not at.exception, [e.value for e in at.exception]
    code, out, err = run_cli("targets", "baseline", "--agents", "200")
    assert code == 0, err
    first = next(m.value.strip("*") for m in at.markdown if m.value.strip("*").startswith("With"))
    assert first.startswith("With 200.0 agents on the phones in each open interval (")
    assert first == out.splitlines()[0]
    assert format_value("fte_total", 200.0) in first
