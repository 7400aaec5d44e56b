"""``capplan``: the one command-line entry point; each package registers its subcommands."""

from __future__ import annotations

import argparse
import logging
import sys

from forecasting import cli as forecasting_cli
from forecasting.errors import InputError
from scenarios import scenario_command, staff_command


class Parser(argparse.ArgumentParser):
    """Usage mistakes get one line, like every other user error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="capplan", description="Capacity planning for contact centers.")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    forecasting_cli.register(sub)
    staff_command.register(sub)
    scenario_command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    try:
        return args.handler(args)
    except InputError as exc:
        print(f"capplan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("capplan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
