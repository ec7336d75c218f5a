"""Command line: ``python -m fooling {build,reproduce,invert}``.

``build``      train and cache every model (progress on stderr).
``reproduce``  print the essays' numbers beside ours; ``--json`` prints one JSON object
               on stdout and nothing else there.
``invert``     ``--network identity|tanh|relu --point X Y [--valid] [--json]``: the image that
               lands on a hidden point, re-propagated (a point no image reaches, or a
               coordinate that is not a finite number within +-1e7: a message, exit 2).
``score``      ``FILE.npz --network identity|tanh|relu [--json]``: every out-of-distribution
               score, the prediction and the probabilities of each image in the file's
               ``images`` array (see :mod:`fooling.images`; a bad file: a message, exit 2).

Each takes ``--mnist bundled|openml|PATH`` (default: ``$FOOLING_MNIST``, else bundled).
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
    _invert_parser(sub)
    _score_parser(sub)
    return p


MAX_COORDINATE = 1e7
"""``invert --point``: coordinates beyond this in absolute value are refused (as in the app)."""


def _coordinate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text.strip()!r} is not a number") from None
    if not value == value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text.strip()!r} is not a finite number")
    if abs(value) > MAX_COORDINATE:
        raise argparse.ArgumentTypeError(f"{text.strip()} is too large: coordinates must lie "
                                         f"within -{MAX_COORDINATE:,.0f} and {MAX_COORDINATE:,.0f}")
    return value


def _invert_parser(sub) -> None:
    text = "turn a point of a network's 2-unit hidden layer into an image, re-propagated"
    s = sub.add_parser("invert", help=text, description=text)
    s.add_argument("--network", required=True, choices=("identity", "tanh", "relu"))
    s.add_argument("--point", required=True, nargs=2, type=_coordinate, metavar=("X", "Y"),
                   help="the hidden point (negative values as they are: --point -500 500)")
    s.add_argument("--valid", action="store_true", help="keep every pixel in [0, 1]")
    s.add_argument("--mnist", default=None, metavar="SOURCE",
                   help="bundled (default), openml, or a path to MNIST IDX files / an .npz "
                        "(env FOOLING_MNIST)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--json", action="store_true", help="one JSON object on stdout")


def _shield_point(argv: list[str]) -> list[str]:
    """Let ``--point`` take values argparse would read as options (-1e3, -inf, -nan)."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg == "--point":
            for j in (i + 1, i + 2):
                if j < len(out) and out[j].startswith("-") and out[j][1:2] not in ("", "-"):
                    out[j] = " " + out[j]  # argparse takes an argument with a space as a value
    return out


def _invert(ws, args) -> int:
    from .export import format_inversion, inversion_report
    from .inversion import InversionError

    try:
        report = inversion_report(ws.mnist[args.network], args.point, valid=args.valid)
    except InversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(report, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(format_inversion(report))
    return 0


def _score_parser(sub) -> None:
    text = "score images (an .npz with an 'images' array) with every out-of-distribution score"
    s = sub.add_parser("score", help=text, description=text)
    s.add_argument("file", metavar="FILE.npz",
                   help="'images': n x 784 or n x 28 x 28; integers are 0-255 grey levels, floats as they are")
    s.add_argument("--network", required=True, choices=("identity", "tanh", "relu"))
    s.add_argument("--mnist", default=None, metavar="SOURCE",
                   help="bundled (default), openml, or a path to MNIST IDX files / an .npz "
                        "(env FOOLING_MNIST)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--json", action="store_true", help="one JSON object on stdout (null: not finite)")


def _score(ws, args) -> int:
    from .analysis import WorkspaceAnalysis
    from .ood import format_scores, score_report

    report = score_report(WorkspaceAnalysis(ws).scorer(args.network), args.images, args.network)
    if args.json:
        json.dump(report, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(format_scores(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = _parser().parse_args(_shield_point(sys.argv[1:] if argv is None else argv))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s: %(message)s")
    warnings.simplefilter("default")
    from .datasets import DataError
    from .report import format_table, reproduce
    from .workspace import load_workspace

    if args.command == "score":  # a bad file fails before any model is loaded or trained
        from .images import read_images

        try:
            args.images = read_images(args.file)
        except DataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    only = {"models": (args.network,)} if args.command in ("invert", "score") else {}
    try:
        ws = load_workspace(args.mnist, progress=not args.quiet, **only)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "invert":
        return _invert(ws, args)
    if args.command == "score":
        return _score(ws, args)
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
