"""The platform core: app factory, tenancy, translation, the roll-up (``core/rollup``) and the global HeForShe page.

It sits below every other package and imports none of them, but for the app factory (``core/app.py``), the one
composition root; what a tenant's host serves on core's routes is handed in through ``core/site.py``.
"""
