"""``python -m app``: serve the dashboard with Flask's development server.

``python -m app --prepare`` builds everything a server needs (models, analyses, the
smaller plotly.js bundle from the npm registry, the compressed bundles) into the cache and
exits (the Docker image does this at build time).
For a public host use gunicorn (see README): ``gunicorn -c gunicorn.conf.py app:server``.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    from .settings import Settings

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    p = argparse.ArgumentParser(prog="python -m app", description="Serve the fooling dashboard.")
    p.add_argument("--host", default=settings.host, help=f"interface (env HOST, default {settings.host})")
    p.add_argument("--port", type=int, default=settings.port, help=f"port (env PORT, default {settings.port})")
    p.add_argument("--mnist", default=settings.mnist,
                   help="MNIST source: bundled (default), openml, or a path (env FOOLING_MNIST)")
    p.add_argument("--prepare", action="store_true",
                   help="build every model, analysis and compressed bundle into the cache, then exit")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from dataclasses import replace

    from fooling.datasets import DataError

    from . import create_app, load_resources, plotlyjs, serving

    settings = replace(settings, host=args.host, port=args.port, mnist=args.mnist)
    try:
        res = load_resources(settings)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bundle = plotlyjs.ensure(res.analysis.cache_dir)  # the smaller plotly.js, fetched once
    if bundle is not None:
        print(f"plotly.js: the cartesian partial bundle {bundle.version} ({len(bundle.data) / 1e6:.1f} MB, "
              "not the full 4.8 MB)", file=sys.stderr)
    app = create_app(res, settings)
    if args.prepare:
        n = serving.warm(app, app.compressor_, wait=True)
        print(f"prepared: models, analyses and {n} compressed bundles in {res.analysis.cache_dir}",
              file=sys.stderr)
        return 0
    serving.warm(app, app.compressor_, wait=False)  # the best copies follow in the background
    print(f"fooling dashboard on http://{settings.host}:{settings.port}/", file=sys.stderr)
    app.run(host=settings.host, port=settings.port, debug=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
