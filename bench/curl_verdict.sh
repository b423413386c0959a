#!/usr/bin/env bash
# The network verdict's reference for bench/startup.py: what a pipeline could do without the
# gate. One refresh with the token header, then jq judges the three default counts against
# their maximums (critical, major, new unresolved: 0 each). Exit 0 pass, 1 fail, 4 no answer.
# Usage: CODEARTS_ENDPOINT=... CODEARTS_TOKEN=... bench/curl_verdict.sh JOB_ID
set -euo pipefail
job=$1
answer=$(curl -sS --fail-with-body --max-time 300 -X PUT \
  -H "X-Auth-Token: $CODEARTS_TOKEN" \
  "$CODEARTS_ENDPOINT/v1/jobs/$job/result/refresh?task_id=&async=false") || exit 4
jq -e '
  if .status == "success" and (.result | type == "object") then .result
  else error("no report in the answer") end
  | [(.critical // .FATAL), (.major // .CRITICAL), .UNRESOLVED_ADD]
  | if any(type != "number") then error("a count is missing") else . end
  | (.[0] <= 0) and (.[1] <= 0) and (.[2] <= 0)
' <<<"$answer" >/dev/null || { [ $? -eq 1 ] && exit 1; exit 4; }
