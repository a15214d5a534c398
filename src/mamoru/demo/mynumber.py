"""Demo numbers: employees with their dependants and payees, collected by the HR handler for this
year's withholding and payment filings, and one old declaration already past its retention."""

from __future__ import annotations

import random
from datetime import date, datetime

from mamoru.demo import DemoPlan
from mamoru.law.mynumber import IdentityDoc, NumberCheckDoc, NumberDocument, StatutoryAffair, check_digit
from mamoru.mynumber import service as mn
from mamoru.workspace import Workspace

HANDLER = "staff:hr01"


def synthetic_number(rng: random.Random) -> str:
    """A made-up number with a valid check digit (demo data only)."""
    base = f"{rng.randrange(10**11):011d}"
    return base + str(check_digit(base))


def load_demo_numbers(ws: Workspace, plan: DemoPlan, now: datetime, seed: int = 1) -> list[str]:
    """Collect the demo's numbers into the My Number vault; returns them, so that the demo's file share
    can keep clear of them (and nothing else keeps them)."""
    rng = random.Random(seed)
    people = plan.all_people()
    employees = [p.subject_id for p in people if p.kind == "employee"][:4]
    dependents = [p.subject_id for p in people if p.kind == "dependent"][:2]
    payees = [p.subject_id for p in people if p.kind == "payee"][:2]
    year = now.year
    collected: list[str] = []
    with ws.db.session() as session:
        declaration = mn.create_filing(
            session,
            affair=StatutoryAffair.WITHHOLDING_SLIP,
            document=NumberDocument.DEPENDENTS_DECLARATION,
            year=year,
            due_on=date(year + 1, 1, 31),
            actor=HANDLER,
        )
        payment = mn.create_filing(
            session,
            affair=StatutoryAffair.PAYMENT_REPORT,
            document=NumberDocument.PAYMENT_REPORT,
            year=year,
            due_on=date(year + 1, 1, 31),
            actor=HANDLER,
        )
        old = mn.create_filing(
            session,
            affair=StatutoryAffair.WITHHOLDING_SLIP,
            document=NumberDocument.DEPENDENTS_DECLARATION,
            year=year - 9,
            due_on=date(year - 8, 1, 31),
            actor=HANDLER,
        )
        plan_rows: list[tuple[str, int, str | None, NumberCheckDoc, list[IdentityDoc]]] = [
            (e, declaration.id, None, NumberCheckDoc.MY_NUMBER_CARD, []) for e in employees
        ]
        plan_rows += [
            (
                d,
                declaration.id,
                employees[0],
                NumberCheckDoc.NOTIFICATION_CARD,
                [IdentityDoc.HEALTH_INSURANCE_CARD, IdentityDoc.PENSION_BOOK],
            )
            for d in dependents
        ]
        plan_rows += [
            (p, payment.id, None, NumberCheckDoc.RESIDENCE_CERTIFICATE, [IdentityDoc.DRIVERS_LICENSE])
            for p in payees
        ]
        plan_rows.append((employees[-1], old.id, None, NumberCheckDoc.MY_NUMBER_CARD, []))
        for subject, filing_id, dependent_of, check, identity in plan_rows:
            value = synthetic_number(rng)
            mn.collect(
                session,
                ws,
                mn.CollectIn(subject, value, filing_id, check, identity, dependent_of=dependent_of),
                actor=HANDLER,
                now=now,
            )
            collected.append(value)
    return collected
