"""The request context as the API layer sees it; it lives in ``twofold.request_context``."""

from __future__ import annotations

from twofold.request_context import bind, current_lang, current_request_id, note_status_code

__all__ = ["bind", "current_lang", "current_request_id", "note_status_code"]
