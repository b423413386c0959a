"""Finding a repository's tasks: ``GET /v2/{project_id}/tasks`` (SDK
``show_task_list_by_project_id``), paged, matched by ``git_url`` to the CI's repository.

``offset`` is read defensively (a row offset or a page index: the docs of the sibling
defect list disagree), so the pager de-duplicates by ``task_id`` and stops at ``total``
or at a page that adds nothing new. URLs are compared normalised: https or ssh form, a
``.git`` suffix, user info and the host's case do not matter.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlsplit

from gate.api.http import Session
from gate.api.iam import signed_in
from gate.api.transport import Deadline, json_of, send, with_retries, within
from gate.errors import ServiceError, UsageError
from gate.settings import Settings
from gate.structs import record
from gate.text import one_line

PAGE = 100
MAX_PAGES = 100
_SCP = re.compile(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.+)$")  # git@host:owner/repo.git


@record
class ListedTask:
    """A task of the project list: its id, name and repository."""

    task_id: str
    name: str
    git_url: str


def normalised(url: str) -> str | None:
    """``host/path`` of a repository URL in any common form (``https://``, ``ssh://``,
    ``git@host:path``), without user info, port, ``.git`` or trailing slashes, the host
    lower-cased; None for text that is no repository URL."""
    text = url.strip()
    if "://" in text:
        try:
            parts = urlsplit(text)
        except ValueError:
            return None
        host, path = (parts.hostname or ""), parts.path
    elif match := _SCP.match(text):
        host, path = match.group(1), match.group(2)
    else:
        return None
    path = path.strip("/").removesuffix(".git").strip("/")
    return f"{host.lower()}/{path}" if host and path else None


CI_REPOSITORY_VARIABLES = ("GITHUB_REPOSITORY", "CI_PROJECT_URL", "GIT_URL")


def ci_repository(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(URL, where it came from): GitHub's server and repository, GitLab's project URL,
    or Jenkins' ``GIT_URL``."""
    if env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL") or "https://github.com"
        return (
            f"{server.rstrip('/')}/{env['GITHUB_REPOSITORY']}",
            "GITHUB_SERVER_URL/GITHUB_REPOSITORY",
        )
    for name in ("CI_PROJECT_URL", "GIT_URL"):
        if env.get(name):
            return env[name], name
    return None


def listed_tasks(payload: object) -> tuple[int | None, list[ListedTask]]:
    """(total, tasks) of one page; entries without a string id are skipped."""
    if not isinstance(payload, dict):
        raise ServiceError("the task list answer is not an object")
    total = payload.get("total")
    rows = payload.get("tasks")
    tasks = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and isinstance(row.get("task_id"), str) and row["task_id"]:
            name, url = row.get("task_name"), row.get("git_url")
            tasks.append(
                ListedTask(
                    row["task_id"],
                    name if isinstance(name, str) else "",
                    url if isinstance(url, str) else "",
                )
            )
    return (total if type(total) is int else None), tasks


def all_tasks(get_page: Callable[[int], object]) -> list[ListedTask]:
    """Every task of the project, whatever ``offset`` means (rows skipped, or a page
    index: tried second when the first reading falls short of ``total``); never loops
    without end. ``get_page(offset)``."""
    seen: dict[str, ListedTask] = {}
    total: int | None = None
    for step, first in ((PAGE, 0), (1, 1)):  # offset as rows skipped, then as a page index
        for index in range(first, MAX_PAGES):
            total, tasks = listed_tasks(get_page(index * step))
            new = [t for t in tasks if t.task_id not in seen]
            seen.update((t.task_id, t) for t in new)
            if not new or (total is not None and len(seen) >= total):
                break
        if total is None or len(seen) >= total:
            break
    return list(seen.values())


def find_repository_tasks(
    settings: Settings,
    project_id: str,
    env: Mapping[str, str],
    *,
    on_secret: Callable[[str], None] = lambda _secret: None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[ListedTask]:
    """The project's tasks whose ``git_url`` is the CI's repository; none is exit 2
    naming what was compared."""
    url, source = repository_of(env)
    deadline = Deadline(settings.timeout)

    def exchange() -> list[ListedTask]:
        with signed_in(settings, deadline, None, sleep, on_secret) as http:
            return list_tasks(http, settings, project_id, deadline, sleep)

    return repository_tasks(within(deadline, exchange), project_id, url, source)


def repository_of(env: Mapping[str, str]) -> tuple[str, str]:
    """(the CI's repository URL, where it came from); exit 2 when the CI says none."""
    found = ci_repository(env)
    if found is None:
        raise UsageError(
            "--tasks-for-repo needs the CI's repository URL: none of "
            f"{', '.join(CI_REPOSITORY_VARIABLES)} is set"
        )
    return found


def list_tasks(
    http: Session,
    settings: Settings,
    project_id: str,
    deadline: Deadline,
    sleep: Callable[[float], None],
) -> list[ListedTask]:
    """Every task of the CodeArts project, page by page, each page retried as usual."""
    base = f"{settings.endpoint}/v2/{quote(project_id, safe='')}/tasks"

    def page(offset: int) -> object:
        params = {"offset": str(offset), "limit": str(PAGE)}
        return with_retries(
            lambda: json_of(send(http, base, deadline, method="GET", params=params)),
            deadline,
            sleep,
        )

    return all_tasks(page)


def repository_tasks(
    tasks: list[ListedTask], project_id: str, url: str, source: str
) -> list[ListedTask]:
    """The ``tasks`` that check the repository at ``url``; none is exit 2 naming what was
    compared."""
    wanted = normalised(url)
    matches = [t for t in tasks if wanted is not None and normalised(t.git_url) == wanted]
    if not matches:
        shown = one_line(url, 200)
        raise UsageError(
            f"--tasks-for-repo: none of the {len(tasks)} tasks of CodeArts project "
            f"{one_line(project_id, 80)} checks {shown} (from {source}, compared as "
            f"{one_line(str(wanted), 200)}); set --task-id instead"
        )
    return matches
