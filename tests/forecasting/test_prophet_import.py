"""Prophet is imported without its matplotlib plotting, and leaves matplotlib usable."""

import subprocess
import sys

CHECK = """
import sys
from forecasting.models.topdown import prophet_class
Prophet = prophet_class()
assert Prophet.__name__ == "Prophet"
assert "matplotlib" not in sys.modules, "Prophet's import loaded matplotlib"
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
fig, ax = plt.subplots()
ax.plot(pd.date_range("2024-01-01", periods=3), [1, 2, 3])  # pandas' date converters still in place
fig.savefig(sys.argv[1])
"""


def test_prophet_import_skips_matplotlib_and_leaves_it_importable(tmp_path):
    out = tmp_path / "plot.png"
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
    assert "Importing matplotlib failed" not in done.stderr  # the notice is kept quiet


def test_prophet_import_elsewhere_than_the_main_thread_is_plain():
    code = (
        "import sys, threading\n"
        "from forecasting.models.topdown import prophet_class\n"
        "t = threading.Thread(target=prophet_class); t.start(); t.join()\n"
        "assert 'prophet' in sys.modules and 'matplotlib' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
