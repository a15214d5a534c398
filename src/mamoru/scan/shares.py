"""File shares: the folders the organization keeps personal data in, and the ledger entries that cover
them (``<home>/file-shares.yaml``). A folder listed with no ledger entry is declared to hold none."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from mamoru.policy.load import parse_yaml_model
from mamoru.scan.gaps import ShareView

FILE_NAME = "file-shares.yaml"


class Share(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Annotated[str, Field(min_length=1, max_length=500)]
    ledger_entries: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(default_factory=list)
    note: str | None = None


class SharesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_id: Literal["mamoru.file-shares/1"] = Field(alias="schema")
    shares: list[Share] = Field(default_factory=list)


def load_shares(file: Path, home: Path) -> list[ShareView]:
    """The shares of ``file`` (none if it does not exist); relative paths are under ``home``."""
    if not file.is_file():
        return []
    parsed = parse_yaml_model(file.read_text(encoding="utf-8"), str(file), SharesFile)
    views = []
    for s in parsed.shares:
        p = Path(s.path).expanduser()
        views.append(ShareView((p if p.is_absolute() else home / p).resolve(), tuple(s.ledger_entries)))
    return views
