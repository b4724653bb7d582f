"""Published form templates: install the shipped ones, load and cache parsed versions."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from forms.model import Template, parse_template
from kiosk import audit
from kiosk.clock import Clock
from kiosk.storage.db import Database
from kiosk.storage.models import AuditEventRow, FormTemplateRow

log = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "forms" / "templates"


class PublishedTemplateImmutable(RuntimeError):
    pass


@event.listens_for(FormTemplateRow, "before_update")
def _refuse_update(_mapper: object, _conn: object, target: FormTemplateRow) -> None:
    # A published version is what applications were made against: never rewrite it.
    # Retiring a version (active = False) is the only allowed change.
    from sqlalchemy import inspect

    changed = {a.key for a in inspect(target).attrs if a.history.has_changes()}
    if changed - {"active"}:
        raise PublishedTemplateImmutable(f"template {target.template_id} v{target.version}")


@dataclass(frozen=True)
class PublishedTemplate:
    pk: int
    template: Template


def shipped_templates() -> list[Template]:
    return [
        parse_template(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(SHIPPED_DIR.glob("*.json"))
    ]


def publish(
    session: Session, template: Template, raw: dict[str, object], clock: Clock, actor: str
) -> FormTemplateRow:
    row = FormTemplateRow(
        template_id=template.id,
        version=template.version,
        title=template.title["ja"],
        definition=raw,
        published_at=clock.now(),
        active=True,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        at=clock.now(),
        actor=actor,
        action="template_published",
        object_type="form_template",
        object_id=row.id,
        template=template.id,
        version=template.version,
    )
    return row


#: who publishes the shipped templates (administrators publish under their own name)
SHIPPED_ACTOR = "system"


def _published_by(session: Session, row: FormTemplateRow) -> str | None:
    return session.scalar(
        select(AuditEventRow.actor).where(
            AuditEventRow.action == "template_published",
            AuditEventRow.object_type == "form_template",
            AuditEventRow.object_id == str(row.id),
        )
    )


def _same_definition(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    return {k: v for k, v in a.items() if k != "version"} == {
        k: v for k, v in b.items() if k != "version"
    }


def install_shipped(db: Database, clock: Clock) -> int:
    """Bring the shipped templates into the database; return how many were published.

    A template the database lacks is installed. One whose latest version came from an
    earlier release (published by the system) and differs from the file is published as
    the next version, so an upgrade brings the new forms; applications keep the version
    they were made with. A template an administrator has published since is left alone:
    the municipality's edit wins over the release.
    """
    count = 0
    with db.write() as session:
        for path in sorted(SHIPPED_DIR.glob("*.json")):
            raw = json.loads(path.read_text(encoding="utf-8"))
            template = parse_template(raw)
            latest = session.scalars(
                select(FormTemplateRow)
                .where(FormTemplateRow.template_id == template.id)
                .order_by(FormTemplateRow.version.desc())
                .limit(1)
            ).first()
            if latest is not None:
                if _same_definition(latest.definition, raw):
                    continue
                if _published_by(session, latest) != SHIPPED_ACTOR:
                    log.info("kept the administrators' version of template %s", template.id)
                    continue
                raw = {**raw, "version": latest.version + 1}
                template = parse_template(raw)
            publish(session, template, raw, clock, actor=SHIPPED_ACTOR)
            count += 1
    if count:
        log.info("installed %d shipped form templates", count)
    return count


class TemplateRepository:
    """Parsed templates by primary key; a published version never changes, so cache it."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[int, Template] = {}
        self._lock = threading.Lock()

    def get(self, pk: int) -> Template:
        with self._lock:
            cached = self._cache.get(pk)
        if cached is not None:
            return cached
        with self._db.read() as session:
            row = session.get(FormTemplateRow, pk)
            if row is None:
                raise KeyError(pk)
            template = parse_template(row.definition)
        with self._lock:
            self._cache[pk] = template
        return template

    def active(self) -> list[PublishedTemplate]:
        """The newest active version of each template, in a stable order."""
        with self._db.read() as session:
            rows = session.scalars(
                select(FormTemplateRow)
                .where(FormTemplateRow.active.is_(True))
                .order_by(FormTemplateRow.id)
            ).all()
            newest: dict[str, FormTemplateRow] = {}
            for row in rows:
                if row.template_id not in newest or row.version > newest[row.template_id].version:
                    newest[row.template_id] = row
            pks = [row.id for row in newest.values()]
        return [PublishedTemplate(pk, self.get(pk)) for pk in pks]

    def all_versions(self, template_id: str) -> list[PublishedTemplate]:
        """Every published version of one template, oldest first."""
        with self._db.read() as session:
            pks = list(
                session.scalars(
                    select(FormTemplateRow.id)
                    .where(FormTemplateRow.template_id == template_id)
                    .order_by(FormTemplateRow.version)
                )
            )
        return [PublishedTemplate(pk, self.get(pk)) for pk in pks]

    def definition(self, pk: int) -> dict[str, object]:
        """The stored JSON of one version, exactly as published."""
        with self._db.read() as session:
            row = session.get(FormTemplateRow, pk)
            if row is None:
                raise KeyError(pk)
            return dict(row.definition)
