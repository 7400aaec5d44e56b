"""Chat with concurrency: an agent handling k chats at once works through them e_k times as
fast as one at a time (e_k < k), so each chat lasts longer than AHT / k.

Default efficiency factors are DOMAIN.md's typical 1, 1.7, 2.5, 2.9, 3.5 for k = 1…5. Staffing
treats each agent as k chat slots, each chat occupying a slot for AHT·k/e_k, and sizes the
slots with Erlang C (or A); agents = slots / k, rounded up.
"""

from __future__ import annotations

import numpy as np

from scenarios.staffing.requirements import StaffingTargets, required_agents, service_metrics

DEFAULT_EFFICIENCY = (1.0, 1.7, 2.5, 2.9, 3.5)


def effective_chat_aht(aht, concurrency: int, efficiency=DEFAULT_EFFICIENCY) -> np.ndarray:
    """How long one chat occupies its slot when an agent runs ``concurrency`` chats."""
    if not 1 <= concurrency <= len(efficiency):
        raise ValueError(
            f"concurrency must be between 1 and {len(efficiency)} (the efficiency factors given)"
        )
    factor = efficiency[concurrency - 1]
    if factor <= 0 or factor > concurrency:
        raise ValueError("an efficiency factor must be in (0, k]")
    return np.asarray(aht, float) * concurrency / factor


def chat_required_agents(
    volume,
    aht,
    interval_seconds,
    targets: StaffingTargets,
    concurrency: int,
    efficiency=DEFAULT_EFFICIENCY,
    model: str = "erlang-c",
    patience=None,
) -> np.ndarray:
    slots = required_agents(
        volume, effective_chat_aht(aht, concurrency, efficiency), interval_seconds, targets, model, patience
    )
    return np.ceil(slots / concurrency).astype(np.int64)


def chat_service(
    volume,
    aht,
    interval_seconds,
    agents,
    target_seconds,
    concurrency: int,
    efficiency=DEFAULT_EFFICIENCY,
    model: str = "erlang-c",
    patience=None,
) -> dict[str, np.ndarray]:
    """The service ``agents`` give when each runs ``concurrency`` chats."""
    slots = np.asarray(agents, float) * concurrency
    return service_metrics(
        volume,
        effective_chat_aht(aht, concurrency, efficiency),
        interval_seconds,
        slots,
        target_seconds,
        model,
        patience,
    )
