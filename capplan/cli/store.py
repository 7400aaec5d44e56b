"""``capplan store``: which MLflow store and forecast cache a command would use, and what they
hold (runs, registered models with their versions, contracts and live accuracy)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capplan.store import RegisteredModel, Store


def register(subparsers: argparse._SubParsersAction) -> None:
    info = subparsers.add_parser(
        "store",
        help="which MLflow store and forecast cache capplan uses, and what they hold (runs, registered models)",
    )
    info.set_defaults(handler=store_command)


def store_command(args: argparse.Namespace) -> int:
    from capplan.store import FORECASTING, SCENARIOS

    store = args.store
    print(f"tracking store: {store.tracking_uri}" + ("" if store.exists() else " (not created yet)"))
    if store.registry_uri != store.tracking_uri:
        print(f"model registry: {store.registry_uri}")
    print(f"forecast cache: {store.forecast_cache.folder}")
    for experiment in (FORECASTING, SCENARIOS):
        print(f"{experiment} runs: {len(store.runs(experiment))}")
    models = store.registered_models()
    print(f"registered models: {len(models)}")
    for model in models:
        print("\n".join(f"  {line}" for line in describe_model(store, model)))
    return 0


def describe_model(store: Store, model: RegisteredModel) -> list[str]:
    """A registered model in a few lines: versions and aliases, what the champion (else the
    newest version) forecasts, the period it was trained on and its live accuracy."""
    from capplan.forecasts import ModelContract, describe_live
    from capplan.store import CHAMPION

    aliases = ", ".join(f"{alias} {number}" for alias, number in sorted(model.aliases.items()))
    numbers = model.versions
    shown = model.aliases.get(CHAMPION, numbers[-1] if numbers else None)
    lines = [
        f"{model.name}: {len(numbers)} version{'s' if len(numbers) != 1 else ''}"
        + (f"; {aliases}" if aliases else "")
    ]
    if shown is None:
        return lines
    tags = model.tags.get(shown, {})
    contract = ModelContract.from_tags(tags)
    which = "champion" if model.aliases.get(CHAMPION) == shown else "newest"
    if contract is not None:
        source = f" from {contract.source}" if contract.source else ""
        lines.append(f"  version {shown} ({which}): {contract.describe()} ({contract.units}){source}")
    else:
        lines.append(f"  version {shown} ({which}): registered without a contract (an older capplan)")
    run = store.run(model.run_ids[shown])
    if run is not None:
        first, last = run.params.get("first_timestamp"), run.params.get("last_timestamp")
        if last:
            lines.append(
                f"  trained on data {'from ' + first[:10] + ' ' if first else ''}to {last[:16]}"
                f" ({run.params.get('chosen_model') or run.params.get('kind', '')}, run {run.run_id})"
            )
    live = describe_live(tags)
    if live:
        lines.append("  live accuracy: " + live)
    else:
        lines.append(
            f"  live accuracy: none logged (capplan accuracy --model {model.name} with the newer data)"
        )
    return lines
