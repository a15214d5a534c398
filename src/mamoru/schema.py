"""Every table, gathered so that Alembic and the tests see one metadata."""

from mamoru import outbox as _outbox
from mamoru.audit import tables as _audit
from mamoru.deid import tables as _deid
from mamoru.incidents import tables as _incidents
from mamoru.ledger import tables as _ledger
from mamoru.mynumber import tables as _mynumber
from mamoru.people import tables as _people
from mamoru.pms import tables as _pms
from mamoru.policy import tables as _policy
from mamoru.requests import tables as _requests
from mamoru.scan import tables as _scan
from mamoru.store.db import Base
from mamoru.transfers import tables as _transfers
from mamoru.vault import tables as _vault
from mamoru.work import tables as _work

metadata = Base.metadata
__all__ = [
    "_audit",
    "_deid",
    "_incidents",
    "_ledger",
    "_mynumber",
    "_outbox",
    "_people",
    "_pms",
    "_policy",
    "_requests",
    "_scan",
    "_transfers",
    "_vault",
    "_work",
    "metadata",
]
