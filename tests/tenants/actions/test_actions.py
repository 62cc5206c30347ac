"""From commitment to action: the pillar, the plan on the thank-you page, the "Did you do it?" mail, the counts of
those who acted, and stories."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select, update

from core.rollup import steps
from core.rollup.models import Gender
from core.rollup.recount import recount
from core.rollup.release import release
from core.tenancy import tenant_context
from tenants.actions import catalogue, services
from tenants.actions.models import PlannedAction, Reminder, Story, StoryStatus
from tenants.kits import services as kits
from tenants.models import Commitment, Role, Target, TargetMetric, Unit
from tenants.services import signups
from tests.helpers import csrf_token, host, sign_up


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", "Acme Corporation")


def plan_buttons(page: str) -> list[str]:
    return re.findall(r'name="action" value="([^"]+)"', page)


def test_the_form_asks_the_pillar_where_the_tenant_wants_it(client, db, make_tenant):
    acme = make_tenant("acme")
    assert 'name="pillar"' in client.get("/", base_url=host("acme")).get_data(as_text=True)
    with tenant_context(acme):
        services.configure(db.session.merge(acme), ask_pillar=False, reminder_days=14)
        db.session.commit()
    assert 'name="pillar"' not in client.get("/", base_url=host("acme")).get_data(as_text=True)


def test_a_commitment_keeps_its_pillar_and_the_thank_you_page_offers_three_actions_for_it(client, db, acme):
    response = sign_up(client, "acme", pillar="violence")
    assert response.status_code == 303
    thanks = client.get("/thanks", base_url=host("acme"))
    assert thanks.headers["Cache-Control"] == "no-store"
    offered = plan_buttons(thanks.get_data(as_text=True))
    assert offered == [a.key for a in catalogue.offered("corporation", "violence")]
    assert len(offered) == 3 and {catalogue.find(key).pillar for key in offered} == {"violence"}
    assert "vio-policy" in offered and "vio-campus" not in offered  # for organisations, not for campuses
    with tenant_context(acme):
        assert db.session.scalar(select(Commitment.pillar)) == "violence"


def test_ill_do_this_records_the_action_once_on_the_new_commitment(client, db, acme):
    sign_up(client, "acme", pillar="economic")
    page = client.get("/thanks", base_url=host("acme")).get_data(as_text=True)
    key = plan_buttons(page)[0]
    for _ in range(2):
        response = client.post("/actions/plan", base_url=host("acme"), data={"csrf_token": csrf_token(page),
                                                                            "action": key})
        assert response.status_code == 303
    again = client.get("/thanks", base_url=host("acme"))
    assert again.headers["Cache-Control"] == "no-store"
    assert "In your plan" in again.get_data(as_text=True) and key not in plan_buttons(again.get_data(as_text=True))
    with tenant_context(acme):
        assert db.session.scalars(select(PlannedAction.action)).all() == [key]


def test_each_ill_do_this_button_names_its_action_to_a_screen_reader(client, db, acme):
    sign_up(client, "acme", pillar="economic")
    page = unescape(client.get("/thanks", base_url=host("acme")).get_data(as_text=True))
    named = re.findall(r"<button[^>]*>I'll do this<span class=\"visually-hidden\">: ([^<]+)</span></button>", page)
    assert named == [str(action.text) for action in catalogue.offered("corporation", "economic")]


def test_an_action_not_offered_or_no_plan_is_refused(client, db, acme):
    page = client.get("/", base_url=host("acme")).get_data(as_text=True)
    assert client.post("/actions/plan", base_url=host("acme"), data={
        "csrf_token": csrf_token(page), "action": "econ-mentor"}).status_code == 400  # no commitment made here
    sign_up(client, "acme", pillar="economic")
    for key in ("peace-home", "nonsense", ""):
        assert client.post("/actions/plan", base_url=host("acme"), data={
            "csrf_token": csrf_token(page), "action": key}).status_code == 400
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(PlannedAction.id))) == 0


def test_a_repeat_by_the_public_form_plans_in_the_session_only(app, client, db, acme):
    sign_up(client, "acme", email="sam@example.org", pillar="economic")
    stranger = app.test_client()
    sign_up(stranger, "acme", email="sam@example.org", pillar="economic", reminders="y")
    page = stranger.get("/thanks", base_url=host("acme")).get_data(as_text=True)
    key = plan_buttons(page)[0]
    stranger.post("/actions/plan", base_url=host("acme"), data={"csrf_token": csrf_token(page), "action": key})
    assert "In your plan" in stranger.get("/thanks", base_url=host("acme")).get_data(as_text=True)
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(PlannedAction.id))) == 0
        assert db.session.scalar(select(func.count(Reminder.id))) == 0


def test_the_movement_offers_actions_for_individuals(client, movement):
    sign_up(client, None, path="/commit", pillar="economic")
    offered = plan_buttons(client.get("/thanks", base_url=host()).get_data(as_text=True))
    assert offered[0] == "econ-buy"  # for individuals before the ones for everyone


def test_an_actions_kit_is_linked_once_it_is_published(client, db, acme):
    sign_up(client, "acme", pillar="leadership")
    assert "/kits/" not in client.get("/thanks", base_url=host("acme")).get_data(as_text=True)

    kits.load_starter()
    db.session.commit()
    page = client.get("/thanks", base_url=host("acme")).get_data(as_text=True)
    assert 'href="/kits/balanced-panels"' in page
    assert client.get("/kits/balanced-panels", base_url=host("acme")).status_code == 200


def test_pillars_and_those_who_acted_are_released_under_k(client, db, make_tenant, make_unit, sign_in_as):
    acme = make_tenant("acme", privacy_k=5)
    paris = make_unit(acme, "Paris office")
    made = []
    for n in range(12):
        pillar = "economic" if n < 8 else ("peace" if n < 10 else "violence")  # eight, then two and two
        signup = signups.SignUp(email=f"p{n}@example.org", gender=Gender.MAN, country_code="FR", language="en",
                                consent_version="1", pillar=pillar, unit_id=paris.id)
        with tenant_context(acme):
            signups.commit(signup)
            made.append(services.own_commitment_id(signup.email))
            services.plan_action(made[-1], "econ-mentor")
            db.session.commit()
    with tenant_context(acme):
        db.session.add_all([Target(metric=TargetMetric.MEN, value=20, deadline=date.today() + timedelta(days=90)),
                            Target(metric=TargetMetric.ALL, value=20, deadline=date.today() + timedelta(days=60),
                                   unit_id=paris.id)])
        for commitment_id in made[:4]:
            services.mark_done(commitment_id)
        db.session.commit()
        counts = steps.tenant_counts(("pillar", "acted"), 5)
        assert release(counts.dimension("pillar"), 5).cells_json() == {"economic": {"total": 8, "men": 8}}
        assert release(counts.dimension("acted"), 5).cells == {}  # four acted: fewer than k
    sign_in_as(acme, Role.ADMIN, client=client)
    under_k = "Fewer than 5 people have said they did an action they planned: the number appears here once"
    for path in ("/portal/targets", "/portal/dashboard"):
        page = client.get(path, base_url=host("acme")).get_data(as_text=True)
        assert under_k in page and "4 people did" not in page, path
    with tenant_context(acme):
        for commitment_id in made[4:9]:
            services.mark_done(commitment_id)
        db.session.commit()
        counts = steps.tenant_counts(("pillar", "acted"), 5)  # five more acted: a new step
        assert release(counts.dimension("acted"), 5).cells_json() == {"all": {"total": 9, "men": 9}}
        assert recount() == []  # the running counts are what the commitments say
        db.session.execute(update(Unit).values(latitude=48.86, longitude=2.35))
        db.session.commit()
    marker, = client.get("/map.json", base_url=host("acme")).get_json()["markers"]
    assert (marker["total"], marker["acted"]) == (12, 9)  # the actions layer of the map
    trackers = client.get("/portal/targets", base_url=host("acme")).get_data(as_text=True)
    in_paris, overall = re.findall(r'<article class="panel target-tracker".*?</article>', trackers, re.S)  # by deadline
    assert "12 of 20 men" in overall and "9 people did an action they planned." in overall
    assert "12 of 20 commitments" in in_paris and "9 people did an action they planned." in in_paris
    assert under_k not in trackers
    dashboard = client.get("/portal/dashboard", base_url=host("acme")).get_data(as_text=True)
    assert "9 people did an action they planned." in dashboard
    assert "Economic empowerment" in dashboard and "Peace and security" not in dashboard  # 2: held back
    assert "75%" in dashboard  # Paris office: 9 of its 12 acted
    stats = client.get("/stats.json", base_url=host("acme")).get_json()
    assert stats["by_pillar"] == {"economic": {"total": 8, "men": 8}}
    assert stats["acted"]["people"] == 9 and stats["acted"]["by_unit"] == {str(paris.id): {"total": 9, "men": 9}}


def _reminder_mail(smtp_server, address):
    message = smtp_server.last_to(address)
    return message, unescape(smtp_server.link(message))


def test_did_you_do_it_records_on_a_button_press_once_and_unsubscribing_stops_the_next(
        app, client, db, acme, smtp_server):
    sign_up(client, "acme", email="sam@example.org", pillar="economic", reminders="y")
    page = client.get("/thanks", base_url=host("acme")).get_data(as_text=True)
    key = plan_buttons(page)[0]
    client.post("/actions/plan", base_url=host("acme"), data={"csrf_token": csrf_token(page), "action": key})
    smtp_server.messages.clear()
    with app.app_context():
        assert services.send_due() == 0  # not due for 14 days
        assert services.send_due(at=services.now() + timedelta(days=14, minutes=1)) == 1
        assert services.send_due(at=services.now() + timedelta(days=14, minutes=2)) == 0  # asked once
    message, link = _reminder_mail(smtp_server, "sam@example.org")
    assert "Did you do it?" in message["Subject"]
    assert str(catalogue.find(key).text) in message.get_content()
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    scanner = app.test_client()
    scanned = scanner.get(link)  # a mail filter opens the link: nothing is recorded
    assert scanned.status_code == 200 and "Yes, done" in scanned.get_data(as_text=True)
    with tenant_context(acme):
        assert db.session.scalar(select(Reminder.answered)) == 0
    # "Not yet", pressed twice (a double click): one answer, and one more mail to come.
    shown = client.get(link).get_data(as_text=True)
    for expected in (303, 410):
        response = client.post(link, data={"csrf_token": csrf_token(shown), "answer": "not_yet"})
        assert response.status_code == expected
    with tenant_context(acme):
        reminder = db.session.scalars(select(Reminder)).one()
        assert (reminder.answered, reminder.last_answer) == (1, "not_yet") and reminder.due_at is not None
    # One click in the mail program: a POST with the RFC 8058 body, no page and no cookie.
    assert app.test_client().post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with app.app_context():
        assert services.send_due(at=services.now() + timedelta(days=40)) == 0
    assert [m["Subject"] for m in smtp_server.delivered()].count(message["Subject"]) == 1


def test_yes_done_counts_the_person_among_those_who_acted(app, client, db, acme, smtp_server):
    sign_up(client, "acme", email="sam@example.org", pillar="economic", reminders="y")
    page = client.get("/thanks", base_url=host("acme")).get_data(as_text=True)
    client.post("/actions/plan", base_url=host("acme"), data={"csrf_token": csrf_token(page),
                                                             "action": plan_buttons(page)[0]})
    with app.app_context():
        services.send_due(at=services.now() + timedelta(days=15))
    _, link = _reminder_mail(smtp_server, "sam@example.org")
    shown = client.get(link).get_data(as_text=True)
    assert client.post(link, data={"csrf_token": csrf_token(shown), "answer": "done"}).status_code == 303
    with tenant_context(acme):
        assert db.session.scalar(select(Commitment.acted_at)) is not None
        assert db.session.scalar(select(PlannedAction.done_at)) is not None
        assert recount() == []
    assert client.post(link, data={"csrf_token": csrf_token(shown), "answer": "done"}).status_code == 410


def test_withdrawing_stops_the_reminder(app, client, db, acme, smtp_server, sign_in_as):
    sign_up(client, "acme", email="sam@example.org", pillar="economic", reminders="y")
    page = client.get("/thanks", base_url=host("acme")).get_data(as_text=True)
    client.post("/actions/plan", base_url=host("acme"), data={"csrf_token": csrf_token(page),
                                                             "action": plan_buttons(page)[0]})
    with app.app_context():
        services.send_due(at=services.now() + timedelta(days=15))  # queued, not yet sent
    with tenant_context(acme):
        signups.withdraw(db.session.scalars(select(Commitment)).one())
        db.session.commit()
    smtp_server.messages.clear()
    assert smtp_server.delivered() == []


def test_no_reminder_without_the_checkbox_or_under_age(app, client, db, movement):
    sign_up(client, None, path="/commit", pillar="economic", old_enough="no", asked_age="16", reminders="y")
    with tenant_context(movement):
        assert db.session.scalar(select(func.count(Reminder.id))) == 0


def test_a_story_waits_for_an_admin_and_a_report_sends_it_back(app, client, db, acme, sign_in_as):
    signed_in = app.test_client()
    sign_in_as(acme, Role.MEMBER, email="sam@example.org", client=signed_in)
    sign_up(signed_in, "acme", email="sam@example.org", pillar="economic")
    me = signed_in.get("/me", base_url=host("acme")).get_data(as_text=True)
    assert "Tell your story" in me
    refused = signed_in.post("/me/story", base_url=host("acme"), data={"csrf_token": csrf_token(me),
                                                                        "text": "x" * 1001})
    assert refused.status_code == 400 and "1,000 characters" in refused.get_data(as_text=True)
    assert signed_in.post("/me/story", base_url=host("acme"), data={
        "csrf_token": csrf_token(me), "text": "I asked how pay is set\x07"}).status_code == 400
    story = "I asked my manager how pay is set in our team."
    assert signed_in.post("/me/story", base_url=host("acme"), data={"csrf_token": csrf_token(me),
                                                                     "text": story}).status_code == 303
    assert story not in client.get("/stories", base_url=host("acme")).get_data(as_text=True)
    sign_in_as(acme, Role.ADMIN, client=client)
    queue = client.get("/portal/actions", base_url=host("acme")).get_data(as_text=True)
    assert story in queue
    with tenant_context(acme):
        story_id = db.session.scalar(select(Story.id))
    assert client.post(f"/portal/actions/stories/{story_id}/publish", base_url=host("acme"),
                       data={"csrf_token": csrf_token(queue)}).status_code == 303
    visitor = app.test_client()
    stories = visitor.get("/stories", base_url=host("acme")).get_data(as_text=True)
    assert story in stories and "sam@example.org" not in stories
    assert re.search(rf'<blockquote id="story-{story_id}"[^>]*><p>{story}</p>', stories), "the report button's"
    assert f'aria-describedby="story-{story_id}">Report this story</button>' in stories
    assert visitor.post(f"/stories/{story_id}/report", base_url=host("acme"),
                        data={"csrf_token": csrf_token(stories)}).status_code == 303
    assert story not in visitor.get("/stories", base_url=host("acme")).get_data(as_text=True)
    with tenant_context(acme):
        assert db.session.scalar(select(Story.status)) is StoryStatus.PENDING
    assert "Reported on" in client.get("/portal/actions", base_url=host("acme")).get_data(as_text=True)


def test_a_published_story_leaves_the_stories_page_when_its_commitment_stops_counting(client, db, acme):
    sign_up(client, "acme", email="sam@example.org", pillar="economic")
    story = "I asked my manager how pay is set in our team."
    with tenant_context(acme):
        commitment = db.session.scalars(select(Commitment)).one()
        services.decide(services.submit_story(commitment.id, story, "en"), True, "admin@acme.example")
        db.session.commit()
    assert story in client.get("/stories", base_url=host("acme")).get_data(as_text=True)
    with tenant_context(acme):
        signups.withdraw(db.session.scalars(select(Commitment)).one())
        db.session.commit()
    assert story not in client.get("/stories", base_url=host("acme")).get_data(as_text=True), "withdrawn"


def test_admins_set_the_pillar_question_and_the_reminders_days(client, db, make_tenant, sign_in_as):
    acme = make_tenant("acme")
    sign_in_as(acme, Role.ADMIN, client=client)
    page = client.get("/portal/actions", base_url=host("acme")).get_data(as_text=True)
    refused = client.post("/portal/actions/settings", base_url=host("acme"),
                          data={"csrf_token": csrf_token(page), "reminder_days": "0"})
    assert refused.status_code == 400 and "from 1 to 365" in refused.get_data(as_text=True)
    assert client.post("/portal/actions/settings", base_url=host("acme"),
                       data={"csrf_token": csrf_token(page), "reminder_days": "21"}).status_code == 303
    assert 'name="pillar"' not in client.get("/", base_url=host("acme")).get_data(as_text=True)
    audit = client.get("/portal/audit", base_url=host("acme")).get_data(as_text=True)
    assert "changed the settings of the actions" in audit
    db.session.expire_all()  # the test's own session read the tenant before the change
    with tenant_context(acme):
        assert (acme.ask_pillar, acme.reminder_days) == (False, 21)
        signups.commit(signups.SignUp(email="sam@example.org", gender=Gender.MAN, country_code="FR", language="en",
                                      consent_version="1"))
        commitment_id = services.own_commitment_id("sam@example.org")
        reminder = services.ask_for_reminder(commitment_id, "en")
        assert timedelta(days=20) < reminder.due_at.replace(tzinfo=None) - services.now().replace(tzinfo=None) \
            <= timedelta(days=21)
