# The ECP Portal web and worker image (Debian 12, Python 3.11).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-core poppler-utils gettext \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN useradd --system --home /app ecp && mkdir -p /srv/ecp/media && chown -R ecp /srv/ecp /app
# collectstatic needs settings that pass the production checks; these build-time values are not used at run time.
RUN DJANGO_ENV=production SECRET_KEY=build-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=build DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput -v0
USER ecp
EXPOSE 8000
CMD ["gunicorn", "ecp_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "2", "--access-logfile", "-"]
