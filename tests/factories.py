"""Plain factory functions for test data."""

from __future__ import annotations

import itertools
from typing import Any

_counter = itertools.count(1)


def user_payload(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    payload: dict[str, Any] = {
        "username": f"user{n}",
        "email": f"user{n}@example.com",
        "phone": f"1380013{n:04d}",
        "externalId": f"ext-{n}",
        "nickname": f"User {n}",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


# The sample request of the seed doc (spec 000: ManagementClient.setUsersMfaStatus), nulls included.
SEED_MFA_TRIGGER_DATA: dict[str, Any] = {
    "mfaToken": "xxxxxxx",
    "mfaPhone": None,
    "mfaPhoneCountryCode": None,
    "mfaEmail": None,
    "nickname": None,
    "username": None,
    "phone": None,
    "phoneCountryCode": None,
    "faceMfaEnabled": True,
    "totpMfaEnabled": True,
    "applicationMfa": [{"mfaPolicy": "EMAIL", "status": 1, "sort": 0}],
}
