# Image of the Calendly source connector, in Airbyte's convention for Python connectors.
#
# Build:  docker build -t source-calendly:dev .
# On machines without a registry (see scripts/build_image.sh):
#         podman build --build-arg BASE_IMAGE=localbase:bookworm -t source-calendly:dev .
# Run:    docker run --rm source-calendly:dev spec
#
# The default base is the one named in metadata.yaml `connectorBuildOptions.baseImage` (keep them equal).
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code

# 1. The locked runtime dependencies, exactly as in uv.lock: requirements.lock is
#    `uv export --frozen --no-dev --no-emit-project` (a unit test keeps it in sync), with hashes,
#    so pip installs only those versions and files. A layer of its own, so code changes reuse it.
COPY requirements.lock ./
RUN python -m pip install --no-cache-dir --disable-pip-version-check --progress-bar off --root-user-action=ignore \
    --require-hashes -r requirements.lock

# 2. The connector itself (no dependencies: they are all above). Bytecode is compiled here, as root,
#    because the unprivileged user cannot write __pycache__ at run time.
COPY pyproject.toml README.md main.py ./
COPY source_calendly ./source_calendly
RUN python -m pip install --no-cache-dir --disable-pip-version-check --progress-bar off --root-user-action=ignore \
    --no-deps . \
    && python -m compileall -q main.py source_calendly

LABEL io.airbyte.name=source-calendly \
      io.airbyte.version=0.1.0

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

USER airbyte
