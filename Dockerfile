# The production image: gunicorn serves the site (the Procfile's `web`); compose.yaml runs the same image as
# the one-shot `migrate`, the Celery `worker` and `beat`. Not built in our CI: our machines reach no registry
# for base images, so hadolint (.ci/run) is all that checks this file there.

# Builder: the runtime requirements (not requirements-dev.txt) in a venv. Every pin has a wheel for this
# platform, psycopg[binary] bundles libpq, so no compiler or apt package is needed.
FROM python:3.11-slim-bookworm AS builder
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:$PATH" \
    WEB_BIND=0.0.0.0:8000
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# The code stays root's (read-only to the app); .dockerignore leaves out tests/, bench/, docs/, var/, .env.
COPY . .
# Static files collected once, here, with DEBUG off (whitenoise's compressed, hashed copies). Settings demand
# the secrets when DEBUG is off, so throwaway values on this line only: none is kept in the image.
# var/ is the app's (beat's schedule, photos under var/media unless MEDIA_ROOT says otherwise); the collected
# static files stay root's.
RUN DJANGO_SECRET_KEY=build-only STRIPE_SECRET_KEY=build-only STRIPE_PUBLISHABLE_KEY=build-only \
        STRIPE_WEBHOOK_SECRET=build-only CALENDAR_SECRET_KEYS=yTquFHQMGpxIK0X7KlisSWgB2DKp_TzVazFbQn8P5Jo= \
        python manage.py collectstatic --noinput \
    && mkdir -p var/media var/beat \
    && chown -R 10001:10001 var \
    && chown -R root:root var/staticfiles
USER 10001:10001
EXPOSE 8000
# Liveness only (/healthz); /readyz also checks the database, cache, broker, media and beat. Worker and beat
# run this image too: compose.yaml turns this check off for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# CMD, not ENTRYPOINT, so compose's `command:` replaces it for migrate, worker and beat.
CMD ["gunicorn", "mentorship.wsgi", "--config", "gunicorn.conf.py"]
