"""What the API and the pages share: the opened workspace and a database session in one transaction per
request, and a file download. Both edges import this; neither imports the other."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from mamoru.workspace import Workspace

#: The largest id or sequence number a route accepts (a 32-bit INTEGER column on PostgreSQL).
MAX_ID = 2**31 - 1


async def get_workspace(request: Request) -> Workspace:
    # async: no I/O here, and a plain ``def`` dependency costs every request a trip through the thread pool
    workspace: Workspace = request.app.state.workspace
    return workspace


CurrentWorkspace = Annotated[Workspace, Depends(get_workspace)]


def get_session(ws: CurrentWorkspace) -> Iterator[Session]:
    with ws.db.session() as session:
        yield session


#: ``scope="function"``: the transaction commits before the response goes out, so a redirect never
#: reaches the browser ahead of the change it reports, and a background task (a request's job) always
#: sees the decision that started it.
DbSession = Annotated[Session, Depends(get_session, scope="function")]


def download(data: bytes, filename: str, media_type: str) -> Response:
    """A file for the browser to save, never cached (it may carry personal data)."""
    return Response(
        data,
        media_type=media_type,
        headers={"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{filename}"'},
    )
