"""A bounded asyncio load client: fixed concurrency, fixed duration, loopback only.

Each scenario is a request factory ``make(n) -> (method, url, kwargs)``
driven by ``concurrency`` workers for ``duration`` seconds. Reports requests/s,
latency percentiles (p50, p90, ...), errors (unexpected status or transport
error) with a few samples of them, and the CPU seconds the client itself used
(to tell a saturated client from a saturated server).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import statistics
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx


@dataclass
class Result:
    name: str
    count: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    responses: list = field(default_factory=list)  # kept bodies (when asked)
    error_samples: list[str] = field(default_factory=list)  # the first few errors
    client_cpu: float = 0.0  # CPU seconds of this process while measuring

    def merge(self, other: Result) -> None:
        """Add another run of the same scenario (the rounds of bench/run)."""
        self.count += other.count
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies += other.latencies
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.responses += other.responses
        self.error_samples += other.error_samples[:MAX_ERROR_SAMPLES - len(self.error_samples)]
        self.client_cpu += other.client_cpu

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[
            int(q) - 1] * 1000


MAX_ERROR_SAMPLES = 5
USER_AGENT = "conectados-bench-load"  # sent by both clients


def _describe(method: str, url: str, response) -> str:
    if isinstance(response, httpx.Response | RawResponse):
        return f"{method} {url} -> {response.status_code}: {response.text[:300]!r}"
    return f"{method} {url} -> {type(response).__name__}: {response}"


def _check_loopback(base_url: str) -> None:
    host = urlsplit(base_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing to load a non-loopback host: {host}")


class RawResponse:
    """The little of ``httpx.Response`` the load loop uses."""

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


class RawTransportError(Exception):
    """The connection failed or the answer was not HTTP."""


class RawClient:
    """A minimal HTTP/1.1 client on asyncio streams: one connection per request
    (``Connection: close``; gunicorn's sync workers close anyway), the body read
    to EOF. About ten times cheaper per request than httpx, so on a small
    machine the client takes less CPU from the server it measures."""

    def __init__(self, base_url: str, cookies: dict | None, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.common = f"Host: {parts.netloc}\r\nUser-Agent: {USER_AGENT}\r\nConnection: close\r\n"
        if cookies:
            self.common += "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()) + "\r\n"

    async def request(self, method: str, url: str, *, headers: dict | None = None,
                      json: object = None) -> RawResponse:
        lines = [f"{method} {url} HTTP/1.1\r\n", self.common]
        body = b""
        if json is not None:
            body = _json_dumps(json).encode()
            lines.append("Content-Type: application/json\r\n")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}\r\n")
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}\r\n")
        lines.append("\r\n")
        try:
            return await asyncio.wait_for(self._exchange("".join(lines).encode() + body),
                                          self.timeout)
        except (OSError, TimeoutError, ValueError, IndexError) as exc:
            raise RawTransportError(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(self, payload: bytes) -> RawResponse:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(payload)
            data = await reader.read(-1)
        finally:
            writer.close()
        head, _sep, content = data.partition(b"\r\n\r\n")
        status = int(head[9:12])
        if b"transfer-encoding: chunked" in head.lower():
            content = _dechunk(content)
        return RawResponse(status, content)


def _json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _dechunk(data: bytes) -> bytes:
    out, rest = bytearray(), data
    while rest:
        size_line, _sep, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2:]
    return bytes(out)


@asynccontextmanager
async def _client(kind: str, base_url: str, concurrency: int, cookies: dict | None):
    if kind == "raw":
        yield RawClient(base_url, cookies, timeout=60), RawTransportError
        return
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60, cookies=cookies,
                                 headers={"User-Agent": USER_AGENT}) as client:
        yield client, httpx.HTTPError


async def _run(name, base_url, make, *, expect, concurrency, duration, warmup, cookies,
               keep_json, client_kind, on_measure) -> Result:
    _check_loopback(base_url)
    result = Result(name)
    async with _client(client_kind, base_url, concurrency, cookies) as (client, failure):
        counter = 0

        async def worker(deadline: float, record: bool) -> None:
            nonlocal counter
            while time.monotonic() < deadline:
                counter += 1
                method, url, kwargs = make(counter)
                started = time.perf_counter()
                try:
                    response = await client.request(method, url, **kwargs)
                    ok = response.status_code in expect
                    status = response.status_code
                except failure as exc:
                    ok, status, response = False, 0, exc
                elapsed = time.perf_counter() - started
                if not record:
                    continue
                result.count += 1
                result.latencies.append(elapsed)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if not ok:
                    result.errors += 1
                    if len(result.error_samples) < MAX_ERROR_SAMPLES:
                        result.error_samples.append(_describe(method, url, response))
                elif keep_json:
                    result.responses.append(response.json())

        if warmup:
            end = time.monotonic() + warmup
            await asyncio.gather(*(worker(end, False) for _ in range(concurrency)))
        if on_measure is not None:
            on_measure()
        begin, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(worker(begin + duration, True) for _ in range(concurrency)))
        result.seconds = time.monotonic() - begin
        result.client_cpu = time.process_time() - cpu
    return result


def run_coroutine(coroutine):
    """``asyncio.run(coroutine)``, also when this thread already runs an event
    loop (e.g. inside pytest after Playwright's sync API started one): then it
    runs in a thread of its own. Returns the coroutine's result."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run(name, base_url, make, *, expect=(200,), concurrency=8, duration=15.0, warmup=2.0,
        cookies=None, keep_json=False, client="raw", on_measure=None) -> Result:
    """Drive ``make`` for ``duration`` seconds; ``client`` is ``"raw"`` or ``"httpx"``.

    The warm-up ends when its last request has been answered; ``on_measure``
    (if given) is called then, just before the measured part starts.
    """
    if client not in ("raw", "httpx"):
        raise ValueError(f"unknown client {client!r}")
    return run_coroutine(_run(name, base_url, make, expect=set(expect), concurrency=concurrency,
                              duration=duration, warmup=warmup, cookies=cookies,
                              keep_json=keep_json, client_kind=client, on_measure=on_measure))
