"""Gifts to UN Women made through a tenant's pages, and the match a tenant may pledge beside its count.

Stripe lives in ``billing/giving``: it records here what a confirmed payment says. What is kept of a donor is a
keyed hash of their address (to count donors, never to name them); a tenant's total is shown only once at least
its k donors gave, like every other figure of people.
"""


def init_app(app):
    """Let every page ask what to show of a tenant's gifts and match (``giving_summary()``) and write amounts in
    the reader's language (``money``)."""
    from tenants.giving import services

    app.add_template_global(services.summary, "giving_summary")
    app.add_template_filter(services.money, "money")
    app.add_template_filter(services.amounts, "amounts")
