"""A bounded asyncio load client: fixed concurrency, fixed duration, loopback only.

Each scenario is a coroutine factory ``make(client, n) -> (method, url, kwargs)``
driven by ``concurrency`` workers for ``duration`` seconds. Reports requests/s,
p50/p95 latency and errors (unexpected status or transport error).
"""

from __future__ import annotations

import asyncio
import statistics
import time
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


def _check_loopback(base_url: str) -> None:
    host = urlsplit(base_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing to load a non-loopback host: {host}")


async def _run(name, base_url, make, *, expect, concurrency, duration, warmup, cookies,
               keep_json) -> Result:
    _check_loopback(base_url)
    result = Result(name)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30,
                                 cookies=cookies) as client:
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
                except httpx.HTTPError:
                    ok, status, response = False, 0, None
                elapsed = time.perf_counter() - started
                if not record:
                    continue
                result.count += 1
                result.latencies.append(elapsed)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if not ok:
                    result.errors += 1
                elif keep_json and response is not None:
                    result.responses.append(response.json())

        if warmup:
            end = time.monotonic() + warmup
            await asyncio.gather(*(worker(end, False) for _ in range(concurrency)))
        begin = time.monotonic()
        await asyncio.gather(*(worker(begin + duration, True) for _ in range(concurrency)))
        result.seconds = time.monotonic() - begin
    return result


def run(name, base_url, make, *, expect=(200,), concurrency=8, duration=15.0, warmup=2.0,
        cookies=None, keep_json=False) -> Result:
    return asyncio.run(_run(name, base_url, make, expect=set(expect), concurrency=concurrency,
                            duration=duration, warmup=warmup, cookies=cookies,
                            keep_json=keep_json))
