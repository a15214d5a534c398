"""The append-only, hash-chained, Merkle-checkpointed audit log; proofs; verification."""

from mamoru.audit.entry import AuditEvent, PersonalValueInAudit
from mamoru.audit.log import AuditWriter, append, verify

__all__ = ["AuditEvent", "AuditWriter", "PersonalValueInAudit", "append", "verify"]
