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
# Every setting the gate reads reaches the container, by name (-e NAME, never a value on
# the command line): every CODEARTS_* variable, HUAWEI_CLOUD_*, the proxy variables, the
# CA bundle variables, and the CI's branch, fork, merge-request and commit variables
# (GitLab, Jenkins, and every GITHUB_* one). The files they name are mounted at the same
# path: secret files, CA bundles and the GitHub event read-only, the GitHub step output
# and summary files writable.
#
# Recommended credentials: an access key pair (CODEARTS_AK, CODEARTS_SK), which does not
# expire like a token (CODEARTS_TOKEN works too).
# CODEARTS_SCOPE=change judges the defects on the lines a merge/change request adds or
# modifies (the checkout, mounted as /work, needs its history; CODEARTS_BASE names the
# base outside one); CODEARTS_COMMENT=true writes one note on a GitLab merge request
# (CODEARTS_GITLAB_TOKEN). The CI's variables for both are passed on.
# The reports are written to the current folder, owned by the calling user.
# Exit codes: 0 pass, 1 gate failed, 2 usage, 3 credentials refused, 4 no verdict,
# 130/143 stopped by SIGINT/SIGTERM. Only 4 is retried (transient); 1 is not (the same
# report gives the same verdict), nor 130/143 (the user cancelled: a retry would start
# the scan again). CODEARTS_GATE_RETRY_DELAY sets the pause before the first retry
# (seconds, default 15; doubled before the next).
set -euo pipefail

image="${CODEARTS_GATE_IMAGE:-ghcr.io/OWNER/codearts-gate:v1}"
attempts=3
retry_delay="${CODEARTS_GATE_RETRY_DELAY:-15}"

# The variables passed by name; unset ones are not passed (docker skips them).
settings=(
    # every CODEARTS_* variable of codearts-gate --help (tests/test_ci_files.py compares)
    CODEARTS_JOB_ID CODEARTS_TASK_ID CODEARTS_ENDPOINT CODEARTS_REGION
    CODEARTS_TOKEN CODEARTS_TOKEN_FILE CODEARTS_AK CODEARTS_SK CODEARTS_SK_FILE
    CODEARTS_PROJECT_ID CODEARTS_IAM_USER CODEARTS_IAM_PASSWORD CODEARTS_IAM_PASSWORD_FILE
    CODEARTS_IAM_DOMAIN CODEARTS_IAM_ENDPOINT
    CODEARTS_MAX_CRITICAL CODEARTS_MAX_MAJOR CODEARTS_MAX_NEW CODEARTS_MAX
    CODEARTS_REPORT_FILE CODEARTS_JUNIT CODEARTS_SUMMARY CODEARTS_JSON
    CODEARTS_TIMEOUT CODEARTS_ON_ERROR CODEARTS_CA_BUNDLE
    CODEARTS_RUN CODEARTS_WAIT CODEARTS_BRANCH CODEARTS_CANCEL_ON_TIMEOUT
    CODEARTS_CONSOLE_PROJECT_ID CODEARTS_SARIF CODEARTS_CODEQUALITY CODEARTS_JUNIT_DEFECTS
    CODEARTS_DEFECTS CODEARTS_DEFECT_SEVERITY CODEARTS_PATH_PREFIX_STRIP
    CODEARTS_SCOPE CODEARTS_BASE CODEARTS_COMMENT CODEARTS_GITLAB_TOKEN CODEARTS_CONFIG
    # Huawei Cloud's own names for the region and the credentials
    HUAWEI_CLOUD_REGION HUAWEI_CLOUD_ACCESS_KEY_ID HUAWEI_CLOUD_SECRET_ACCESS_KEY
    HUAWEI_CLOUD_PROJECT_ID
    # proxies and trust
    HTTPS_PROXY HTTP_PROXY NO_PROXY ALL_PROXY https_proxy http_proxy no_proxy all_proxy
    REQUESTS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
    # the branch under build and fork detection: GitLab, Jenkins
    CI_COMMIT_REF_NAME CHANGE_BRANCH BRANCH_NAME CHANGE_FORK CHANGE_TARGET
    CI_MERGE_REQUEST_SOURCE_PROJECT_ID CI_MERGE_REQUEST_PROJECT_ID
    # merge-request comments and history: GitLab, Jenkins, GitHub
    CI_API_V4_URL CI_PROJECT_ID CI_PROJECT_URL CI_MERGE_REQUEST_IID
    CI_MERGE_REQUEST_DIFF_BASE_SHA CI_MERGE_REQUEST_SOURCE_BRANCH_SHA CI_COMMIT_SHA
    GITLAB_CI CHANGE_ID GIT_COMMIT GITHUB_TOKEN
)
# every GITHUB_* variable that is set (the event, the head branch, the output files, ...)
while IFS= read -r name; do
    case "$name" in GITHUB_TOKEN) ;; GITHUB_*) settings+=("$name") ;; esac
done < <(compgen -e)

passed=()
for name in "${settings[@]}"; do
    passed+=(-e "$name")
done

# Mount each file a variable names, at the same path: secrets, CA bundles, the config and
# the GitHub event read-only; the GitHub step output files writable.
mount_file() { # mount_file PATH MODE: only when the path exists
    if [ -n "$1" ] && [ -e "$1" ]; then
        passed+=(-v "$1:$1:$2")
    fi
}
for file in "${CODEARTS_TOKEN_FILE:-}" "${CODEARTS_SK_FILE:-}" "${CODEARTS_IAM_PASSWORD_FILE:-}" \
    "${CODEARTS_CA_BUNDLE:-}" "${REQUESTS_CA_BUNDLE:-}" "${CURL_CA_BUNDLE:-}" \
    "${SSL_CERT_FILE:-}" "${SSL_CERT_DIR:-}" "${CODEARTS_CONFIG:-}" "${GITHUB_EVENT_PATH:-}"; do
    mount_file "$file" ro
done
for file in "${GITHUB_OUTPUT:-}" "${GITHUB_STEP_SUMMARY:-}"; do
    mount_file "$file" rw
done

run_gate() {
    docker run --rm "${passed[@]}" \
        -v "$PWD:/work" -w /work --user "$(id -u):$(id -g)" \
        "$image" \
        --junit codearts-gate-junit.xml --summary codearts-gate-summary.md \
        --json codearts-gate.json "$@"
}

status=0
delay="$retry_delay"
for attempt in $(seq 1 "$attempts"); do
    status=0
    run_gate "$@" || status=$?
    # Retry 4 (no verdict) only: never 1 (same verdict), 2, 3, nor 130/143 (cancelled).
    if [ "$status" -ne 4 ] || [ "$attempt" -eq "$attempts" ]; then
        break
    fi
    echo "codearts-gate: no verdict (exit 4); retrying in ${delay} s" >&2
    sleep "$delay"
    delay=$((delay * 2))
done
exit "$status"
