"""Bulk invalidation: the operator finds suspicious clusters of commitments and takes them out of the counts
(marked, never deleted), with a reason, and can undo it."""


def init_app(app) -> None:
    from tenants.invalidation import cli

    app.cli.add_command(cli.abuse_cli)
