"""Every error is defined once, with a unique apiCode and both languages."""

from __future__ import annotations

from pathlib import Path

import twofold.errors as errors_module
from twofold.errors import ALL_ERRORS, TwofoldError


def test_api_codes_are_unique() -> None:
    codes = [cls.api_code for cls in ALL_ERRORS]
    assert len(codes) == len(set(codes))


def test_all_errors_is_complete() -> None:
    defined = {
        obj for obj in vars(errors_module).values() if isinstance(obj, type) and issubclass(obj, TwofoldError)
    }
    assert defined == set(ALL_ERRORS)


def test_every_code_is_documented(repo_root: Path) -> None:
    doc = (repo_root / "docs/errors.md").read_text()
    for cls in ALL_ERRORS:
        assert f"| {cls.api_code} |" in doc, cls.__name__


def test_every_error_has_both_languages() -> None:
    for cls in ALL_ERRORS:
        assert cls.message_en and cls.message_zh
