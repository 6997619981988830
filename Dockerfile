# syntax=docker/dockerfile:1
# One image for every role; only the command changes:
#   api      crm serve --host 0.0.0.0      (default)
#   migrate  crm migrate
#   worker   crm worker

# --- build: a virtualenv holding the project (not editable) and its runtime dependencies ----
FROM python:3.12-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# A compiler for any dependency that has no wheel for this platform.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/rapport
ENV PATH=/opt/rapport/bin:$PATH
WORKDIR /src

# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install -r requirements.txt

COPY README.md ./
COPY app ./app
COPY gql ./gql
COPY workflows ./workflows
COPY domain ./domain
RUN pip install --no-deps . \
    && python -m compileall -q /opt/rapport/lib

# --- runtime: the virtualenv only, run by an unprivileged user -------------------------------
FROM python:3.12-slim AS runtime

RUN useradd --uid 10001 --user-group --no-create-home --home-dir /app app
# Owned by root: the app user can run the code, not change it.
COPY --from=build /opt/rapport /opt/rapport
WORKDIR /app
RUN chown app:app /app

ENV PATH=/opt/rapport/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RAPPORT_ENV=production \
    RAPPORT_HOST=0.0.0.0 \
    RAPPORT_PORT=8000

USER app
EXPOSE 8000
CMD ["crm", "serve", "--host", "0.0.0.0"]
