"""A request's sealed details: what the requester wrote (name, e-mail, phone, an agent's name, the
corrections asked for, free text) and the office's reasons, sealed under the request's own key."""

from __future__ import annotations

from typing import Any

import orjson

from mamoru.requests.tables import SubjectRequest
from mamoru.vault.service import Vault


def details(vault: Vault, request: SubjectRequest) -> dict[str, Any]:
    """The sealed details of a request: what the requester wrote, the office's reasons."""
    value: dict[str, Any] = orjson.loads(vault.open_private(request.id, "details", request.sealed))
    return value


def seal_details(vault: Vault, request: SubjectRequest, data: dict[str, Any]) -> None:
    request.sealed = vault.seal_private(request.id, "details", orjson.dumps(data))


def identities_of(vault: Vault, request: SubjectRequest) -> dict[str, str]:
    """The verified identity values a connector starts from."""
    sealed = details(vault, request)
    return {k: str(sealed[k]) for k in ("email", "phone") if sealed.get(k)}


def corrections_of(vault: Vault, request: SubjectRequest) -> dict[str, str]:
    """The corrections asked for: field -> the value it should have."""
    return {item["field"]: item["value"] for item in details(vault, request)["corrections"]}
