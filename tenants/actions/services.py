"""From commitment to action: the plan a person makes on the thank-you page, the actions they do, the one
"Did you do it?" mail they may ask for, and the stories they tell. Plain functions; they flush, never commit.

A plan made on the thank-you page is recorded on the commitment just made. A repeat by the public form (whose
address nobody proved) gets the same page, so that it tells nothing about the address, but its plan is kept in
that browser's session only: nobody adds to another person's commitment by typing their address.
"""

from __future__ import annotations

import enum
import threading
import uuid
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from flask import current_app, g, render_template, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from core import mail
from core.extensions import db
from core.rollup.models import Source
from core.tenancy import current_tenant_id, tenant_context
from tenants.actions import catalogue
from tenants.actions.models import PlannedAction, Reminder, Story, StoryStatus
from tenants.actions.vocabulary import audience_of
from tenants.models import Commitment, Member, Tenant, utcnow
from tenants.services import hosts, signups
from tenants.services.members import canonical_email

#: The thank-you page's plan in the session: the commitment it is recorded on (None: the session alone), its
#: pillar, and the actions planned.
PLAN = "action_plan"
REMINDER_JOB = "action_reminder"
#: A "Did you do it?" link works this long after its mail was made, and once.
LINK_LIFETIME = timedelta(days=30)
#: How many times a person is asked at most: once, and once more after a "Not yet".
MOST_ASKED = 2
STORY_LENGTH = 1000
#: Stories a person may have waiting in the queue at once.
WAITING_STORIES = 3
BATCH = 50


def now() -> datetime:
    return datetime.now(timezone.utc)


# --- The plan ---------------------------------------------------------------------------------------------------

def commitment_of_member(member_id: uuid.UUID) -> Commitment | None:
    return db.session.scalar(select(Commitment).where(Commitment.member_id == member_id))


def own_commitment_id(email: str) -> uuid.UUID | None:
    """The current tenant's commitment made with this address."""
    return db.session.scalar(select(Commitment.id).join(Member, Member.id == Commitment.member_id)
                             .where(Member.email_canonical == canonical_email(email)))


def after_commit(signup: signups.SignUp, new: bool, reminders: bool) -> None:
    """After a commitment through a form: start the thank-you page's plan, and note the reminder asked for.

    Only a new commitment (or one made again), or one made signed in, is the person's own to plan on; a repeat
    by the public form plans in the session alone and asks for no mail (see the module's doc)."""
    commitment_id = None
    if signup.email is not None and (new or signup.source is not Source.WEB):
        commitment_id = signup.commitment_id or own_commitment_id(signup.email)
    session[PLAN] = {"commitment": str(commitment_id) if commitment_id else None, "pillar": signup.pillar,
                     "planned": []}
    if reminders and new and commitment_id is not None:
        ask_for_reminder(commitment_id, signup.language)


def ask_for_reminder(commitment_id: uuid.UUID, language: str) -> Reminder:
    """The person asked for the "Did you do it?" mail, under the current reminders notice: due after the tenant's
    number of days (asked again after a withdrawal: the same row, afresh)."""
    days = db.session.get(Tenant, current_tenant_id()).reminder_days
    reminder = db.session.scalar(select(Reminder).where(Reminder.commitment_id == commitment_id))
    if reminder is None:
        reminder = Reminder(commitment_id=commitment_id, asked=0, answered=0)
        db.session.add(reminder)
    reminder.consent_version = current_app.config["REMINDER_NOTICE_VERSION"]
    reminder.language, reminder.created_at = language, now()
    reminder.due_at, reminder.asked, reminder.answered = now() + timedelta(days=days), 0, 0
    reminder.unsubscribed_at = reminder.last_answer = reminder.answered_at = None
    db.session.flush()
    return reminder


class Plan:
    """The thank-you page's plan: the actions offered, which of them are planned, and whether there is one."""

    def __init__(self, kept: dict, tenant: Tenant):
        self.commitment_id = uuid.UUID(kept["commitment"]) if kept.get("commitment") else None
        self.pillar = kept.get("pillar")
        self.offered = catalogue.offered(audience_of(tenant), self.pillar)
        recorded = set(db.session.scalars(select(PlannedAction.action).where(
            PlannedAction.commitment_id == self.commitment_id))) if self.commitment_id else set()
        self.planned = recorded | set(kept.get("planned", ()))


def thank_you_plan(tenant: Tenant) -> Plan | None:
    """The plan of the commitment this browser just made, or None (a reload long after, a shared link)."""
    kept = session.get(PLAN)
    return Plan(kept, tenant) if isinstance(kept, dict) else None


def plan_from_thank_you(key: str) -> bool:
    """"I'll do this" on the thank-you page: False when there is no plan here or the action is not offered."""
    kept = session.get(PLAN)
    if not isinstance(kept, dict):
        return False
    plan = Plan(kept, g.tenant)
    if key not in {action.key for action in plan.offered}:
        return False
    if plan.commitment_id is not None:
        plan_action(plan.commitment_id, key)
    session[PLAN] = {**kept, "planned": sorted(set(kept.get("planned", ())) | {key})}
    return True


def plan_action(commitment_id: uuid.UUID, key: str) -> PlannedAction:
    """Note that the person will do an action (once: planning it again changes nothing)."""
    planned = db.session.scalar(select(PlannedAction).where(PlannedAction.commitment_id == commitment_id,
                                                            PlannedAction.action == key))
    if planned is None:
        planned = PlannedAction(commitment_id=commitment_id, action=key)
        db.session.add(planned)
        db.session.flush()
    return planned


def actions_of(commitment_id: uuid.UUID) -> list[PlannedAction]:
    return list(db.session.scalars(select(PlannedAction).where(PlannedAction.commitment_id == commitment_id)
                                    .order_by(PlannedAction.planned_at, PlannedAction.action)))


def mark_done(commitment_id: uuid.UUID, keys: set[str] | None = None) -> int:
    """The person did the planned actions ``keys`` (None: all they planned); returns how many were new. The first
    one done counts them among those who acted."""
    statement = update(PlannedAction).where(PlannedAction.commitment_id == commitment_id,
                                            PlannedAction.done_at.is_(None))
    if keys is not None:
        statement = statement.where(PlannedAction.action.in_(sorted(keys)))
    done = db.session.execute(statement.values(done_at=utcnow()).execution_options(synchronize_session=False))
    if done.rowcount:
        signups.mark_acted(commitment_id)
    return done.rowcount


def configure(tenant: Tenant, ask_pillar: bool, reminder_days: int) -> None:
    """A tenant's settings of the actions (written as the tenant, as every setting)."""
    tenant.ask_pillar, tenant.reminder_days = ask_pillar, reminder_days
    db.session.flush()


# --- "Did you do it?" -------------------------------------------------------------------------------------------

class Unusable(enum.Enum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


class LinkUnusable(LookupError):
    def __init__(self, reason: Unusable):
        super().__init__(reason.value)
        self.reason = reason

    @property
    def status(self) -> int:
        return 404 if self.reason is Unusable.UNKNOWN else 410


def _answer_links() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="action-reminder")


def _unsubscribe_links() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="action-reminder-unsubscribe")


def answer_token(reminder: Reminder) -> str:
    """The token of the answer link of the mail ``reminder`` is sending now (its ``asked``-th)."""
    return _answer_links().dumps([str(reminder.id), reminder.asked])


def unsubscribe_token(reminder: Reminder) -> str:
    """The token of the reminder's unsubscribe link: it never expires, and works any number of times."""
    return _unsubscribe_links().dumps(str(reminder.id))


def _find(reminder_id) -> Reminder | None:
    try:
        return db.session.scalar(select(Reminder).where(Reminder.id == uuid.UUID(str(reminder_id))))
    except ValueError:
        return None


def usable_reminder(token: str) -> Reminder:
    """The current tenant's reminder whose mail this answer link came in; raises ``LinkUnusable`` when it is
    altered or another tenant's, has expired, or was answered (or its commitment withdrawn)."""
    try:
        reminder_id, asked = _answer_links().loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
    except SignatureExpired as expired:
        raise LinkUnusable(Unusable.EXPIRED) from expired
    except (BadSignature, ValueError, TypeError) as bad:
        raise LinkUnusable(Unusable.UNKNOWN) from bad
    reminder = _find(reminder_id)
    if reminder is None or not isinstance(asked, int):
        raise LinkUnusable(Unusable.UNKNOWN)
    commitment = db.session.get(Commitment, (reminder.tenant_id, reminder.commitment_id))
    if asked != reminder.asked or reminder.answered >= asked or commitment.withdrawn_at is not None:
        raise LinkUnusable(Unusable.USED)
    return reminder


def answer(token: str, done: bool) -> Reminder:
    """The button pressed on the page of an answer link: "Yes, done" marks every planned action done; "Not yet"
    asks once more after the tenant's days, unless asked twice already. The link is used up either way: the
    reminder's row is changed only where it still waits for this answer, so two presses record one."""
    reminder = usable_reminder(token)
    days = db.session.get(Tenant, reminder.tenant_id).reminder_days
    again = None if done or reminder.asked >= MOST_ASKED or reminder.unsubscribed_at else now() + timedelta(days=days)
    changed = db.session.execute(
        update(Reminder).where(Reminder.id == reminder.id, Reminder.answered < reminder.asked)
        .values(answered=reminder.asked, answered_at=now(), last_answer="done" if done else "not_yet", due_at=again)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise LinkUnusable(Unusable.USED)
    if done:
        mark_done(reminder.commitment_id)
    db.session.expire(reminder)
    return reminder


def _unsubscribing(token: str) -> Reminder | None:
    try:
        return _find(_unsubscribe_links().loads(token))
    except BadSignature:
        return None


def unsubscribe_is_known(token: str) -> bool:
    """Whether an unsubscribe link names a reminder of the current tenant."""
    return _unsubscribing(token) is not None


def unsubscribe(token: str) -> bool:
    """Stop the reminders this link names, at once; False for a link that names none here."""
    reminder = _unsubscribing(token)
    if reminder is None:
        return False
    if reminder.unsubscribed_at is None:
        reminder.unsubscribed_at, reminder.due_at = now(), None
        db.session.flush()
    return True


def send_due(stop: threading.Event | None = None, at: datetime | None = None) -> int:
    """The worker's task: queue the "Did you do it?" mail of every reminder that is due, tenant by tenant (each
    read in its own context); returns how many were queued. A reminder whose commitment no longer counts, or
    that has nothing planned left to do, is dropped. Commits after each tenant."""
    at = at or now()
    tenant_ids = list(db.session.scalars(select(Tenant.id)))
    db.session.rollback()
    queued = 0
    for tenant_id in tenant_ids:
        if stop is not None and stop.is_set():
            break
        with tenant_context(tenant_id):
            queued += _queue_due(tenant_id, at)
            db.session.commit()
    return queued


def _queue_due(tenant_id: int, at: datetime) -> int:
    due = db.session.execute(
        select(Reminder.id, Reminder.asked, Commitment.counted, Member.email)
        .join(Commitment, Commitment.id == Reminder.commitment_id)
        .join(Member, Member.id == Commitment.member_id)
        .where(Reminder.due_at <= at, Reminder.unsubscribed_at.is_(None)).limit(BATCH)).all()
    queued = 0
    for reminder_id, asked, counted, email in due:
        pending = db.session.scalar(select(func.count(PlannedAction.id)).join(
            Reminder, Reminder.commitment_id == PlannedAction.commitment_id).where(
            Reminder.id == reminder_id, PlannedAction.done_at.is_(None)))
        send = counted and pending > 0
        # Claimed by the number of mails it had: a second worker finds it changed and leaves it.
        claimed = db.session.execute(
            update(Reminder).where(Reminder.id == reminder_id, Reminder.asked == asked, Reminder.due_at <= at)
            .values(asked=asked + 1 if send else asked, due_at=None)
            .execution_options(synchronize_session=False)).rowcount
        if claimed and send:
            mail.queue_job(REMINDER_JOB, email, {"tenant_id": tenant_id, "reminder_id": str(reminder_id)})
            queued += 1
    return queued


def compose(job: dict) -> EmailMessage | None:
    """The mail worker's half of ``send_due``, made just before it is sent: nothing when the person has
    unsubscribed or withdrawn their commitment since."""
    tenant = db.session.get(Tenant, job["tenant_id"])
    if tenant is None:
        return None
    with hosts.on_site(tenant):
        reminder = _find(job["reminder_id"])
        if reminder is None or reminder.unsubscribed_at is not None or reminder.answered >= reminder.asked:
            return None
        commitment = db.session.get(Commitment, (tenant.id, reminder.commitment_id))
        if commitment is None or not commitment.counted or commitment.member is None:
            return None
        planned = [catalogue.find(p.action) for p in actions_of(commitment.id) if p.done_at is None]
        unsubscribe_link = url_for("actions.unsubscribe", unsubscribe_token=unsubscribe_token(reminder),
                                   _external=True)
        with force_locale(reminder.language):
            subject = _("Did you do it? Your HeForShe plan at %(name)s", name=tenant.name)
            body = render_template("actions/reminder_mail.txt", tenant=tenant, planned=[a for a in planned if a],
                                   link=url_for("actions.reminder", reminder_token=answer_token(reminder),
                                                _external=True),
                                   unsubscribe_link=unsubscribe_link, days=LINK_LIFETIME.days)
        message = mail.build(commitment.member.email, subject, body, sender_name=tenant.name)
        # RFC 2369 and RFC 8058: mail programs offer "unsubscribe", and one click posts to the link.
        message["List-Unsubscribe"] = f"<{unsubscribe_link}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return message


def reminder_of(commitment_id: uuid.UUID) -> Reminder | None:
    return db.session.scalar(select(Reminder).where(Reminder.commitment_id == commitment_id))


# --- Stories ----------------------------------------------------------------------------------------------------

class StoryRefused(ValueError):
    """Too many stories of this person wait in the queue already."""


def submit_story(commitment_id: uuid.UUID, text: str, language: str) -> Story:
    """A person's story, into the moderation queue (never shown before an admin approves it)."""
    waiting = db.session.scalar(select(func.count(Story.id)).where(Story.commitment_id == commitment_id,
                                                                  Story.status == StoryStatus.PENDING))
    if waiting >= WAITING_STORIES:
        raise StoryRefused()
    story = Story(commitment_id=commitment_id, text=text, language=language, status=StoryStatus.PENDING)
    db.session.add(story)
    db.session.flush()
    return story


def stories_of(commitment_id: uuid.UUID) -> list[Story]:
    return list(db.session.scalars(select(Story).where(Story.commitment_id == commitment_id)
                                   .order_by(Story.created_at.desc())))


def queue(limit: int = 100) -> list[Story]:
    """The current tenant's stories waiting for a decision, reported ones first, then the oldest."""
    return list(db.session.scalars(select(Story).where(Story.status == StoryStatus.PENDING)
                                   .order_by(Story.reported_at.is_(None), Story.created_at).limit(limit)))


def published(limit: int = 50) -> list[Story]:
    """The stories the tenant's page shows: published, of commitments that count (a story leaves with its
    commitment when it is withdrawn or found to be abuse, and comes back with it)."""
    return list(db.session.scalars(select(Story).join(Commitment, Commitment.id == Story.commitment_id)
                                   .where(Story.status == StoryStatus.PUBLISHED, Commitment.counted.is_(True))
                                   .order_by(Story.decided_at.desc()).limit(limit)))


def find_story(story_id: uuid.UUID) -> Story | None:
    return db.session.scalar(select(Story).where(Story.id == story_id))


def decide(story: Story, publish: bool, by: str) -> None:
    """An admin's (or, for the movement, an operator's) decision on a waiting story."""
    story.status = StoryStatus.PUBLISHED if publish else StoryStatus.REJECTED
    story.decided_at, story.decided_by, story.reported_at = now(), by[:320], None
    db.session.flush()


def report(story: Story) -> bool:
    """Anyone sends a published story back to the queue; False if it was not published."""
    if story.status is not StoryStatus.PUBLISHED:
        return False
    story.status, story.reported_at = StoryStatus.PENDING, now()
    db.session.flush()
    return True
