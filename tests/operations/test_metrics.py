"""``/metrics``: requests by route and envelope statusCode, MFA verifications by factor and result,
lockouts, and the sum over several worker processes (docs/operations.md#metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tests.compat.support import server_env, start_server, stop_server
from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY, Api
from tests.mfa_support import OtpUser, otp_user
from twofold.config import Settings


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str, name: str, **labels: str) -> float:
    """A sample's value in a /metrics answer (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


@pytest.fixture
async def otp(settings: Settings) -> AsyncIterator[OtpUser]:
    async with otp_user(settings) as user:
        yield user


async def test_requests_are_counted_by_route_and_envelope_status_code(api: Api) -> None:
    route = {"route": "/api/v3/get-user", "method": "GET"}
    before_ok = sample("twofold_http_requests_total", **route, status_code="200")
    before_missing = sample("twofold_http_requests_total", **route, status_code="404")
    before_unmatched = sample("twofold_http_requests_total", route="unmatched", method="GET", status_code="404")
    created = await api.ok("POST", "create-user", {"username": "metrics-user"})
    await api.ok("GET", "get-user", {"userId": created["userId"]})
    missing = await api.get("get-user", userId="no-such-user")
    assert missing["statusCode"] == 404  # an envelope over HTTP 200: counted as what it says
    await api.raw("GET", "/api/v3/no-such-route-metrics-" + "x" * 40)
    assert sample("twofold_http_requests_total", **route, status_code="200") == before_ok + 1
    assert sample("twofold_http_requests_total", **route, status_code="404") == before_missing + 1
    # Unknown paths share one label: a scanner cannot grow the metrics without bound.
    assert (
        sample("twofold_http_requests_total", route="unmatched", method="GET", status_code="404")
        == before_unmatched + 1
    )
    assert sample("twofold_http_request_duration_seconds_count", route="/api/v3/get-user") >= 2


async def test_mfa_verifications_and_lockouts_are_counted(otp: OtpUser) -> None:
    def verifications(result: str) -> float:
        return sample("twofold_mfa_verifications_total", factor="OTP", result=result)

    base = {r: verifications(r) for r in ("accepted", "wrong_code", "replayed", "locked")}
    lockouts = sample("twofold_mfa_lockouts_total", factor="OTP")
    check = otp.services.mfa_check
    code = otp.code()
    assert await check.check_totp(otp.pool_id, otp.user_id, code)
    assert not await check.check_totp(otp.pool_id, otp.user_id, code)  # replayed
    limit = check.policy.max_failures
    for _ in range(limit):
        assert not await check.check_totp(otp.pool_id, otp.user_id, otp.wrong_code())
    assert not await check.check_totp(otp.pool_id, otp.user_id, otp.code(1))  # right, but locked
    assert verifications("accepted") == base["accepted"] + 1
    assert verifications("replayed") == base["replayed"] + 1
    assert verifications("wrong_code") == base["wrong_code"] + limit  # the last one also locked it
    assert verifications("locked") == base["locked"] + 1
    assert sample("twofold_mfa_lockouts_total", factor="OTP") == lockouts + 1
    before = sample("twofold_mfa_verifications_total", factor="RECOVERY_CODE", result="locked")
    assert not await check.check_recovery_code(otp.pool_id, otp.user_id, otp.recovery_code)
    assert sample("twofold_mfa_verifications_total", factor="RECOVERY_CODE", result="locked") == before + 1


async def test_the_endpoint_answers_the_prometheus_text_format(api: Api) -> None:
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(response.text)}
    assert {"twofold_http_requests", "twofold_mfa_verifications", "twofold_codes_sent"} <= names


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``twofold serve`` with 2 workers, and the directory their metrics are written to (named here
    so the test can see both workers write; without it ``serve`` makes one of its own)."""
    workdir: Path = tmp_path_factory.mktemp("metrics-workers")
    env = server_env(
        f"sqlite:///{workdir / 'twofold.db'}", workdir / "data", BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY
    )
    samples = workdir / "metrics"
    samples.mkdir()
    env.update({"TWOFOLD_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(samples)})
    process, port = start_server(env, workdir, workdir / "server.log")
    try:
        yield f"http://127.0.0.1:{port}", samples
    finally:
        stop_server(process)


def test_every_worker_answers_for_all_of_them(two_workers: tuple[str, Path]) -> None:
    url, samples = two_workers

    def writers() -> set[str]:
        return {path.stem.rsplit("_", 1)[-1] for path in samples.glob("counter_*.db")}

    def probe(_: int) -> int:
        return httpx.get(f"{url}/healthz", headers={"connection": "close"}, timeout=10).status_code

    sent = 0
    with ThreadPoolExecutor(16) as pool:  # parallel connections, so that both workers accept some
        for _ in range(50):
            assert set(pool.map(probe, range(32))) == {200}
            sent += 32
            if len(writers()) == 2:
                break
    assert len(writers()) == 2, writers()  # both worker processes count into the shared directory
    with httpx.Client(base_url=url, timeout=10) as http:
        scrapes = [http.get("/metrics", headers={"connection": "close"}).text for _ in range(8)]
    # The startup probes hit /healthz too: at least ``sent``, and the same total from any worker.
    counts = {scraped(text, "twofold_http_requests_total", route="/healthz", status_code="200") for text in scrapes}
    assert len(counts) == 1 and counts.pop() >= sent
