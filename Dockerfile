# rivalwatch daemon with a system Chromium for script-rendered pages.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-liberation ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 rivalwatch
WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY classifiers ./classifiers
COPY responders ./responders
COPY config ./config
# editable, so the shipped defaults in /app/config (the severity rubric) stay beside the code
RUN pip install --no-cache-dir -e .

USER rivalwatch
WORKDIR /data
# Mount the ops-owned config (and battle cards) at /config and state at /data.
# Secrets come from the environment: SLACK_BOT_TOKEN, OPENAI_API_KEY, database passwords.
ENV RIVALWATCH_CONFIG=/config/rivalwatch.yaml \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
ENTRYPOINT ["rivalwatch"]
CMD ["run"]
