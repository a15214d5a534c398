"""The append-only, hash-chained, Merkle-checkpointed audit log; proofs; verification."""

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent, PersonalValueInAudit
from mamoru.audit.verification import verify
from mamoru.audit.writer import AuditWriter

__all__ = ["AuditEvent", "AuditWriter", "PersonalValueInAudit", "append", "verify"]
