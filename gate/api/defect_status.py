"""Marking defects ignored in CodeArts: ``PUT /v2/tasks/{task_id}/defect-status`` (SDK
``update_defect_status``), body ``{"defect_id": "id1,id2", "defect_status": "2"}``.

Only ever behind ``--sync-suppressions=apply``: it changes what every user of the task
sees. The documented answer is ``null``; an error may still come with HTTP 200.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from urllib.parse import quote

from gate.api.iam import signed_in
from gate.api.transport import Deadline, json_of, send, with_retries, within
from gate.settings import Settings

IGNORED = "2"
BATCH = 100
"""Defect ids per request (the SDK sets no limit; a bounded body is kinder to the gateway)."""


def mark_ignored(
    settings: Settings,
    defect_ids: Sequence[str],
    on_secret: Callable[[str], None] = lambda _secret: None,
    budget: float | None = None,
) -> int:
    """Mark ``defect_ids`` ignored, ``BATCH`` at a time; the number marked. Setting a
    status is idempotent, so each request is retried on transient errors."""
    deadline = Deadline(settings.timeout if budget is None else max(budget, 0.001))
    url = f"{settings.endpoint}/v2/tasks/{quote(settings.task_id, safe='')}/defect-status"
    with signed_in(settings, deadline, None, time.sleep, on_secret) as http:
        for start in range(0, len(defect_ids), BATCH):
            body = json.dumps(
                {"defect_id": ",".join(defect_ids[start : start + BATCH]), "defect_status": IGNORED}
            ).encode("utf-8")

            def once(data: bytes = body) -> None:
                deadline.check()
                answer = send(
                    http, url, deadline, method="PUT", data=data,
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                json_of(answer, allow_empty=True)

            within(deadline, lambda: with_retries(once, deadline, time.sleep))
    return len(defect_ids)
