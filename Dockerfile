# slotforce serve in a container: slim Python, a non-root user, the outbox on a volume, /healthz checked.
#   docker build -t slotforce .
#   docker run -v slotforce-data:/var/lib/slotforce -v ./slotforce.yml:/etc/slotforce/slotforce.yml:ro \
#              --env-file slotforce.env -p 127.0.0.1:8080:8080 slotforce
# deploy/compose.yml is a complete example; docs/operator.md ("Run it as a service") explains it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SLOTFORCE_CONFIG=/etc/slotforce/slotforce.yml

WORKDIR /build
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
# The pinned versions the tests ran with; the source tree is not kept in the image.
RUN pip install -c requirements.lock . \
 && rm -rf /build \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/slotforce --shell /usr/sbin/nologin slotforce \
 && mkdir -p /var/lib/slotforce /etc/slotforce \
 && chown slotforce:slotforce /var/lib/slotforce

# The outbox (store: sqlite:////var/lib/slotforce/outbox.db) must outlive the container.
VOLUME ["/var/lib/slotforce"]
WORKDIR /var/lib/slotforce
USER slotforce
EXPOSE 8080

# 503 (outbox cannot write, worker stopped, a missing secret, Salesforce failing) marks the container unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

# SIGTERM (docker stop) finishes the batch in hand and exits 0; give it time: docker stop -t 90.
STOPSIGNAL SIGTERM
ENTRYPOINT ["slotforce", "serve", "--host", "0.0.0.0", "--port", "8080", "--log-format", "json"]
