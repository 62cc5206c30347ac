"""Portal: the tenant's webhook endpoints, their delivery log and resending (admins only)."""
