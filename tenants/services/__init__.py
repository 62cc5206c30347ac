"""Business logic inside a tenant, one module per concern.

- ``registry``: what a tenant may be called and coloured, creating and configuring one, the operator's overview.
- ``hosts``: custom domains, which site a Host header names (and the cache of that answer), a tenant's address.
- ``members``: the one form an address is compared in, and the member behind an address.
- ``signups``: committing, withdrawing and committing again, with the counts they move.
- ``places``: the city a person gives, matched to a known place.
- ``public``: what a tenant's public pages read: units to pick, own wording, the published target.

Plain functions over domain objects. They flush and never commit: the request (or the command) that calls them owns
the transaction.
"""
