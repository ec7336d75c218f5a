# The fooling dashboard, served by gunicorn.
#
#   docker build -t fooling .                      # bundled MNIST sample (offline)
#   docker build --build-arg MNIST=openml -t fooling .   # full MNIST (needs network at build)
#   docker run --rm -p 8050:8050 fooling           # then open http://localhost:8050/
#
# Models are trained at build time into the image (as the unprivileged user that serves
# them), so a container starts in seconds and never writes outside its cache folder.
FROM python:3.11-slim

ARG MNIST=bundled

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    FOOLING_MNIST=${MNIST} \
    FOOLING_CACHE_DIR=/home/app/.cache/fooling \
    PORT=8050 \
    WEB_CONCURRENCY=2

RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin app

WORKDIR /app
COPY pyproject.toml README.md gunicorn.conf.py ./
COPY fooling ./fooling
COPY app ./app
COPY assets ./assets

# runtime dependencies only (no test extras); the app itself runs from /app (PYTHONPATH),
# where assets/ sits beside app/
RUN pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info

USER 10001:10001
RUN python -m fooling build --quiet && python -m app --prepare

EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8050'), timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:server"]
