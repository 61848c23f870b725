"""The v2 calls of GenAuth's login UI (Guard) and ``authing-js-sdk`` that Twofold serves (docs/wire.md#v2-mfa)."""

PREFIX = "/api/v2"
