"""The defects behind the counts: ``GET /v2/tasks/{task_id}/defects-detail``, paged.

Huawei's own docs disagree on what the pager's ``offset`` means (a row offset, or a page
index), a page may repeat rows, and ``total`` may change while paging. So the pager
*probes*: it asks for offsets 0 and 1; if the second page mostly repeats the first,
``offset`` counts rows (next: 100, 200, ...), otherwise it counts pages (next: 2, 3, ...).
Rows are de-duplicated by ``defect_id``; paging stops at ``total`` distinct defects, at a
page that adds nothing new, or at a hard ceiling, so it never loops without end.

Pages are fetched by a few daemon threads at once (bounded, backing off together on 429)
and handed over in offset order, so the outputs are the same on every run and at most a
few pages are held at a time. ``defects-statistic`` tells the size up front.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import islice
from typing import TypeVar
from urllib.parse import quote

from gate.api.http import Session
from gate.api.iam import signed_in
from gate.api.transport import (
    DEADLINE_GRACE,
    MAX_BODY,
    Deadline,
    backoff,
    json_of,
    send,
    with_retries,
)
from gate.defects import RANK, whole_number
from gate.errors import (
    DeadlineError,
    GateError,
    Interrupted,
    ReportError,
    TransientServiceError,
)
from gate.settings import Settings
from gate.structs import field, record, replace
from gate.text import one_line

log = logging.getLogger(__name__)
T = TypeVar("T")

LIMIT = 100
"""Rows per page: the SDK's and older docs' maximum (newer docs say 200; stay at 100)."""
WORKERS = 8
"""Pages in flight at once."""
PREFETCH = 4
"""Pages asked for ahead per worker: handed over in order, a slow page must not idle the rest."""
MAX_ROW_OFFSET = 999_999
"""The largest ``offset`` the docs allow."""
MAX_PAGES = 10_000
"""A ceiling on pages of one run: a project holds at most 300,000 defects (3,000 pages)."""
PAGE_MAX_BODY = 1024 * 1024
"""The largest defects-detail answer read: a page of 100 rows is some 80 KB (a page of
long rows a few hundred); past this, a page is refused (the fetch fails, the verdict
stands). ``MAX_BODY`` (10 MiB) was 32 pages in flight x 10 MiB, each decoded ~20x."""
HELD_BYTES = 4 * 1024 * 1024
"""Bytes of fetched pages waiting to be read, past which no page is asked for ahead of
the ``workers`` in flight: memory is bounded by what the gate keeps, not by the service."""
MAX_PAGE_ROWS = 10 * LIMIT
"""Rows read of one page (the service may repeat rows, never ten times over)."""
DECODING = threading.Lock()
"""One page decoded at a time: the decoder holds the GIL anyway, and a page's objects can
weigh 20 times its bytes, so eight pages decoded at once would weigh 160 times one."""
MAX_DEFECTS = 500_000
"""A ceiling on distinct defects: a service handing out more than a project can hold is not
followed (a page may hold any number of rows: without it, memory and files would grow
until the deadline)."""

Row = Mapping[str, object]


def task_url(endpoint: str, task_id: str, what: str) -> str:
    """``{endpoint}/v2/tasks/{task_id}/{what}``, the task id one path segment."""
    return f"{endpoint}/v2/tasks/{quote(task_id, safe='')}/{what}"


@record
class Page:
    """One answer of defects-detail: the service's ``total`` (if readable) and its rows."""

    offset: int
    total: int | None
    rows: Sequence[Row]
    total_problem: str | None = None
    """Why a ``total`` the page carries could not be read (None: readable, or absent)."""
    size: int = 0
    """Bytes of the answer the page was read from (what holding it costs, roughly)."""


def page_of(payload: object, offset: int) -> Page:
    """The page in a decoded body; ``ReportError`` when it is not the documented shape."""
    if not isinstance(payload, dict):
        raise ReportError(f"defects-detail answered {type(payload).__name__}, not an object")
    rows = payload.get("defects")
    if rows is None:
        rows = []
    if not isinstance(rows, list):
        raise ReportError(f"defects-detail's 'defects' is {type(rows).__name__}, not a list")
    kept = [row for row in islice(rows, MAX_PAGE_ROWS) if isinstance(row, dict)]
    given = payload.get("total")
    total = whole_number(given)
    problem: str | None = None
    if isinstance(given, float) and not math.isfinite(given):  # 1e400 decodes as inf
        problem = f"its total ({given}) overflows a double (e.g. 1e400): not a whole number"
    elif given is not None and total is None:
        problem = f"its total {one_line(repr(given), 40)} is not a whole number >= 0"
    return Page(offset, total, kept, problem)


def expected_count(payload: object, severities: Sequence[str]) -> int | None:
    """The pending defects of ``severities`` per defects-statistic; None if unreadable."""
    counts = payload.get("severity") if isinstance(payload, dict) else None
    if not isinstance(counts, dict):
        return None
    values = [whole_number(counts.get(name)) for name in severities]
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def row_key(row: Row) -> int:
    """The identity of a row: a hash of its ``defect_id``, or of its plain fields when it
    has none (not of nested ones: a row nested 990 deep would exceed the recursion limit).

    64 bits: a collision among 300,000 ids is about one in a billion likely.
    """
    key = row.get("defect_id")
    if type(key) is str and key:
        return hash(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return hash(str(key))
    return hash(tuple(sorted((k, v) for k, v in row.items() if not isinstance(v, (dict, list)))))


@record(frozen=False)
class Pager:
    """Which offset to ask for next and when to stop; fed the pages in offset order.

    Slot 0 asks offset 0 and slot 1 offset 1 (the probe). After both, ``mode`` is
    ``row`` (offsets advance by ``stride`` rows) or ``page`` (offsets count pages).
    ``stride`` is ``limit``, or the service's own page size when its first page held fewer
    rows than asked while more were counted. A short page in row mode before the counted
    end is followed by a request for the rest of it (a *fill*), so that no row is strided
    past; a ``total`` that drops never stops paging early (the largest one counts).
    """

    limit: int = LIMIT
    expected: int | None = None
    workers: int = WORKERS
    seen: set[int] = field(default_factory=set)
    total: int | None = None
    max_total: int | None = None
    mode: str | None = None
    issued: int = 0
    consumed: int = 0
    finished: bool = False
    stop_reason: str = ""
    capped: bool = False
    first_keys: set[int] = field(default_factory=set)
    max_defects: int = MAX_DEFECTS
    stride: int = 0
    cursor: int = 0
    fills: deque[int] = field(default_factory=deque)
    filled: int = 0
    first_rows: int = 0
    reach: int = 0
    """In row mode, the end of the rows held so far (offset + rows of the furthest page)."""
    requested: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    """What the service did that makes its counts doubtful (said in every output)."""

    def next_offset(self) -> int | None:
        """The offset of the next request to send now, or None (wait, or finished)."""
        if self.finished:
            return None
        if self.fills:
            self.issued += 1
            return self.fills.popleft()
        if self.issued >= self.budget() or (self.issued >= 2 and self.mode is None):
            return None
        offset = self.issued if self.issued < 2 else self.cursor
        if offset > (MAX_ROW_OFFSET if self.mode == "row" else MAX_PAGES):
            return None
        self.issued += 1
        self.requested.add(offset)
        if self.issued > 2:
            self.cursor += self.stride if self.mode == "row" else 1
        return offset

    def known(self) -> int | None:
        """The largest count the service gave: a page's ``total``, else the statistic."""
        return self.max_total if self.max_total is not None else self.expected

    def budget(self) -> int:
        """Slots that may be issued so far: the plan, then one at a time past it."""
        known = self.known()
        if self.consumed == 0:
            single = known is not None and known <= self.limit
            return 1 if single else 2
        if self.mode is None:
            return 2
        if known is None:
            return self.consumed + self.workers * PREFETCH
        per_page = self.stride if self.mode == "row" else max(1, self.first_rows or self.limit)
        planned = math.ceil(known / per_page) + (1 if self.mode == "row" else 0) + self.filled
        return min(max(planned, self.consumed + 1), MAX_PAGES + 2 + self.filled)

    def accept(self, page: Page) -> list[Row]:
        """The rows of ``page`` not seen before; updates the plan and the stop decision."""
        new = []
        for row in page.rows:
            if len(self.seen) >= self.max_defects:
                break
            key = row_key(row)
            if key not in self.seen:
                self.seen.add(key)
                new.append(row)
        self.consumed += 1
        self._read_total(page)
        self._learn_mode(page)
        reach, self.reach = self.reach, max(self.reach, page.offset + len(page.rows))
        # rows already had from a fill that overlapped this page: not a sign of the end
        explained = self.mode == "row" and page.offset >= 2 and page.offset < reach
        if (new or explained) and page.rows:
            self._fill_short(page)
        self._decide_stop(bool(new) or (explained and bool(page.rows)))
        return new

    def _read_total(self, page: Page) -> None:
        if page.total_problem and page.total_problem not in self.notes:
            self.notes.append(f"a defects-detail page: {page.total_problem}")
        if page.total is None:
            return
        if self.max_total is not None and page.total < self.max_total:
            note = "the service's total changed while paging"
            if note not in self.notes:
                self.notes.append(note)
        self.total = page.total
        self.max_total = max(self.max_total or 0, page.total)

    def _learn_mode(self, page: Page) -> None:
        if self.mode is not None:
            return
        keys = {row_key(row) for row in page.rows}
        if self.consumed == 1:
            self.first_keys, self.first_rows = keys, len(page.rows)
        elif self.consumed == 2:
            overlap = len(keys & self.first_keys)
            shifted = overlap > 0 and overlap >= len(keys) - 1  # pages of 2: one row shared
            self.mode = "row" if overlap * 2 > len(keys) or shifted else "page"
            self.first_keys = set()
            short = 0 < self.first_rows < self.limit
            self.stride = self.first_rows if self.mode == "row" and short else self.limit
            # the first row neither the first page nor the probe (rows 1..) held
            self.cursor = max(self.first_rows, 1 + len(page.rows)) if self.mode == "row" else 2
            log.info("defects-detail: offset counts %ss", self.mode)

    def _fill_short(self, page: Page) -> None:
        """In row mode, ask for the rest of a page that held fewer rows than the stride,
        unless the service counts no more beyond it (past the end, the fill comes back
        empty and ends paging)."""
        if self.mode != "row" or page.offset < 2:
            return
        known, target = self.known(), self.reach  # the first row no page has held yet
        short = len(page.rows) < self.stride and (known is None or target < known)
        if short and target not in self.requested and self.filled < MAX_PAGES:
            self.fills.append(target)
            self.requested.add(target)
            self.filled += 1

    def _decide_stop(self, added: bool) -> None:
        known = self.max_total
        if not added:
            self.finished, self.stop_reason = True, "a page added nothing new"
        elif known is not None and len(self.seen) >= known:
            self.finished, self.stop_reason = True, "all defects fetched"
        elif len(self.seen) >= self.max_defects:
            reason = f"the ceiling of {self.max_defects:,} defects was reached"
            self.finished, self.stop_reason, self.capped = True, reason, True


class Throttle:
    """A pause shared by the workers: a 429 (or 503) slows every one of them down."""

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        self.sleep, self.clock = sleep, clock
        self.until = 0.0
        self.lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        """Hold every worker's next request for ``seconds`` from now."""
        with self.lock:
            self.until = max(self.until, self.clock() + seconds)

    def wait(self) -> None:
        """Sleep while a pause is on."""
        delay = self.until - self.clock()
        if delay > 0:
            self.sleep(delay)


class _Slot:
    """One page request handed to a worker and waited for in order."""

    __slots__ = ("done", "error", "offset", "page")

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.done = threading.Event()
        self.page: Page | None = None
        self.error: BaseException | None = None


def out_of_time(deadline: Deadline) -> DeadlineError:
    """The error of a fetch that did not end within what was left of ``--timeout``."""
    return DeadlineError(
        f"defects not fetched within the {deadline.seconds:.3g} s left of --timeout"
    )


class OrderedFetcher:
    """Fetch pages with ``workers`` daemon threads; yield them in the order asked.

    Daemon threads, so that a stalled request never holds the process past its deadline.
    """

    def __init__(self, fetch: Callable[[int], Page], workers: int, deadline: Deadline) -> None:
        self.fetch, self.workers, self.deadline = fetch, workers, deadline
        self.window = workers * PREFETCH  # queued ahead, so no worker idles behind a slow page
        self.tasks: queue.SimpleQueue[_Slot | None] = queue.SimpleQueue()
        self.cancelled = False

    def pages(self, next_offset: Callable[[], int | None]) -> Iterator[Page]:
        """Pages for the offsets ``next_offset`` gives, asked again after each page."""
        threads = [
            threading.Thread(target=self._work, name="codearts-gate-defects", daemon=True)
            for _ in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        window: deque[_Slot] = deque()
        try:
            while True:
                while self._room(window) and (offset := next_offset()) is not None:
                    window.append(_Slot(offset))
                    self.tasks.put(window[-1])
                if not window:
                    return
                yield self._result(window.popleft())
        finally:
            self.cancelled = True
            for _ in threads:
                self.tasks.put(None)

    def _room(self, window: deque[_Slot]) -> bool:
        """True when another page may be asked for: fewer than ``workers`` in flight, or
        room in the window and under ``HELD_BYTES`` of fetched pages waiting."""
        if len(window) < self.workers:
            return True
        held = sum(slot.page.size for slot in window if slot.page is not None)
        return len(window) < self.window and held < HELD_BYTES

    def _result(self, slot: _Slot) -> Page:
        if not slot.done.wait(self.deadline.remaining() + DEADLINE_GRACE):
            raise out_of_time(self.deadline)
        if slot.error is not None:
            raise slot.error
        assert slot.page is not None
        return slot.page

    def _work(self) -> None:
        while (slot := self.tasks.get()) is not None:
            if not self.cancelled:
                try:
                    slot.page = self.fetch(slot.offset)
                except BaseException as err:  # handed to the main thread by _result
                    slot.error = err
            slot.done.set()


@record
class FetchResult:
    """How paging ended: the service's largest ``total``, distinct rows, and why it stopped."""

    total: int | None
    fetched: int
    stop_reason: str
    capped: bool = False
    """True when a ceiling ended paging: there may be more defects than were fetched."""
    expected: int | None = None
    """What defects-statistic counted (None: unknown)."""
    notes: tuple[str, ...] = ()
    """What the service did that makes its counts doubtful."""


@record(frozen=False)
class DefectQuery:
    """One run's defect fetch: where, what, and the shared HTTP machinery."""

    http: Session
    settings: Settings
    severities: Sequence[str]
    deadline: Deadline
    sleep: Callable[[float], None]
    throttle: Throttle
    statuses: str = "0"
    """``status_ids``: pending (0) unless asked otherwise (2: ignored, for suppressions)."""

    def params(self, offset: int) -> dict[str, str]:
        """The query of one page: defects of the chosen statuses and severities."""
        codes = ",".join(str(RANK[s]) for s in self.severities)
        return {
            "offset": str(offset),
            "limit": str(LIMIT),
            "status_ids": self.statuses,
            "severity": codes,
        }

    def get(self, what: str, params: dict[str, str] | None = None) -> object:
        """One GET, retried on transient errors; every body checked for an error envelope."""
        return self.fetch(what, params, MAX_BODY, lambda payload: payload)[0]

    def fetch(
        self,
        what: str,
        params: dict[str, str] | None,
        max_body: int,
        read: Callable[[object], T],
    ) -> tuple[T, int]:
        """``read`` of one GET's decoded body (retried on transient errors) and its size."""
        url = task_url(self.settings.endpoint, self.settings.task_id, what)
        return with_retries(
            lambda: self._get_once(url, params, max_body, read), self.deadline, self.sleep
        )

    def _get_once(
        self,
        url: str,
        params: dict[str, str] | None,
        max_body: int,
        read: Callable[[object], T],
    ) -> tuple[T, int]:
        self.throttle.wait()
        self.deadline.check()
        answer = send(self.http, url, self.deadline, method="GET", params=params, max_body=max_body)
        try:
            with DECODING:  # the decoded body lives until ``read`` has kept what it needs
                return read(json_of(answer)), len(answer.body)
        except TransientServiceError as err:
            self.throttle.pause(backoff(1, err.retry_after))
            raise

    def page(self, offset: int) -> Page:
        """The page at ``offset``."""
        params = self.params(offset)
        found, size = self.fetch(
            "defects-detail", params, PAGE_MAX_BODY, lambda payload: page_of(payload, offset)
        )
        return replace(found, size=size)

    def expected(self) -> int | None:
        """The size up front from defects-statistic; None (and a log line) if unknown."""
        if self.statuses != "0":  # the statistic counts pending defects only
            return None
        try:
            return expected_count(self.get("defects-statistic"), self.severities)
        except (Interrupted, DeadlineError):
            raise  # the run is over, not just the statistic
        except GateError as err:
            log.warning("defects-statistic failed, paging without it: %s", err)
            return None


def page_through(
    query: DefectQuery, consume: Callable[[Row], None], workers: int = WORKERS
) -> FetchResult:
    """Feed every distinct defect row to ``consume``, in offset order."""
    pager = Pager(LIMIT, query.expected(), workers)
    log.info("defects: %s expected", "?" if pager.expected is None else pager.expected)
    fetcher = OrderedFetcher(query.page, workers, query.deadline)
    for page in fetcher.pages(pager.next_offset):
        if query.deadline.remaining() <= 0:  # pages fetched ahead are not read past it either
            raise out_of_time(query.deadline)
        for row in pager.accept(page):
            consume(row)
        if pager.finished:
            break
    reason = pager.stop_reason or "the page ceiling was reached"
    log.info("defects: %d fetched in %d pages (%s)", len(pager.seen), pager.consumed, reason)
    capped = pager.capped or not pager.finished
    notes = tuple(pager.notes)
    return FetchResult(pager.max_total, len(pager.seen), reason, capped, pager.expected, notes)


def fetch_defects(
    settings: Settings,
    severities: Sequence[str],
    consume: Callable[[Row], None],
    *,
    session: Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_secret: Callable[[str], None] = lambda _secret: None,
    workers: int | None = None,
    budget: float | None = None,
    statuses: str = "0",
) -> FetchResult:
    """Log in if needed, then page through the task's pending defects of ``severities``.

    ``budget`` is what is left of ``--timeout`` after the verdict (the whole of it when
    not given): the run as a whole stays inside ``--timeout``.
    """
    deadline = Deadline(settings.timeout if budget is None else budget, clock)
    with signed_in(settings, deadline, session, sleep, on_secret) as http:  # IAM first
        query = DefectQuery(
            http, settings, severities, deadline, sleep, Throttle(sleep, clock), statuses
        )
        return page_through(query, consume, workers or WORKERS)
