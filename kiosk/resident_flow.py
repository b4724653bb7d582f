"""The resident's session at the touchscreen, as a Qt-free state machine.

The UI renders ``ResidentView`` snapshots and calls the intent methods; device and
database work goes through a ``Runner`` lane and comes back as callbacks. Every callback
carries the session's generation number, so a late answer from a session that has
already ended (timeout, cancel) is dropped instead of leaking into the next one.

Screens: start → choose → place_card → (checking_card) → pin [last_try | locked] →
reading → confirm → question… → review → submitting → submitted → take_card → start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import partial
from typing import Any

from devices.card import CardData, CardReader
from devices.errors import CardRemoved, LastTryNotConfirmed, NoCard, PinLocked, WrongPin
from forms.assessment import assess, settle
from forms.computed import computed_defaults, computed_values
from forms.display import display_value, mask_my_number
from forms.localized import pick
from forms.model import FieldKind, Source, Template
from forms.prefill import FilledValue, Provenance, prefill, resident_questions
from forms.rules import rule_against_answer
from forms.validation import check_field
from forms.visibility import is_required, visible_ids
from kiosk.applications import ApplicationService
from kiosk.clock import Clock, today
from kiosk.errors import message_of
from kiosk.i18n import tr
from kiosk.runner import Runner
from kiosk.templates_repo import PublishedTemplate, TemplateRepository

log = logging.getLogger(__name__)

PIN_LENGTH = 4


class Screen(StrEnum):
    START = "start"
    CHOOSE = "choose"
    PLACE_CARD = "place_card"
    CHECKING_CARD = "checking_card"
    LAST_TRY = "last_try"
    LOCKED = "locked"
    PIN = "pin"
    READING = "reading"
    CONFIRM = "confirm"
    QUESTION = "question"
    REVIEW = "review"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    TAKE_CARD = "take_card"
    ERROR = "error"


#: the step bar: ① 手続き ② カード ③ 暗証番号 ④ 確認 ⑤ 完了
STEP: dict[Screen, int] = {
    Screen.START: 0,
    Screen.CHOOSE: 1,
    Screen.PLACE_CARD: 2,
    Screen.CHECKING_CARD: 2,
    Screen.LOCKED: 2,
    Screen.ERROR: 2,
    Screen.LAST_TRY: 3,
    Screen.PIN: 3,
    Screen.READING: 3,
    Screen.CONFIRM: 4,
    Screen.QUESTION: 4,
    Screen.REVIEW: 4,
    Screen.SUBMITTING: 4,
    Screen.SUBMITTED: 5,
    Screen.TAKE_CARD: 5,
}
BUSY = frozenset({Screen.CHECKING_CARD, Screen.READING, Screen.SUBMITTING})
#: a busy screen that lasts longer than this ends the session with an error (hung device)
BUSY_DEADLINE_S = 30.0
#: screens on which the reader is watched: arrival, removal, or a card taken away early
WATCH_CARD = frozenset(
    {
        Screen.PLACE_CARD,
        Screen.PIN,
        Screen.LAST_TRY,
        Screen.LOCKED,
        Screen.CONFIRM,
        Screen.QUESTION,
        Screen.REVIEW,
        Screen.TAKE_CARD,
    }
)
#: screens that show data read from the card: removing the card there wipes the session
AFTER_READ = frozenset({Screen.CONFIRM, Screen.QUESTION, Screen.REVIEW})
#: errors after which placing the card again can help; the others need a clerk
RETRYABLE = frozenset({"not_mynumber", "reader_error", "card_error", "removed"})
#: screens on which the idle timer runs (not the attract screen, not while working)
TIMED = frozenset(Screen) - BUSY - {Screen.START}


@dataclass(frozen=True)
class Message:
    key: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True)
class Procedure:
    template_pk: int
    title: str
    description: str
    fee_note: str  # e.g. "1通 300円" or "無料"


@dataclass(frozen=True)
class Row:
    field_id: str
    label: str
    value: str
    provenance: Provenance


@dataclass(frozen=True)
class Question:
    field_id: str
    kind: FieldKind
    label: str
    help: str
    choices: tuple[tuple[str, str], ...]
    value: str
    minimum: int | None
    maximum: int | None
    index: int
    count: int
    problem: Message | None
    #: a rule of the template the answer broke, in the resident's language
    problem_text: str = ""


@dataclass(frozen=True)
class ResidentView:
    screen: Screen
    language: str
    step: int
    procedures: tuple[Procedure, ...] = ()
    procedure_title: str = ""
    pin_entered: int = 0
    tries_left: int | None = None
    message: Message | None = None
    rows: tuple[Row, ...] = ()
    question: Question | None = None
    ticket: str = ""
    fee_total: int = 0
    idle_seconds_left: int | None = None
    help_requested: bool = False
    #: changes whenever a resident's session ends: the UI clears every page then
    generation: int = 0
    #: on the error screen: whether 「カードを置き直す」 can help
    retryable: bool = False
    #: on the review screen: why the application cannot be sent (rules, eligibility)
    blockers: tuple[str, ...] = ()
    #: on the review screen: what the resident must bring or know (委任状, sent by post…)
    notices: tuple[str, ...] = ()


@dataclass
class _Session:
    """Everything about the current resident; dropped whole when the session ends."""

    generation: int
    language: str = "ja"
    template: PublishedTemplate | None = None
    pin: list[str] = field(default_factory=list, repr=False)
    tries_left: int | None = None
    last_try_accepted: bool = False
    card: CardData | None = None
    values: dict[str, FilledValue] = field(default_factory=dict, repr=False)
    #: every question the template can ask; ``_asked()`` keeps those that apply now
    questions: list[str] = field(default_factory=list)
    current: str = ""
    answered: set[str] = field(default_factory=set)
    question_problem: Message | None = None
    question_rule: str = ""
    back_to_review: bool = False
    draft_id: int | None = None
    ticket: str = ""
    fee_total: int = 0
    message: Message | None = None
    help_requested: bool = False


Listener = Callable[[ResidentView], None]


class ResidentFlow:
    def __init__(
        self,
        *,
        reader: CardReader,
        templates: TemplateRepository,
        applications: ApplicationService,
        runner: Runner,
        clock: Clock,
        idle_warning_s: float = 60.0,
        idle_reset_s: float = 90.0,
    ) -> None:
        self._reader = reader
        self._templates = templates
        self._apps = applications
        self._runner = runner
        self._clock = clock
        self._idle_warning_s = idle_warning_s
        self._idle_reset_s = idle_reset_s
        self._listeners: list[Listener] = []
        self._procedures: list[PublishedTemplate] = []
        self._generation = 0
        self._s = _Session(generation=0)
        self._screen = Screen.START
        self._last_touch = clock.monotonic()
        self._card_poll_busy = False
        self._loading = False
        self._busy_since: float | None = None
        #: ended sessions, by reason; the UI counts on this only for tests and the audit
        self.ended: list[str] = []

    # --- observation ---------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    @property
    def screen(self) -> Screen:
        return self._screen

    @property
    def idle_seconds(self) -> float:
        return self._clock.monotonic() - self._last_touch

    def view(self) -> ResidentView:
        s = self._s
        lang = s.language
        template = s.template.template if s.template else None
        idle_left = None
        if self._screen in TIMED and self.idle_seconds >= self._idle_warning_s:
            idle_left = max(0, round(self._idle_reset_s - self.idle_seconds))
        blockers, notices = (
            self._review_state(template) if template and self._screen is Screen.REVIEW else ((), ())
        )
        return ResidentView(
            screen=self._screen,
            language=lang,
            step=STEP[self._screen],
            procedures=tuple(self._procedure(p, lang) for p in self._procedures),
            procedure_title=pick(template.short_title, lang) if template else "",
            pin_entered=len(s.pin),
            tries_left=s.tries_left,
            message=s.message,
            rows=self._rows(template, card_only=self._screen is Screen.CONFIRM)
            if template and self._screen in (Screen.CONFIRM, Screen.REVIEW)
            else (),
            question=self._question() if self._screen is Screen.QUESTION else None,
            ticket=s.ticket,
            fee_total=s.fee_total,
            idle_seconds_left=idle_left,
            help_requested=s.help_requested,
            generation=s.generation,
            retryable=bool(s.message and s.message.key in RETRYABLE and s.template),
            blockers=blockers,
            notices=notices,
        )

    def _plain(self) -> dict[str, str]:
        return {k: v.value for k, v in self._s.values.items()}

    def _asked(self) -> list[str]:
        """The questions that apply to the answers so far (``shown_when``), in form order."""
        s = self._s
        if s.template is None:
            return []
        shown = visible_ids(s.template.template, self._plain())
        return [q for q in s.questions if q in shown]

    def _review_state(self, template: Template) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What stops the application (in plain words) and what the resident must know."""
        lang = self._s.language
        result = assess(template, settled_plain(template, self._s.values, today(self._clock)))
        blockers = [pick(f.message, lang) for f in result.failures]
        outcome = result.outcome
        if not outcome.allowed:
            blockers.append(
                pick(outcome.message, lang)
                if outcome.message
                else tr(f"refused_{outcome.reason}", lang)
            )
        elif result.problems and not blockers:
            blockers.append(tr("review_incomplete", lang))
        notices = [tr(f"obligation_{o.value}", lang) for o in outcome.obligations]
        return tuple(blockers), tuple(notices) if outcome.allowed else ()

    def _procedure(self, published: PublishedTemplate, lang: str) -> Procedure:
        t = published.template
        if not t.fees:
            note = Message("fee_free")
        else:
            # the unit price of each rule after the municipality's fee table; when the kinds
            # cost differently (戸籍: 450 / 750 / 300), the tile says "from" the lowest
            units = {r.per_field: "1" for r in t.fees if r.per_field}
            prices = sorted(
                self._apps.fee_for(
                    t,
                    {
                        **units,
                        **({r.when_field: r.when_value} if r.when_field and r.when_value else {}),
                    },
                ).total
                for r in t.fees
            )
            per_copy = any(r.per_field for r in t.fees)
            key = (
                "fee_from"
                if len(set(prices)) > 1
                else ("fee_per_copy" if per_copy else "fee_total")
            )
            note = Message(key, (("amount", prices[0]),))
        return Procedure(
            published.pk,
            pick(t.short_title, lang),
            pick(t.description, lang) if t.description else "",
            tr(note.key, lang, **note.kwargs),
        )

    def _rows(self, template: Template, *, card_only: bool) -> tuple[Row, ...]:
        rows = []
        shown = visible_ids(template, self._plain())
        for f in template.fields:
            filled = self._s.values.get(f.id)
            if filled is None or f.id not in shown:
                continue
            if card_only and filled.provenance is not Provenance.CARD:
                continue
            if not card_only and filled.provenance is Provenance.SYSTEM:
                continue
            text = display_value(f, filled.value, self._s.language)
            if f.kind is FieldKind.CHECKBOX:
                text = tr("yes" if filled.value == "1" else "no", self._s.language)
            if f.source is Source.CARD_MY_NUMBER:
                text = mask_my_number(filled.value)
            rows.append(Row(f.id, pick(f.label, self._s.language), text, filled.provenance))
        return tuple(rows)

    def _question(self) -> Question | None:
        s = self._s
        asked = self._asked()
        if not s.template or s.current not in asked:
            return None
        f = s.template.template.field(s.current)
        lang = s.language
        current = s.values.get(f.id)
        return Question(
            field_id=f.id,
            kind=f.kind,
            label=pick(f.label, lang),
            help=pick(f.help, lang) if f.help else "",
            choices=tuple((c.value, pick(c.label, lang)) for c in f.choices),
            value=current.value if current else "",
            minimum=f.minimum,
            maximum=f.maximum,
            index=asked.index(f.id),
            count=len(asked),
            problem=s.question_problem,
            problem_text=s.question_rule,
        )

    @property
    def watching_card(self) -> bool:
        return self._screen in WATCH_CARD

    def _go(self, screen: Screen) -> None:
        if screen in BUSY and self._screen not in BUSY:
            self._busy_since = self._clock.monotonic()
        elif screen not in BUSY:
            if self._busy_since is not None:  # a long wait is not the resident's idleness
                self._last_touch = self._clock.monotonic()
            self._busy_since = None
        self._screen = screen
        self._emit()

    def _emit(self) -> None:
        view = self.view()
        for listener in list(self._listeners):
            listener(view)

    # --- background work, tied to this session --------------------------------------
    def _run(
        self,
        lane: str,
        fn: Callable[[], Any],
        ok: Callable[[Any], None],
        fail: Callable[[BaseException], None],
    ) -> None:
        generation = self._s.generation

        def on_ok(result: Any) -> None:
            if generation == self._s.generation:
                ok(result)

        def on_fail(exc: BaseException) -> None:
            if generation == self._s.generation:
                fail(exc)

        self._runner.submit(lane, fn, on_ok, on_fail)

    def _show_error(self, exc: BaseException) -> None:
        key, params = message_of(exc)
        if key == "error_generic":
            log.error("resident flow failed", exc_info=exc)
        self._s.message = Message(key, tuple(params.items()))
        self._go(Screen.ERROR)

    # --- intents: start and procedure ------------------------------------------------
    def touch(self) -> None:
        """Any touch, click or key on the resident screen."""
        warned = self.view().idle_seconds_left is not None
        self._last_touch = self._clock.monotonic()
        if warned:
            self._emit()

    def start(self, language: str | None = None) -> None:
        if self._screen is not Screen.START or self._loading:
            return  # a double tap must not restart a session that is under way
        if language:
            self._s.language = language
        self.touch()
        self._loading = True
        self._run("db", self._templates.active, self._on_procedures, self._on_load_failed)

    def _on_procedures(self, procedures: list[PublishedTemplate]) -> None:
        self._loading = False
        self._procedures = procedures
        if self._screen is Screen.START:
            self._go(Screen.CHOOSE)

    def _on_load_failed(self, exc: BaseException) -> None:
        self._loading = False
        self._show_error(exc)

    def set_language(self, language: str) -> None:
        self._s.language = language
        self._emit()

    def choose(self, template_pk: int) -> None:
        match = [p for p in self._procedures if p.pk == template_pk]
        if self._screen is not Screen.CHOOSE or not match:
            return
        self._s.template = match[0]
        self._s.message = None
        self._go(Screen.PLACE_CARD)
        self.poll_card()

    def back(self) -> None:
        s = self._s
        match self._screen:
            case Screen.CHOOSE:
                self._end("back")
            case Screen.PLACE_CARD | Screen.PIN | Screen.LAST_TRY | Screen.LOCKED | Screen.ERROR:
                s.pin.clear()
                s.message = None
                s.last_try_accepted = False
                self._go(Screen.CHOOSE)
            case Screen.QUESTION if self._earlier() and not s.back_to_review:
                s.current = self._earlier()[-1]
                s.question_problem, s.question_rule = None, ""
                self._emit()
            case Screen.QUESTION:
                s.question_problem, s.question_rule = None, ""
                target = Screen.REVIEW if s.back_to_review else Screen.CONFIRM
                s.back_to_review = False
                self._go(target)
            case Screen.REVIEW if self._asked():
                s.current = self._asked()[-1]
                self._go(Screen.QUESTION)
            case Screen.REVIEW:
                self._go(Screen.CONFIRM)
            case _:
                pass

    def _earlier(self) -> list[str]:
        asked = self._asked()
        return asked[: asked.index(self._s.current)] if self._s.current in asked else []

    def request_help(self) -> None:
        """「職員をよぶ」: shown on the staff screen; the resident's session goes on."""
        self._s.help_requested = True
        self._emit()

    # --- intents: card and PIN -------------------------------------------------------
    def poll_card(self) -> None:
        """Called periodically by the UI while the reader is watched (``watching_card``)."""
        if self._screen not in WATCH_CARD or self._card_poll_busy:
            return
        self._card_poll_busy = True

        def done(state: Any) -> None:
            self._card_poll_busy = False
            screen = self._screen
            if screen is Screen.PLACE_CARD and state.card_present:
                self._check_card()
            elif screen is Screen.PLACE_CARD and not state.reader_present:
                self._show_error_key("no_reader")
            elif screen is Screen.TAKE_CARD and not state.card_present:
                self._end("completed" if self._s.ticket else "cancelled")
            elif state.card_present:
                pass
            elif screen in AFTER_READ:
                self._end("card_removed")  # the resident left with the card: wipe at once
            elif screen in (Screen.PIN, Screen.LAST_TRY):
                self._s.pin.clear()
                self._s.message = Message("removed")
                self._go(Screen.PLACE_CARD)
            elif screen is Screen.LOCKED:
                self._end("card_removed")

        def failed(exc: BaseException) -> None:
            self._card_poll_busy = False
            self._show_error(exc)

        self._run("card", self._reader.state, done, failed)

    def _show_error_key(self, key: str) -> None:
        self._s.message = Message(key)
        self._go(Screen.ERROR)

    def _check_card(self) -> None:
        self._go(Screen.CHECKING_CARD)
        self._run("card", self._reader.pin_tries_left, self._on_tries, self._on_card_error)

    def _on_tries(self, tries: int) -> None:
        self._s.tries_left = tries
        self._s.last_try_accepted = False  # a (possibly other) card: confirm again
        if tries <= 0:
            self._go(Screen.LOCKED)
        elif tries == 1:
            self._go(Screen.LAST_TRY)
        else:
            self._go(Screen.PIN)

    def _on_card_error(self, exc: BaseException) -> None:
        s = self._s
        s.pin.clear()
        if isinstance(exc, WrongPin) and exc.tries_left == 0:
            s.tries_left = 0
            self._go(Screen.LOCKED)  # this wrong PIN used the last try
        elif isinstance(exc, WrongPin):
            s.tries_left = exc.tries_left
            s.last_try_accepted = False
            s.message = Message("wrong_pin", (("n", exc.tries_left),))
            self._go(Screen.LAST_TRY if exc.tries_left == 1 else Screen.PIN)
        elif isinstance(exc, PinLocked):
            s.tries_left = 0
            self._go(Screen.LOCKED)
        elif isinstance(exc, LastTryNotConfirmed):  # one try left on this card: warn first
            s.tries_left = 1
            s.last_try_accepted = False
            self._go(Screen.LAST_TRY)
        elif isinstance(exc, CardRemoved):
            # "a try may have been used" only when the PIN had been sent (PIN-04)
            s.last_try_accepted = False
            s.message = Message(exc.message_key)
            self._go(Screen.PLACE_CARD)
        elif isinstance(exc, NoCard):
            s.last_try_accepted = False
            s.message = Message("removed")
            self._go(Screen.PLACE_CARD)
        else:
            self._show_error(exc)

    def retry_card(self) -> None:
        """「カードを置き直す」 after an error: wait for the card again."""
        if self._screen is not Screen.ERROR:
            return
        if self._s.template is None:  # nothing chosen yet: start over
            self._end("error")
            return
        self._s.message = None
        self._go(Screen.PLACE_CARD)
        self.poll_card()

    def accept_last_try(self) -> None:
        if self._screen is Screen.LAST_TRY:
            self._s.last_try_accepted = True
            self._go(Screen.PIN)

    def pin_digit(self, digit: str) -> None:
        if (
            self._screen is Screen.PIN
            and digit.isdigit()
            and len(digit) == 1
            and (len(self._s.pin) < PIN_LENGTH)
        ):
            self._s.pin.append(digit)
            self._emit()

    def pin_delete(self) -> None:
        if self._screen is Screen.PIN and self._s.pin:
            self._s.pin.pop()
            self._emit()

    def pin_submit(self) -> None:
        """Exactly one VERIFY per confirmation; never retried automatically."""
        s = self._s
        if self._screen is not Screen.PIN or len(s.pin) != PIN_LENGTH or s.template is None:
            return
        pin = "".join(s.pin)
        s.pin.clear()  # the digits live only until the command is handed to the reader
        s.message = None
        # the reader reads the remaining tries in the same connection right before the
        # VERIFY, so a swapped or meanwhile-locked card is caught there
        read = partial(
            self._reader.read,
            pin,
            include_my_number=s.template.template.needs_my_number,
            # the confirmation holds only for the card that showed one try left
            allow_last_try=s.last_try_accepted and s.tries_left == 1,
        )
        self._go(Screen.READING)
        self._run("card", read, self._on_card_read, self._on_card_error)

    def _on_card_read(self, card: CardData) -> None:
        s = self._s
        assert s.template is not None
        template = s.template.template
        s.card = card
        sources = {
            Source.CARD_NAME: card.name,
            Source.CARD_ADDRESS: card.address,
            Source.CARD_BIRTH_DATE: card.birth_date,
            Source.CARD_SEX: card.sex,
            Source.SESSION_TODAY: today(self._clock).strftime("%Y%m%d"),
        }
        if card.my_number is not None and template.needs_my_number:
            sources[Source.CARD_MY_NUMBER] = card.my_number
        day = today(self._clock)
        s.values = prefill(template, sources)
        for fid, value in computed_defaults(template, day).items():  # e.g. the newest 年度
            s.values[fid] = FilledValue(value, Provenance.RESIDENT)
        for fid, value in computed_values(template, self._plain(), day).items():
            s.values[fid] = FilledValue(value, Provenance.SYSTEM)
        s.questions = resident_questions(template)
        s.current, s.answered = "", set()
        values, pk, language = dict(s.values), s.template.pk, s.language
        self._run(
            "db",
            lambda: self._apps.create_draft(pk, language, values),
            self._on_draft,
            self._show_error,
        )

    def _on_draft(self, draft_id: int) -> None:
        self._s.draft_id = draft_id
        self._go(Screen.CONFIRM)

    # --- intents: form ---------------------------------------------------------------
    def confirm(self) -> None:
        if self._screen is Screen.CONFIRM:
            asked = self._asked()
            if asked:
                self._s.current = asked[0]
            self._go(Screen.QUESTION if asked else Screen.REVIEW)

    def answer(self, value: str) -> None:
        s = self._s
        if self._screen is not Screen.QUESTION or s.template is None or not s.current:
            return
        template = s.template.template
        f = template.field(s.current)
        value = value.strip()
        after = {**self._plain(), f.id: value}
        problem = check_field(f, value, required=is_required(f, after))
        if problem is not None:
            s.question_problem, s.question_rule = Message(problem.message_key, problem.params), ""
            self._emit()
            return
        # a rule this answer breaks (代理人 without 委任状) is said here, in plain words;
        # rules that also need later answers wait for the review
        settled = s.answered | {f.id} | (set(after) - set(s.questions))
        broken = rule_against_answer(template, after, f.id, settled)
        if broken is not None:
            s.question_problem, s.question_rule = None, pick(broken.message, s.language)
            self._emit()
            return
        s.question_problem, s.question_rule = None, ""
        s.values[f.id] = FilledValue(value, Provenance.RESIDENT)
        s.answered.add(f.id)
        asked = self._asked()
        if s.back_to_review:  # an edit may open questions never answered (委任状 for a proxy)
            upcoming = [q for q in asked if q not in s.answered]
        else:
            upcoming = asked[asked.index(f.id) + 1 :] if f.id in asked else []
        if upcoming:
            s.current = upcoming[0]
            self._emit()
        else:
            s.back_to_review = False
            self._go(Screen.REVIEW)

    def edit(self, field_id: str) -> None:
        """「修正する」 on the review page: answer that one question again."""
        s = self._s
        if self._screen is Screen.REVIEW and field_id in self._asked():
            s.current = field_id
            s.back_to_review = True
            self._go(Screen.QUESTION)

    def submit(self) -> None:
        s = self._s
        if self._screen is not Screen.REVIEW or s.draft_id is None or s.template is None:
            return
        if self.view().blockers:  # the page disables 「申請する」; this is the backstop
            return
        template = s.template.template
        draft_id, values = s.draft_id, settle(template, s.values, today(self._clock))
        self._go(Screen.SUBMITTING)
        self._run(
            "db",
            lambda: self._apps.submit(draft_id, values),
            self._on_submitted,
            self._on_submit_failed,
        )

    def _on_submitted(self, result: tuple[str, int]) -> None:
        self._s.ticket, self._s.fee_total = result
        self._s.draft_id = None
        self._go(Screen.SUBMITTED)

    def _on_submit_failed(self, exc: BaseException) -> None:
        key, params = message_of(exc)
        self._s.message = Message(key, tuple(params.items()))
        self._go(Screen.REVIEW)

    def finish(self) -> None:
        """After the ticket: ask for the card back (the session ends when it is removed)."""
        if self._screen is Screen.SUBMITTED:
            self._go(Screen.TAKE_CARD)
            self.poll_card()

    # --- ending ----------------------------------------------------------------------
    def cancel(self) -> None:
        """「やめる」: drop everything; ask for the card back if it was read."""
        if self._screen in (Screen.START, Screen.CHOOSE, Screen.PLACE_CARD):
            self._end("cancelled")
            return
        self._abandon_draft("cancelled")
        self._new_session(language=self._s.language)
        self._go(Screen.TAKE_CARD)
        self.poll_card()

    def tick(self) -> None:
        """Called about once a second by the UI: idle warning and reset, hung devices."""
        if self._screen in BUSY and self._busy_since is not None:
            if self._clock.monotonic() - self._busy_since > BUSY_DEADLINE_S:
                log.error("resident flow: %s took too long", self._screen.value)
                self._abandon_draft("timeout")
                self._new_session(language=self._s.language)
                self._s.message = Message("device_timeout")
                self._go(Screen.ERROR)
            return
        if self._screen not in TIMED:
            return
        idle = self.idle_seconds
        if idle >= self._idle_reset_s:
            self._end("timeout")
        elif idle >= self._idle_warning_s:
            self._emit()  # the countdown changed

    def _abandon_draft(self, reason: str) -> None:
        draft_id = self._s.draft_id
        if draft_id is not None:
            self._s.draft_id = None
            self._runner.submit(
                "db",
                lambda: self._apps.abandon_draft(draft_id, reason),
                lambda _r: None,
                lambda exc: log.error("could not abandon draft", exc_info=exc),
            )

    def _new_session(self, language: str = "ja") -> None:
        """Drop every trace of the resident; late device or database answers are ignored."""
        self._s.pin.clear()
        self._generation += 1
        self._s = _Session(generation=self._generation, language=language)
        self._card_poll_busy = False

    def close(self) -> None:
        """The app is shutting down: drop the resident's draft now, on this thread."""
        draft_id = self._s.draft_id
        self._new_session()
        if draft_id is not None:
            try:
                self._apps.abandon_draft(draft_id, "shutdown")
            except Exception:
                log.exception("could not abandon the draft at shutdown")

    def _end(self, reason: str) -> None:
        self._abandon_draft(reason)
        self._new_session()
        self.ended.append(reason)
        log.info("resident session ended: %s", reason)
        self._go(Screen.START)


def settled_plain(template: Template, values: dict[str, FilledValue], day: date) -> dict[str, str]:
    """The values as they would be submitted: what applies, with computed fields fresh."""
    return {k: v.value for k, v in settle(template, values, day).items()}
