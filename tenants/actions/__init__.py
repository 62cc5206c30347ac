"""From commitment to action: the actions a person plans on the thank-you page and does (``catalogue``,
``services``), the "Did you do it?" mail they may ask for, and their stories."""


def init_app(app) -> None:
    """The public pages; the worker sends the reminders that are due, and makes each mail just before it goes."""
    from core import mail, worker
    from tenants.actions import services, views

    app.register_blueprint(views.bp)
    worker.register("action reminders", services.send_due)
    mail.register_composer(services.REMINDER_JOB, services.compose)
