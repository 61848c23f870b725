"""The master key: generated once with mode 0600, placeholders refused, secrets encrypted."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from twofold.auth.vault import MasterKeyError, SecretBox, load_master_key
from twofold.config import Settings


def test_master_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=None, secret_key_file=None)
    first = load_master_key(settings)
    path = tmp_path / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_master_key(settings) == first


@pytest.mark.parametrize("value", ["", "   ", "changeme", "secret", "aaaaaaaaaaaaaaaaaaaa", "short-key"])
def test_empty_placeholder_or_short_keys_are_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(MasterKeyError):
        load_master_key(Settings(data_dir=tmp_path, secret_key=value))


def test_key_file_is_read(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    key_file.write_text("a-long-random-master-key-value\n")
    assert (
        load_master_key(Settings(data_dir=tmp_path, secret_key_file=key_file))
        == b"a-long-random-master-key-value"
    )


def test_secret_box_round_trip_and_wrong_key() -> None:
    box = SecretBox(b"master-key-one-0123456789")
    ciphertext = box.encrypt("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in ciphertext
    assert box.decrypt(ciphertext) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(MasterKeyError):
        SecretBox(b"master-key-two-0123456789").decrypt(ciphertext)
