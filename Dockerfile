# rivalwatch daemon with a system Chromium for script-rendered pages.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-liberation ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 rivalwatch
WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY monitor ./monitor
COPY classifiers ./classifiers
COPY responders ./responders
COPY config ./config
# editable, so the shipped defaults in /app/config (the severity rubric) stay beside the code;
# gcc only while installing, to compile the page parser with mypyc (setup.py), then removed
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install --no-cache-dir -e . \
    && apt-get purge -y --auto-remove gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* /app/build \
    && python -c "from monitor import _native; print('parser:', _native.mode())"

USER rivalwatch
WORKDIR /data
# Mount the ops-owned config (and battle cards) at /config and state at /data.
# Secrets come from the environment: SLACK_BOT_TOKEN, OPENAI_API_KEY, database passwords.
ENV RIVALWATCH_CONFIG=/config/rivalwatch.yaml \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
ENTRYPOINT ["rivalwatch"]
CMD ["run"]
