"""The portal's page on anonymized and pseudonymized information (APPI Arts. 41(4), 43, 44, 46) and the
console's page of plans, runs and registers. Thin: what they show comes from the register."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.deid import register as reg
from mamoru.deid import runs
from mamoru.deid import service as deid
from mamoru.deid.breach import open_breach_from_form
from mamoru.deid.plan import parse_plan
from mamoru.deid.rules import Basis
from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.errors import Invalid, Problem, problem
from mamoru.people.auth import SignedIn
from mamoru.policy.model import Text
from mamoru.policy.notice import Lang
from mamoru.web import listing
from mamoru.web.console import Staff, check, console_page
from mamoru.web.forms import PostedForm, again, back_to, from_query, shown
from mamoru.web.i18n import choose_lang, labels
from mamoru.web.portal import page
from mamoru.work.queue import submit

portal_router = APIRouter(include_in_schema=False)
console_router = APIRouter(prefix="/console/deid", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


def _purposes(ws: CurrentWorkspace, lang: Lang) -> dict[str, str]:
    return {p.id: p.text.in_(lang) for p in ws.policy.policy.purposes}


@portal_router.get("/deid", response_class=HTMLResponse)
def published(request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language) -> HTMLResponse:
    """Generated from the register, like the notice: each anonymized dataset's items, creation date,
    safety measures and complaint contact, each provision's items and method; each pseudonymized
    dataset's purpose."""
    return page(
        request,
        ws,
        lang,
        "deid.html.j2",
        labels(lang)["deid_public"],
        register=reg.public_register(session),
        purposes=_purposes(ws, lang),
    )


def _console(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Lang,
    who: SignedIn,
    values: dict[str, str],
    problems: list[Problem] | None = None,
) -> HTMLResponse:
    words = labels(lang)
    asked = listing.asked(request, reg.DATASETS)
    found = reg.dataset_page(session, asked)
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_deid.html.j2",
        words["deid"],
        plans=reg.plans(session),
        datasets=reg.datasets(session),
        table=listing.listing(
            request,
            "/console/deid",
            reg.DATASETS,
            asked,
            found,
            lang,
            choices=[
                listing.Choice(
                    "kind",
                    words["deid_kind"],
                    [(k, words[f"deid_kind_{k}"]) for k in ("pseudonymized", "anonymized")],
                    words["list_every"],
                ),
                listing.Choice(
                    "status",
                    words["deid_status"],
                    [(s, words[f"deid_status_{s}"]) for s in ("registered", "created", "retired")],
                    words["list_every"],
                ),
                listing.Choice(
                    "purpose", words["deid_purpose"], sorted(_purposes(ws, lang).items()), words["list_every"]
                ),
            ],
        ),
        runs=runs.runs(session, limit=50),
        purposes=_purposes(ws, lang),
        bases=[(b.value, labels(lang)[f"deid_basis_{b.value}"]) for b in Basis],
        publications=[p for p in reg.publications(session) if p.kind == "provision"],
        values=values,
        form_errors=shown(problems, lang) if problems is not None else from_query(request, lang),
    )


@console_router.get("", response_class=HTMLResponse)
def console(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff
) -> HTMLResponse:
    check(who, "deid")
    return _console(request, ws, session, lang, who, {})


def _text(values: dict[str, str], name: str) -> Text | None:
    ja, en = values.get(f"{name}_ja", "").strip(), values.get(f"{name}_en", "").strip()
    return Text(ja=ja, en=en) if ja or en else None


@console_router.post("/plans", response_class=HTMLResponse)
def store_plan(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    plan: Annotated[str, Form(max_length=100_000)],
    safety_measures_ja: Annotated[str, Form(max_length=2000)] = "",
    safety_measures_en: Annotated[str, Form(max_length=2000)] = "",
    complaint_contact_ja: Annotated[str, Form(max_length=2000)] = "",
    complaint_contact_en: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check a plan and, when it passes, store it and register its dataset; a refused plan comes back
    with each problem under the plan."""
    check(who, "deid.manage", csrf)
    values = {
        "plan": plan,
        "safety_measures_ja": safety_measures_ja,
        "safety_measures_en": safety_measures_en,
        "complaint_contact_ja": complaint_contact_ja,
        "complaint_contact_en": complaint_contact_en,
    }
    again(request, lambda problems: _console(request, ws, session, lang, who, values, problems))
    try:
        parsed = parse_plan(plan, "plan")
    except Invalid as exc:  # a plan that cannot be read: the problems belong to the plan's box
        raise Invalid([problem(("plan", *p.loc), p.msg, p.type) for p in exc.problems]) from None
    reg.store_plan(session, ws, parsed, actor=who.actor)
    reg.register(
        session,
        ws,
        parsed,
        actor=who.actor,
        safety_measures=_text(values, "safety_measures"),
        complaint_contact=_text(values, "complaint_contact"),
    )
    return _back(lang)


def _back(lang: Lang) -> RedirectResponse:
    return RedirectResponse(f"/console/deid?lang={lang}", status_code=303)


#: A refused action goes back to the console page with its problems beside the fields.
BACK = [back_to("/console/deid")]


@console_router.post("/datasets/{dataset_id}/run", dependencies=BACK)
def start_run(
    dataset_id: str,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    """Start (or resume) the dataset's run on the work queue (here and now when there is no broker)."""
    check(who, "deid.manage", csrf)
    with ws.db.session() as session:
        runs.start(session, ws, dataset_id, actor=who.actor)
    submit(ws, "deid.run", dataset_id=dataset_id, actor=who.actor)
    return _back(lang)


@console_router.post("/datasets/{dataset_id}/publish", dependencies=BACK)
def publish(
    dataset_id: str,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    method_ja: Annotated[str, Form(max_length=2000)] = "",
    method_en: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Publish the items and the method of a provision to come (APPI-44)."""
    check(who, "deid.manage", csrf)
    method = _text({"method_ja": method_ja, "method_en": method_en}, "method")
    if method is None:
        raise Invalid([problem("method", "name the method of provision", "missing")])
    reg.publish_provision(session, dataset_id, method=method, actor=who.actor, now=datetime.now(UTC))
    return _back(lang)


@console_router.post("/datasets/{dataset_id}/provide", dependencies=BACK)
def provide(
    dataset_id: str,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    recipient: Annotated[str, Form(max_length=200)],
    basis: Annotated[str, Form(max_length=16)],
    statement: Annotated[bool, Form()] = False,
    publication: Annotated[int | None, Form()] = None,
) -> Response:
    """Provide a dataset: decided by the guard's rules for its kind and audited, allowed or refused."""
    check(who, "deid.manage", csrf)
    if basis not in {b.value for b in Basis}:
        raise Invalid([problem("basis", "choose a basis", "invalid")])
    try:
        deid.provide(
            session,
            dataset_id,
            recipient=recipient,
            basis=Basis(basis),
            actor=who.actor,
            now=datetime.now(UTC),
            statement=statement,
            publication_id=publication,
        )
    except deid.DeidRefused as refused:
        session.commit()  # the refusal's audit entry stays (a Refusal commits what it was raised in)
        raise Invalid([problem("basis", str(refused), refused.verdict.reason.value)]) from None
    return _back(lang)


@console_router.post("/datasets/{dataset_id}/retire", dependencies=BACK)
def retire(
    dataset_id: str,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    """Delete a dataset no longer needed, its files and mapping, with a disposal record (APPI-41b)."""
    check(who, "deid.manage", csrf)
    reg.retire(session, ws, dataset_id, actor=who.actor, today=datetime.now(UTC).date())
    return _back(lang)


@console_router.post("/breach", dependencies=BACK)
def breach(
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    form: PostedForm,
) -> Response:
    """Open an incident over registered datasets (APPI-26b): whether only pseudonymized information is
    involved comes from the register, so the PPC clock starts or not by what the datasets are."""
    check(who, "incidents.manage", str(form.get("csrf", "")))
    values: dict[str, object] = {k: str(v) for k, v in form.items()}
    values["datasets"] = [str(v) for v in form.getlist("datasets")]
    incident = open_breach_from_form(session, ws.vault, values, actor=who.actor, now=datetime.now(UTC))
    return RedirectResponse(f"/console/incidents/{incident.ref}?lang={lang}", status_code=303)
