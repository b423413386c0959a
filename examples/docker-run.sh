#!/usr/bin/env bash
# Run the CodeArts Check gate from any CI system (or a terminal) that can start containers.
#
#   CODEARTS_AK=... CODEARTS_SK=... CODEARTS_TASK_ID=... CODEARTS_RUN=true ./docker-run.sh
#
# runs the check task, waits for its scan and gates that scan (on CODEARTS_BRANCH, or the
# branch GitLab or Jenkins builds); `docker stop` or Ctrl-C stops the scan too when
# CODEARTS_CANCEL_ON_TIMEOUT=true. To gate a scan you know, set CODEARTS_JOB_ID instead
# of CODEARTS_RUN. More options can follow on the command line.
#
# Recommended credentials: an access key pair (CODEARTS_AK, CODEARTS_SK), which does not
# expire like a token (CODEARTS_TOKEN works too). Credentials pass by name
# (-e CODEARTS_SK), never by value on the command line. Secrets in files (Docker or
# Jenkins secrets) work too: CODEARTS_SK_FILE, CODEARTS_TOKEN_FILE and
# CODEARTS_IAM_PASSWORD_FILE are passed on, and each file is mounted read-only at the
# same path inside the container.
# CODEARTS_SCOPE=change judges the defects on the lines a merge/change request adds or
# modifies (the checkout, mounted as /work, needs its history; CODEARTS_BASE names the
# base outside one); CODEARTS_COMMENT=true writes one note on a GitLab merge request
# (CODEARTS_GITLAB_TOKEN). The CI's variables for both are passed on.
# The reports are written to the current folder, owned by the calling user.
# Exit codes: 0 pass, 1 gate failed, 2 usage, 3 credentials refused, 4 no verdict;
# 4 is retried (transient), 1 is not (the same report gives the same verdict).
set -euo pipefail

image="${CODEARTS_GATE_IMAGE:-ghcr.io/OWNER/codearts-gate:v1}"
attempts=3

# Mount each secret file the *_FILE variables name, read-only, where the gate will look.
secret_files=()
for file in "${CODEARTS_TOKEN_FILE:-}" "${CODEARTS_SK_FILE:-}" "${CODEARTS_IAM_PASSWORD_FILE:-}"; do
    if [ -n "$file" ]; then
        secret_files+=(-v "$file:$file:ro")
    fi
done

run_gate() {
    docker run --rm \
        -e CODEARTS_TOKEN -e CODEARTS_AK -e CODEARTS_SK -e CODEARTS_PROJECT_ID \
        -e CODEARTS_TOKEN_FILE -e CODEARTS_SK_FILE -e CODEARTS_IAM_PASSWORD_FILE \
        ${secret_files[@]+"${secret_files[@]}"} \
        -e CODEARTS_IAM_USER -e CODEARTS_IAM_PASSWORD -e CODEARTS_IAM_DOMAIN -e CODEARTS_IAM_ENDPOINT \
        -e CODEARTS_JOB_ID -e CODEARTS_TASK_ID -e CODEARTS_ENDPOINT -e CODEARTS_REGION \
        -e CODEARTS_RUN -e CODEARTS_WAIT -e CODEARTS_BRANCH -e CODEARTS_CANCEL_ON_TIMEOUT \
        -e CODEARTS_CONSOLE_PROJECT_ID -e CI_COMMIT_REF_NAME -e CHANGE_BRANCH -e BRANCH_NAME \
        -e CODEARTS_MAX_CRITICAL -e CODEARTS_MAX_MAJOR -e CODEARTS_MAX_NEW -e CODEARTS_MAX \
        -e CODEARTS_TIMEOUT -e CODEARTS_ON_ERROR \
        -e CODEARTS_SCOPE -e CODEARTS_BASE -e CODEARTS_COMMENT -e CODEARTS_GITLAB_TOKEN \
        -e GITLAB_CI -e CI_MERGE_REQUEST_IID -e CI_MERGE_REQUEST_DIFF_BASE_SHA \
        -e CI_MERGE_REQUEST_SOURCE_BRANCH_SHA -e CI_COMMIT_SHA -e CI_PROJECT_ID \
        -e CI_PROJECT_URL -e CI_API_V4_URL -e CHANGE_ID -e CHANGE_TARGET -e GIT_COMMIT \
        -v "$PWD:/work" -w /work --user "$(id -u):$(id -g)" \
        "$image" \
        --junit codearts-gate-junit.xml --summary codearts-gate-summary.md \
        --json codearts-gate.json "$@"
}

status=0
for attempt in $(seq 1 "$attempts"); do
    status=0
    run_gate "$@" || status=$?
    if [ "$status" -ne 4 ] || [ "$attempt" -eq "$attempts" ]; then
        break
    fi
    echo "codearts-gate: no verdict (exit 4); retrying in $((attempt * 15)) s" >&2
    sleep "$((attempt * 15))"
done
exit "$status"
