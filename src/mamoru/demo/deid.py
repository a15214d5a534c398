"""The demo's pseudonymized and anonymized datasets, made from the customers of the services ledger entry
by the sales department through the guard: a pseudonymized customer dataset whose purpose then changes
to research with its publication, and anonymized statistics by region, published with their items and a
provision's method."""

from __future__ import annotations

from datetime import datetime

from mamoru.deid import register as reg
from mamoru.deid import runs
from mamoru.deid.plan import parse_plan
from mamoru.policy.model import Text
from mamoru.workspace import Workspace

ACTOR = "staff:sa01"  # the sales department reads its customers for the services purpose
OFFICE = "staff:pm01"

PSEUDONYMIZED = """\
schema: mamoru.deid/1
id: demo_customers_pseudonymized
kind: pseudonymized
title: {ja: 顧客の利用状況（仮名加工・統計分析用）, en: Customers' usage (pseudonymized for statistical analysis)}
purpose: services
source: {kind: ledger, entry: L-services}
fields:
  - {name: subject_id, treatment: token}
  - {name: organization, treatment: token}
  - {name: address, treatment: generalize, generalize: prefecture}
  - {name: name, treatment: drop}
  - {name: email, treatment: drop}
  - {name: phone, treatment: drop}
"""

ANONYMIZED = """\
schema: mamoru.deid/1
id: demo_customer_statistics
kind: anonymized
title: {ja: 地方別の顧客数（匿名加工情報）, en: Customers by region (anonymized)}
purpose: services
source: {kind: ledger, entry: L-services}
fields:
  - name: address
    treatment: generalize
    generalize: region
    label: {ja: 居住地域（地方）, en: Region of residence}
quasi_identifiers: [address]
suppress_rare: true
"""

MEASURES = Text(
    ja="加工方法等情報は個人情報保護管理者のみが参照でき、データは暗号化して保管し、利用者には識別行為の禁止を誓約させています。",
    en="Only the protection manager can read the processing method; the data is stored encrypted and its users "
    "pledge never to try to identify anyone.",
)
CONTACT = Text(
    ja="個人情報保護に関する相談窓口（電子メール・電話）", en="Our privacy inquiry desk (e-mail, phone)"
)


def load_demo_deid(ws: Workspace, now: datetime) -> dict[str, int]:
    """Make both datasets; returns the rows of each."""
    made: dict[str, int] = {}
    for source in (PSEUDONYMIZED, ANONYMIZED):
        plan = parse_plan(source, "demo")
        with ws.db.session() as session:
            reg.store_plan(session, ws, plan, actor=OFFICE)
            dataset_id = reg.register(
                session, ws, plan, actor=OFFICE, safety_measures=MEASURES, complaint_contact=CONTACT
            ).id
        made[plan.kind.value] = runs.perform(ws, dataset_id, actor=ACTOR, now=now).rows
        with ws.db.session() as session:
            if plan.kind.value == "pseudonymized":
                reg.change_purpose(session, ws, dataset_id, "research", publish=True, actor=OFFICE, now=now)
            else:
                reg.publish_provision(
                    session,
                    dataset_id,
                    method=Text(
                        ja="暗号化した電子ファイルを送付", en="An encrypted file, sent electronically"
                    ),
                    actor=OFFICE,
                    now=now,
                )
    return made
