"""Command line: ``python -m fooling {build,reproduce}``.

``build``      train and cache every model (progress on stderr).
``reproduce``  print the essays' numbers beside ours; ``--json`` prints one JSON object
               on stdout and nothing else there.

Both take ``--mnist bundled|openml|PATH`` (default: ``$FOOLING_MNIST``, else bundled).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m fooling", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("build", "train and cache every model"),
                       ("reproduce", "print the essays' numbers beside ours")):
        s = sub.add_parser(name, help=text, description=text)
        s.add_argument("--mnist", default=None, metavar="SOURCE",
                       help="bundled (default), openml, or a path to MNIST IDX files / an .npz "
                            "(env FOOLING_MNIST)")
        s.add_argument("--quiet", action="store_true", help="no progress bar")
        if name == "reproduce":
            s.add_argument("--json", action="store_true", help="one JSON object on stdout")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s: %(message)s")
    warnings.simplefilter("default")
    from .datasets import DataError
    from .report import format_table, reproduce
    from .workspace import load_workspace

    try:
        ws = load_workspace(args.mnist, progress=not args.quiet)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "build":
        for name, m in ws.mnist.items():
            t = m.trained
            print(f"{name}: held-out accuracy {t.test_accuracy:.3f} ({len(t.loss_curve)} epochs)",
                  file=sys.stderr)
        return 0
    report = reproduce(ws)
    if args.json:
        json.dump(report, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
