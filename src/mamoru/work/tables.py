"""When each periodic task last ran (the scheduler's shared state)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mamoru.store.db import Base


class ScheduleRun(Base):
    __tablename__ = "schedule_runs"

    task: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column()
