# codearts-gate container image: the GitHub Action (action.yml), a GitLab CI job image
# (with `entrypoint: [""]`), a Jenkins `docker.image(...).inside` image, or `docker run`.
#
# tests/test_container_smoke.py repeats the RUN lines of the build stage (venvs, pip,
# build) outside Docker and runs the entrypoint as GitHub would: keep one command per
# RUN line, with paths under /opt or /tmp. The final stage's one RUN line (git from
# Debian) needs root and apt: the smoke test checks its form instead of replaying it.
#
# Reproducible: the release passes SOURCE_DATE_EPOCH (the commit time) as a build
# argument and BuildKit rewrites the layers' timestamps to it (rewrite-timestamp=true).

# Both stages use the same interpreter (the venv's python links to it), pinned by the
# digest of its multi-arch index (amd64, arm64, ...) so that a rebuild gets the same base.
# python:3.12-slim-bookworm (Python 3.12.14, 2026-08-25), digest as published by
# docker-library/repo-info (repos/python/remote/3.12-slim-bookworm.md). Dependabot
# proposes updates; both FROM lines must name the same image (a test checks it).
FROM python:3.12-slim-bookworm@sha256:0f5b26b9518d002b6173fd61daad821fa340635ebfec5bba471013f9ca114579 AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Set by the release (the commit time): the wheel's file times and pip's .pyc files
# (checked-hash instead of timestamps) then come out the same on every build.
ARG SOURCE_DATE_EPOCH
# The wheel is built with hash-pinned tools (build, hatchling) in a venv of their own,
# without build isolation, so nothing unpinned is downloaded; they stay in this stage.
RUN python -m venv /opt/build-tools
COPY requirements-build.txt ./
RUN /opt/build-tools/bin/pip install --no-cache-dir --require-hashes -r requirements-build.txt
# The gate's venv, dependencies first: this layer is reused while only the code changes.
# Every file pip may download must match a hash in docker/requirements.txt (a name
# Dependabot and the dependency graph read).
COPY docker/requirements.txt ./docker/
RUN python -m venv /opt/codearts-gate
# One command per RUN line on purpose (the smoke test replays them); layers of a build
# stage cost nothing in the image.
# hadolint ignore=DL3059
RUN /opt/codearts-gate/bin/pip install --no-cache-dir --require-hashes -r docker/requirements.txt
COPY pyproject.toml README.md LICENSE ./
COPY gate ./gate
RUN /opt/build-tools/bin/python -m build --wheel --no-isolation --outdir /tmp/dist .
# hadolint ignore=DL3059
RUN /opt/codearts-gate/bin/pip install --no-cache-dir --no-deps --no-index --find-links /tmp/dist codearts-gate

# python:3.12-slim-bookworm, the same digest as the build stage.
FROM python:3.12-slim-bookworm@sha256:0f5b26b9518d002b6173fd61daad821fa340635ebfec5bba471013f9ca114579
LABEL org.opencontainers.image.title="codearts-gate" \
      org.opencontainers.image.description="Quality gate for Huawei Cloud CodeArts Check" \
      org.opencontainers.image.licenses="Apache-2.0"
# git, for --scope change (the gate reads which files a change touched), by its exact
# bookworm version: a new Debian update fails the build until the pin is bumped
# (docs/releasing.md, Refreshing pins). No recommends; no apt lists or logs left behind
# (the logs hold the build's date). Before the venv: this layer changes far less often.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.39.5-0+deb12u3 \
    && rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log
# Only the finished venv is copied: no compiler, no build backend, no source tree. Its
# files are world-readable, so any uid (Jenkins `.inside`, `docker run --user`) can run it;
# the base image keeps `sh` and `cat`, which GitLab and Jenkins need in a job image.
COPY --from=build /opt/codearts-gate /opt/codearts-gate
ENV PATH=/opt/codearts-gate/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# No USER: GitHub runs container actions as root and a non-root user cannot write the
# runner's /github/file_commands ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY). No WORKDIR:
# GitHub sets /github/workspace and the other runners pass -w, so relative output paths
# land in the checkout.
ENTRYPOINT ["codearts-gate"]
