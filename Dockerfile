# codearts-gate container image: the GitHub Action (action.yml), a GitLab CI job image
# (with `entrypoint: [""]`), a Jenkins `docker.image(...).inside` image, or `docker run`.
#
# tests/test_container_smoke.py repeats the `python -m venv` and `pip install` lines of
# this file in a fresh venv and runs the entrypoint as GitHub would: keep one install
# command per RUN line.

# Both stages use the same interpreter: the venv's python links to it.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/codearts-gate
# Pinned dependencies first: this layer is reused while only the code changes.
COPY requirements.lock ./
RUN /opt/codearts-gate/bin/pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY gate ./gate
RUN /opt/codearts-gate/bin/pip install --no-cache-dir --no-deps .

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="codearts-gate" \
      org.opencontainers.image.description="Quality gate for Huawei Cloud CodeArts Check" \
      org.opencontainers.image.licenses="Apache-2.0"
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
