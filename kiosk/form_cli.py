"""`python main.py templates list|validate|import|export` and `form render`.

`form render` fills a template from a card file (the JSON `card read --json` prints) and
optional resident answers, and writes the PDF: exit 0 written; 1 invalid input or missing
resident fields (without --draft); 3 a character the fonts lack (外字), one
``missing glyph U+XXXX in field NAME`` line each, unless --allow-missing-glyphs; 4 a value
does not fit its box (the field is named). Nothing is written on 1, 3 or 4.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forms.assessment import settle
from forms.model import Source, TemplateError, parse_template
from forms.prefill import FilledValue, Provenance, prefill
from forms.validation import validate
from kiosk.clock import SystemClock, today
from kiosk.config import Settings
from kiosk.context import open_database
from kiosk.fee_table import FeeTable
from kiosk.templates_repo import TemplateRepository, publish

if TYPE_CHECKING:
    from printing.document import PrintDocument

EXIT_INVALID = 1
EXIT_MISSING_GLYPHS = 3
EXIT_DOES_NOT_FIT = 4


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    templates = sub.add_parser("templates", help="form templates")
    t_sub = templates.add_subparsers(dest="templates_command", required=True)
    listing = t_sub.add_parser("list", help="the published templates (latest versions)")
    listing.add_argument("--json", action="store_true")
    check = t_sub.add_parser("validate", help="check a template file")
    check.add_argument("file", type=Path)
    imp = t_sub.add_parser("import", help="publish a template file as a new version")
    imp.add_argument("file", type=Path)
    exp = t_sub.add_parser("export", help="print the latest version of a template as JSON")
    exp.add_argument("template_id")
    lay = t_sub.add_parser(
        "layout", help="arrange a template file's fields as a form (writes its print layout)"
    )
    lay.add_argument("file", type=Path)
    lay.add_argument(
        "--split-address",
        action="append",
        default=[],
        metavar="FIELD",
        help="print this address field in 都道府県 / 市区町村 / rest boxes (repeatable)",
    )
    lay.add_argument("--write", action="store_true", help="replace the file's layout in place")
    fees = sub.add_parser("fees", help="the municipality's fee table")
    fee_sub = fees.add_subparsers(dest="fees_command", required=True)
    fee_list = fee_sub.add_parser("list", help="every fee code with its amount and origin")
    fee_list.add_argument("--json", action="store_true")
    fee_set = fee_sub.add_parser("set", help="set a fee code's amount in yen (audited)")
    fee_set.add_argument("code")
    fee_set.add_argument("amount", type=int)
    fee_set.add_argument("--actor", default="admin-cli", help="who makes the change")
    form = sub.add_parser("form", help="render forms")
    f_sub = form.add_subparsers(dest="form_command", required=True)
    render = f_sub.add_parser("render", help="fill a template from a card file; write a PDF")
    render.add_argument("template_id")
    render.add_argument("--card", type=Path, required=True, help="JSON as `card read --json`")
    render.add_argument("--fields", type=Path, help="JSON object: field id -> value")
    render.add_argument("--draft", action="store_true", help="render even if fields are missing")
    render.add_argument("--out", type=Path, required=True)
    render.add_argument(
        "--allow-missing-glyphs",
        action="store_true",
        help="print characters the fonts lack in IPAmj明朝 if installed, else as marked blanks",
    )


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TemplateError(str(path), f"cannot read JSON: {type(exc).__name__}") from None


def _repository(settings: Settings) -> tuple[Any, TemplateRepository]:
    db = open_database(settings, SystemClock())
    return db, TemplateRepository(db)


def templates_list(settings: Settings, as_json: bool) -> int:
    db, repo = _repository(settings)
    try:
        table = FeeTable(db, SystemClock(), settings.fee_overrides).current()
        rows: list[dict[str, Any]] = []
        for published in repo.active():
            t = published.template
            fees = {r.code: table.get(r.code, r.amount) for r in t.fees}
            rows.append(
                {
                    "id": t.id,
                    "version": t.version,
                    "title": t.title["ja"],
                    "business": t.business,
                    "fees": fees,
                }
            )
    finally:
        db.dispose()
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            note = ", ".join(f"{k}={v}" for k, v in row["fees"].items()) or "no fee"
            print(f"{row['id']:<12} v{row['version']}  {row['title']}  [{note}]")
    return 0


def templates_validate(path: Path) -> int:
    try:
        template = parse_template(_load_json(path))
    except TemplateError as exc:
        sys.stderr.write(f"invalid: {exc.where}: {exc.problem}\n")
        return EXIT_INVALID
    print(f"valid: {template.id} v{template.version}")
    return 0


def templates_import(settings: Settings, path: Path) -> int:
    try:
        raw = _load_json(path)
        template = parse_template(raw)
    except TemplateError as exc:
        sys.stderr.write(f"invalid: {exc.where}: {exc.problem}\n")
        return EXIT_INVALID
    db, repo = _repository(settings)
    try:
        existing = [p.template.version for p in repo.all_versions(template.id)]
        if existing and template.version <= max(existing):
            sys.stderr.write(
                f"version {template.version} is not newer than the published "
                f'v{max(existing)}: raise "version"\n'
            )
            return EXIT_INVALID
        with db.write() as session:
            publish(session, template, raw, SystemClock(), actor="cli")
    finally:
        db.dispose()
    print(f"published: {template.id} v{template.version}")
    return 0


def templates_layout(path: Path, split: list[str], write: bool) -> int:
    """Give a template file the automatic form layout; print it or write it back."""
    from forms.layout_builder import auto_layout, format_template_json

    try:
        raw = _load_json(path)
        if not isinstance(raw, dict):
            raise TemplateError("template", "must be an object")
        raw.pop("layout", None)
        template = parse_template(raw)
        unknown = [f for f in split if f not in {x.id for x in template.fields}]
        if unknown:
            raise TemplateError("--split-address", f"unknown field {unknown[0]!r}")
        raw["layout"] = auto_layout(template, split_addresses=split)
        parse_template(raw)
    except TemplateError as exc:
        sys.stderr.write(f"{path}: {exc.where}: {exc.problem}\n")
        return EXIT_INVALID
    text = format_template_json(raw, path.read_text(encoding="utf-8"))
    if write:
        path.write_text(text, encoding="utf-8")
        print(f"written: {path}")
    else:
        sys.stdout.write(text)
    return 0


def templates_export(settings: Settings, template_id: str) -> int:
    db, repo = _repository(settings)
    try:
        versions = repo.all_versions(template_id)
        if not versions:
            sys.stderr.write(f"no template {template_id!r}\n")
            return EXIT_INVALID
        print(json.dumps(repo.definition(versions[-1].pk), ensure_ascii=False, indent=2))
    finally:
        db.dispose()
    return 0


def form_render(settings: Settings, args: argparse.Namespace) -> int:
    from forms.fees import compute_fee
    from kiosk.print_service import document_for
    from printing.document import GlyphPolicy
    from printing.glyphs import find_missing
    from printing.render import ValueDoesNotFit, render_pdf_to_file

    try:
        card = _load_json(args.card)
        answers = _load_json(args.fields) if args.fields else {}
        if not isinstance(card, dict) or not isinstance(answers, dict):
            raise TemplateError("--card/--fields", "must be a JSON object")
    except TemplateError as exc:
        sys.stderr.write(f"{exc.where}: {exc.problem}\n")
        return EXIT_INVALID
    db, repo = _repository(settings)
    try:
        match = [p for p in repo.active() if p.template.id == args.template_id]
        table = FeeTable(db, SystemClock(), settings.fee_overrides).current()
    finally:
        db.dispose()
    if not match:
        sys.stderr.write(f"no published template {args.template_id!r}\n")
        return EXIT_INVALID
    template = match[0].template
    day = today(SystemClock())
    sources = {
        Source.CARD_NAME: str(card.get("name", "")),
        Source.CARD_ADDRESS: str(card.get("address", "")),
        Source.CARD_BIRTH_DATE: str(card.get("birth_date", "")).replace("-", ""),
        Source.CARD_SEX: str(card.get("sex", "")),
        Source.SESSION_TODAY: day.strftime("%Y%m%d"),
    }
    if template.needs_my_number and card.get("my_number"):
        sources[Source.CARD_MY_NUMBER] = str(card["my_number"])
    filled = prefill(template, sources)
    filled |= {str(k): FilledValue(str(v), Provenance.RESIDENT) for k, v in answers.items()}
    # as submitted: answers that do not apply dropped, computed fields (age, delivery) fresh
    values = {k: v.value for k, v in settle(template, filled, day).items()}
    problems = validate(template, values)
    if problems and not args.draft:
        for problem in problems:
            sys.stderr.write(f"field {problem.field_id}: {problem.message_key}\n")
        return EXIT_INVALID
    document = document_for(
        template,
        values,
        fee=compute_fee(template, values, table),
        addressee=settings.addressee,
        day=day,
        ticket="DRAFT" if args.draft else "",
        reference=f"{day:%Y%m%d}-DRAFT",
    )
    missing = find_missing(document)
    for glyph in missing:
        sys.stderr.write(glyph.cli_line() + "\n")
    if missing and not args.allow_missing_glyphs:
        return EXIT_MISSING_GLYPHS
    if missing:
        document = replace(document, glyph_policy=GlyphPolicy.FALLBACK)
    try:
        render_pdf_to_file(document, args.out)
    except ValueDoesNotFit as exc:
        sys.stderr.write(f"value does not fit: field {_field_named(document, exc.label)}\n")
        return EXIT_DOES_NOT_FIT
    print(f"written: {args.out}")
    return 0


def _field_named(document: PrintDocument, label: str) -> str:
    """The field id of the row the renderer named by its label (the label if none)."""
    ids = [r.field_id for s in document.sections for r in s.rows if r.label == label]
    return f"{ids[0]} ({label})" if ids and ids[0] else label


def fees_command(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.errors import ValidationFailed
    from kiosk.i18n import tr

    db, repo = _repository(settings)
    try:
        table = FeeTable(db, SystemClock(), settings.fee_overrides)
        rules = {r.code: r for p in repo.active() for r in p.template.fees}
        if args.fees_command == "set":
            try:
                table.set(args.code, args.amount, args.actor, set(rules))
            except ValidationFailed as exc:
                sys.stderr.write(tr(exc.message_key, "ja") + "\n")
                return EXIT_INVALID
            print(f"{args.code} = {args.amount}")
            return 0
        current = table.current()
        rows = [
            {
                "code": code,
                "label": rule.label["ja"],
                "default": rule.amount,
                "amount": current.get(code, rule.amount),
            }
            for code, rule in rules.items()
        ]
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(
                f"{row['code']:<20} {row['amount']:>6}円  (既定 {row['default']}円) {row['label']}"
            )
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "form":
        return form_render(settings, args)
    if args.command == "fees":
        return fees_command(settings, args)
    command = args.templates_command
    if command == "list":
        return templates_list(settings, args.json)
    if command == "validate":
        return templates_validate(args.file)
    if command == "import":
        return templates_import(settings, args.file)
    if command == "layout":
        return templates_layout(args.file, args.split_address, args.write)
    return templates_export(settings, args.template_id)
