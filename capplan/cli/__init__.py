"""``capplan``: the one command-line entry point. Every subcommand lives in this package, one
module per group (history: ingest and kpis; forecast: backtest, forecast, train, retrain;
accuracy; staff; scenario; capacity; schedule; targets; demo; store; app); each registers its
own parser, turns options into calls of the API and prints, and the store is made here, once.

Building the parser imports no heavy library (pandas, scipy, the models, MLflow): a command
imports what it uses when it runs, so ``capplan --help`` and ``capplan staff`` start at once.
An option whose choices, default or help come from such a module is completed by
:meth:`Parser.later`, when its own command parses or shows its help.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from capplan.cli import (
    accuracy,
    app,
    capacity,
    demo,
    forecast,
    history,
    scenario,
    schedule,
    staff,
    store,
    targets,
)
from capplan.cli.options import OptionValueError
from capplan.errors import InputError, cli_option


class Parser(argparse.ArgumentParser):
    """Usage mistakes get one line, like every other user error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._later: list[Callable[[], None]] = []

    def later(self, complete: Callable[[], None]) -> None:
        """``complete()`` sets what options of this command take from a module too slow to
        import for every command (their choices, default or help): it runs once, when this
        command parses its arguments or shows its help or usage, not when the parser is built."""
        self._later.append(complete)

    def _complete(self) -> None:
        while self._later:
            self._later.pop(0)()

    def parse_known_args(self, args=None, namespace=None):
        self._complete()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._complete()
        return super().format_usage()

    def format_help(self) -> str:
        self._complete()
        return super().format_help()

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _get_value(self, action: argparse.Action, arg_string: str):
        """A value refused by its type (``capplan.cli.options``) is an ``InputError`` naming
        the option it was given to."""
        try:
            return super()._get_value(action, arg_string)
        except OptionValueError as exc:
            raise exc.for_option(action.dest) from None


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="capplan", description="Capacity planning for contact centers.")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    parser.add_argument(
        "--store",
        metavar="URI",
        help="MLflow store for runs and models: a URI (sqlite:///path.db, http://server:5000) or a folder "
        "(default: MLFLOW_TRACKING_URI, else the local store; `capplan store` prints which)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (
        history,
        forecast,
        accuracy,
        staff,
        scenario,
        capacity,
        schedule,
        targets,
        demo,
        store,
        app,
    ):
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except InputError as exc:  # an option's value refused by its type
        print(f"capplan: error: {exc.render(cli_option)}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    from capplan.files import one_note
    from capplan.forecasts import PanelError
    from capplan.store import Store

    try:
        args.store = Store.open(args.store)
        with one_note():  # cells neutralised in the command's tables: said once
            code = args.handler(args)
        if args.store.created_by_this_process():  # said once, by the process that made it
            print(
                f"capplan: created the MLflow store {args.store.database} (choose another with --store or MLFLOW_TRACKING_URI)",
                file=sys.stderr,
            )
        return code
    except InputError as exc:
        print(f"capplan: error: {exc.render(cli_option)}", file=sys.stderr)
        return 2
    except PanelError as exc:  # some queues failed on the cluster: named, the others' results kept
        print(f"capplan: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("capplan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0


def run() -> None:
    """The ``capplan`` executable: :func:`main`, then exit without collecting what the process
    is about to drop anyway. After the models are imported, the interpreter's final garbage
    collections walk a million objects: 0.4 s of every command, a tenth of a daily forecast.
    Freezing them skips only those walks; ``atexit``, worker shutdown and flushing still run.
    (Not in :func:`main`, which tests and scripts call in a process that goes on.)"""
    import gc

    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
