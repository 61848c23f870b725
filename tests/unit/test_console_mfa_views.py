"""The console's pure helpers for the MFA views: the chart's bar lengths and the audit trail's times."""

from __future__ import annotations

from datetime import UTC, datetime

from twofold.console.audit import _time
from twofold.console.overview import CHART_WIDTH, chart
from twofold.domain.mfa import Factor
from twofold.services.mfa_overview import FactorAdoption


def test_bars_are_scaled_to_the_pool_and_a_count_above_zero_shows() -> None:
    bars = chart([FactorAdoption(Factor.OTP, 500, 1), FactorAdoption(Factor.FACE, 0, 0)], 1000)
    assert [(b.factor, b.enrolled_width, b.missing_width) for b in bars] == [
        ("OTP", CHART_WIDTH // 2, 1), ("FACE", 0, 0)]
    assert chart([FactorAdoption(Factor.SMS, 3, 0)], 0)[0].enrolled_width == CHART_WIDTH  # no division by 0


def test_audit_times_are_utc_and_to_includes_its_minute() -> None:
    minute = int(datetime(2026, 12, 2, 3, 4, tzinfo=UTC).timestamp() * 1000)
    assert _time("2026-12-02T03:04", end=False) == minute
    assert _time("2026-12-02T03:04", end=True) == minute + 59_999
    assert _time("2026-12-02T03:04:05", end=True) == minute + 5000
    assert _time("", end=False) is None
    assert _time("yesterday", end=False) is None
