"""Typed dependencies every route takes: the workspace and a database session in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from mamoru.workspace import Workspace


def get_workspace(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


CurrentWorkspace = Annotated[Workspace, Depends(get_workspace)]


def get_session(ws: CurrentWorkspace) -> Iterator[Session]:
    with ws.db.session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]
