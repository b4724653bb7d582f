"""Published form templates: install the shipped ones, load and cache parsed versions."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from forms.model import Template, parse_template
from kiosk import audit
from kiosk.clock import Clock
from kiosk.storage.db import Database
from kiosk.storage.models import FormTemplateRow

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


def install_shipped_if_empty(db: Database, clock: Clock) -> int:
    """Install the shipped templates into a database that holds none; return how many."""
    with db.write() as session:
        if session.scalar(select(func.count()).select_from(FormTemplateRow)):
            return 0
        count = 0
        for path in sorted(SHIPPED_DIR.glob("*.json")):
            raw = json.loads(path.read_text(encoding="utf-8"))
            publish(session, parse_template(raw), raw, clock, actor="system")
            count += 1
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
