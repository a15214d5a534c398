"""Field encryption: any unicode value round-trips; a ciphertext moved to another subject or field fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamoru.vault import crypto
from mamoru.vault.errors import DecryptionFailed
from mamoru.vault.keys import MasterKey

KEY = crypto.new_data_key()
OTHER_KEY = crypto.new_data_key()
ids = st.uuids().map(str)
fields = st.sampled_from(["name", "email", "phone", "address", "name_kana"])


@given(subject=ids, field=fields, value=st.text())
@settings(max_examples=300)
def test_any_unicode_value_round_trips(subject: str, field: str, value: str) -> None:
    assert crypto.open_sealed(KEY, subject, field, crypto.seal(KEY, subject, field, value)) == value


@given(a=ids, b=ids, field=fields, value=st.text(min_size=1))
def test_ciphertext_swapped_between_subjects_fails_clearly(a: str, b: str, field: str, value: str) -> None:
    if a == b:
        return
    blob = crypto.seal(KEY, a, field, value)
    with pytest.raises(DecryptionFailed, match="does not belong"):
        crypto.open_sealed(KEY, b, field, blob)


@given(subject=ids, value=st.text(min_size=12))
def test_ciphertext_swapped_between_fields_fails_clearly(subject: str, value: str) -> None:
    blob = crypto.seal(KEY, subject, "name", value)
    with pytest.raises(DecryptionFailed) as caught:
        crypto.open_sealed(KEY, subject, "email", blob)
    assert value not in str(caught.value)


def test_wrong_key_or_corrupt_blob_fails() -> None:
    blob = crypto.seal(KEY, "s", "name", "山田太郎")
    with pytest.raises(DecryptionFailed):
        crypto.open_sealed(OTHER_KEY, "s", "name", blob)
    with pytest.raises(DecryptionFailed):
        crypto.open_sealed(KEY, "s", "name", blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(DecryptionFailed, match="not a mamoru ciphertext"):
        crypto.open_sealed(KEY, "s", "name", b"short")


def test_data_key_is_bound_to_its_subject() -> None:
    kek = MasterKey.generate().kek
    wrapped = crypto.wrap_data_key(kek, "subject-a", KEY)
    assert crypto.unwrap_data_key(kek, "subject-a", wrapped) == KEY
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_data_key(kek, "subject-b", wrapped)


def test_same_value_encrypts_differently_each_time() -> None:
    assert crypto.seal(KEY, "s", "name", "同じ") != crypto.seal(KEY, "s", "name", "同じ")


def test_blind_index_is_keyed_and_normalised(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mamoru.vault.keystore import KeyStore
    from mamoru.vault.service import Vault

    vault_a = Vault(MasterKey.generate(), KeyStore(f"sqlite:///{tmp_path / 'a.db'}"))
    vault_b = Vault(MasterKey.generate(), KeyStore(f"sqlite:///{tmp_path / 'b.db'}"))
    assert vault_a.blind_index("email", "Taro@Example.JP ") == vault_a.blind_index("email", "taro@example.jp")
    assert vault_a.blind_index("email", "taro@example.jp") != vault_b.blind_index("email", "taro@example.jp")
    assert vault_a.blind_index("phone", "03-1234-5678") == vault_a.blind_index(
        "phone", "０３１２３４５６７８"
    )
