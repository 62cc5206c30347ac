"""The operators read the stories of the movement (people who committed on their own, without admins)."""

from sqlalchemy import select

from core.rollup.models import Gender
from core.tenancy import tenant_context
from tenants.actions import services
from tenants.actions.models import Story, StoryStatus
from tenants.services import signups
from tests.helpers import host
from tests.operator_console.conftest import GLOBAL, post_from


def test_the_operator_publishes_a_movement_story(movement, signed_in_operator, client, db, make_tenant):
    acme = make_tenant("acme")
    for tenant, text in ((movement, "Hablé con mi equipo sobre el salario."), (acme, "An Acme story.")):
        with tenant_context(tenant):
            signups.commit(signups.SignUp(email="lee@example.org", gender=Gender.MAN, country_code="PE",
                                          language="es", consent_version="1"))
            services.submit_story(services.own_commitment_id("lee@example.org"), text, "es")
            db.session.commit()
    queue = signed_in_operator.get("/operator/stories", base_url=GLOBAL).get_data(as_text=True)
    assert "Hablé con mi equipo" in queue and "An Acme story" not in queue  # Acme's admins read Acme's
    with tenant_context(movement):
        story_id = db.session.scalar(select(Story.id))
    response = post_from(signed_in_operator, "/operator/stories", f"/operator/stories/{story_id}/publish")
    assert response.status_code == 303
    with tenant_context(movement):
        assert db.session.scalar(select(Story.status)) is StoryStatus.PUBLISHED
    assert "Hablé con mi equipo" in client.get("/stories", base_url=host()).get_data(as_text=True)
