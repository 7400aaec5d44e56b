"""The shape the developers' guide asks for, checked on the source: MLflow behind one package,
dependencies pointing one way (apps → capplan → scenarios → forecasting; scenarios.staffing depends on
nothing of ours), and no import cycles between project modules (lazy imports count too)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("capplan", "forecasting", "scenarios", "apps")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] == "apps":  # the app's pages import app_support as a top-level module
        parts = ["apps", parts[-1]] if parts[-1] != "streamlit_app" else parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    return {
        _module_name(p): p
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if "bundled_files" not in p.parts
    }


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    local = ("app_support", "charts")  # the app's pages import its helpers as top-level modules
    return {f"apps.{name.split('.')[0]}" if name.split(".")[0] in local else name for name in found}


def _graph() -> dict[str, set[str]]:
    sources = _sources()
    return {m: {i for i in _imports(p) if i in sources and i != m} for m, p in sources.items()}


def test_mlflow_is_imported_in_at_most_three_modules_all_in_the_store_package():
    users = {
        m for m, p in _sources().items() if any(i == "mlflow" or i.startswith("mlflow.") for i in _imports(p))
    }
    assert len(users) <= 3 and all(m.startswith("forecasting.store") for m in users), users


def test_only_the_store_reads_mlflow_variables():
    read = re.compile(r"""(environ(\.get)?[\[(]|getenv\()\s*["']MLFLOW_""")
    readers = {
        m
        for m, p in _sources().items()
        if read.search(p.read_text()) and not m.startswith("forecasting.store")
    }
    assert not readers


def test_dependencies_point_one_way():
    for module, imports in _graph().items():
        if module.startswith("forecasting"):
            assert not {i for i in imports if i.startswith(("capplan", "scenarios", "apps"))}, module
        if module.startswith("scenarios"):
            assert not {i for i in imports if i.startswith(("capplan", "apps"))}, module
        if module.startswith("capplan"):
            assert not {i for i in imports if i.startswith("apps")}, module
        if module.startswith("apps"):
            assert not {i for i in imports if i.startswith(("forecasting", "scenarios"))}, module
        if module.startswith("scenarios.staffing"):
            assert all(i.startswith("scenarios.staffing") for i in imports), module


def test_front_ends_reach_the_core_only_through_capplan():
    """The command line and the app import ``capplan`` and its modules (and the app its own
    helpers), never ``forecasting`` or ``scenarios``: the core can move without them."""
    core = ("forecasting", "scenarios")
    found = {
        f"{module} imports {name}"
        for module, path in _sources().items()
        if module.startswith(("capplan.cli", "apps"))
        for name in _imports(path)
        if name.split(".")[0] in core
    }
    assert not found, sorted(found)


def test_capplan_modules_re_export_names_that_exist():
    """Every name a front-end module of capplan promises is where it says (a moved core name
    fails here, not in a user's command)."""
    import importlib

    for path in sorted((ROOT / "capplan").glob("*.py")):
        module = importlib.import_module(f"capplan.{path.stem}") if path.stem != "__init__" else None
        for name in getattr(module, "SOURCES", {}):
            assert getattr(module, name) is not None, f"capplan.{path.stem}.{name}"


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not cycles, cycles


def test_core_errors_name_settings_not_command_line_options():
    """The core names settings (``option="sep"``, ``<<sep>>``); only the CLI says ``--sep``."""
    option = re.compile(r"(^|[\s`(])--[a-z]")
    found = []
    for module, path in _sources().items():
        if module.startswith(("capplan.cli", "apps")):
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
            if id(node) not in docstrings and option.search(text):
                found.append(f"{module}:{node.lineno}: {text[:60]}")
    assert not found, found


def test_settings_are_said_in_each_front_ends_words():
    from apps.app_support import APP_SETTINGS
    from forecasting.common.errors import InputError, cli_option

    error = InputError("bad delimiter", option="sep", expected="one character; or set <<encoding>> first")
    assert error.render(cli_option) == "--sep: bad delimiter: expected one character; or set --encoding first"
    assert error.render(APP_SETTINGS.get).startswith("'Field delimiter': bad delimiter")
    assert str(error).startswith("the field delimiter: bad delimiter") and "<<" not in str(error)
