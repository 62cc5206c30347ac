"""The platform core: app factory, tenancy, translation, global roll-up and the global HeForShe page."""
