"""The ASGI entry point uvicorn imports (one app per worker process, settings from the environment)."""

from __future__ import annotations

from twofold.api.app import create_app
from twofold.config import Settings
from twofold.logs import configure_logging

_settings = Settings()
configure_logging(_settings.log_level, _settings.log_format)
app = create_app(_settings)
