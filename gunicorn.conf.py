"""gunicorn settings for the dashboard: ``gunicorn -c gunicorn.conf.py app:server``.

Environment: ``PORT`` (default 8050), ``WEB_CONCURRENCY`` (worker processes, default 2),
``GUNICORN_THREADS`` (threads per worker, default 4), ``HOST`` is not read here: a
container serves on every interface (``0.0.0.0``); pass ``--bind 127.0.0.1:PORT`` on a
shared machine.

The app is built once in the master (``preload_app``) and the workers fork from it, so
trained models and grids are loaded once and shared copy-on-write.
"""

import os

# One BLAS/OpenMP thread per process, set before numpy is imported by the preloaded app:
# forked workers must not inherit (or deadlock on) a thread pool built in the master.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def _int(name: str, default: int, lo: int, hi: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SystemExit(f"{name} must be between {lo} and {hi}, got {value}")
    return value


bind = f"0.0.0.0:{_int('PORT', 8050, 1, 65535)}"
workers = _int("WEB_CONCURRENCY", 2, 1, 64)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4, 1, 64)
preload_app = True

timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 1000
max_requests_jitter = 100

# request head limits (bodies are capped by the app: FOOLING_MAX_BODY)
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

# no runtime control socket (it would sit in $HOME and collide between instances)
control_socket_disable = True
# never reload code in a served process
reload = False


def when_ready(server):
    """With ``preload_app``: run one request in the master before the workers fork.

    Dash finishes its one-time setup (script routes, validation, CSP hashes) on the first
    request, and the static bundles are compressed at the best levels (kept on disk, so
    only the first start on an empty cache pays for it); done here, every worker (and
    every worker restarted by ``max_requests``) is born ready instead of each doing it
    under its first burst of requests.
    """
    if not server.cfg.preload_app:
        return
    try:
        wsgi = server.app.wsgi()
        with wsgi.test_client() as client:
            status = client.get("/health").status_code
        import app
        from app import serving

        bundles = serving.warm(app.dash_app, app.dash_app.compressor_)
    except Exception:  # never keep the server from starting over a warm-up
        server.log.exception("warm-up request failed")
    else:
        server.log.info("app set up in the master before forking (/health %s, %d compressed bundles)",
                        status, bundles)
    # keep the preloaded objects out of the workers' garbage collections, so their memory
    # pages stay shared with the master instead of being copied on first touch
    import gc

    gc.collect()
    gc.freeze()
