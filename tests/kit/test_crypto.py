from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from patchbay.kit.crypto import KeyRing, UndecryptableSecret, key_file_for_sqlite, load_or_create_key_file


def test_first_key_encrypts_every_key_decrypts() -> None:
    old, new = KeyRing.generate_key(), KeyRing.generate_key()
    token = KeyRing([old]).encrypt_json({"a": "SENTINEL"})
    ring = KeyRing([new, old])
    assert ring.decrypt_json(token) == {"a": "SENTINEL"}
    assert not ring.is_current(token)
    rotated = ring.rotate(token)
    assert ring.is_current(rotated) and KeyRing([new]).decrypt_json(rotated) == {"a": "SENTINEL"}


def test_unknown_key_is_a_clear_error_without_the_value() -> None:
    token = KeyRing([KeyRing.generate_key()]).encrypt_json({"a": "SENTINEL"})
    with pytest.raises(UndecryptableSecret) as info:
        KeyRing([KeyRing.generate_key()]).decrypt_json(token)
    assert "SENTINEL" not in str(info.value)
    assert str(info.value) == (  # what the API and the console show the user, word for word
        "We couldn't read the saved credentials for this connection. "
        "Reconnect the account to start syncing again."
    )


def test_bad_key_material_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Fernet key"):
        KeyRing.from_string("not-a-key")


def test_key_file_is_owner_only_and_stable(tmp_path) -> None:
    path = key_file_for_sqlite(f"sqlite:///{tmp_path / 'sub' / 'p.db'}")
    assert path == tmp_path / "sub" / "patchbay.keys"
    first = load_or_create_key_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key_file(path) == first
    KeyRing([first])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///:memory:", Path("patchbay.keys")),
        ("sqlite:///", Path("patchbay.keys")),
        ("sqlite://", Path("patchbay.db").resolve().parent / "patchbay.keys"),
        ("sqlite:///data/app.db", Path("data/app.db").resolve().parent / "patchbay.keys"),
        ("sqlite:////srv/pb/app.db", Path("/srv/pb/patchbay.keys")),
        ("sqlite:////srv/pb///app.db", Path("/srv/pb/patchbay.keys")),
    ],
)
def test_the_key_file_sits_beside_the_database(url: str, expected: Path) -> None:
    assert key_file_for_sqlite(url) == expected


def test_key_files_are_created_in_new_and_existing_directories(tmp_path: Path) -> None:
    first = tmp_path / "a" / "b" / "patchbay.keys"
    key = load_or_create_key_file(first)
    assert first.read_text() == key + "\n" and stat.S_IMODE(os.stat(first).st_mode) == 0o600
    second = tmp_path / "a" / "b" / "other.keys"  # the directory exists now
    assert load_or_create_key_file(second) != key
    first.write_text(f"  {key}  \n")
    assert load_or_create_key_file(first) == key
    KeyRing([key])


def test_derived_keys_differ_by_purpose_and_by_key() -> None:
    """One signing key per purpose: a value signed for one thing is never valid for another."""
    first, second = (KeyRing.from_string(Fernet.generate_key().decode()) for _ in range(2))
    assert first.derive("console.csrf") == first.derive("console.csrf")
    assert first.derive("console.csrf") != first.derive("connect.token")
    assert first.derive("console.csrf") != second.derive("console.csrf")
    assert len(first.derive("x")) == 32
