"""The tenant admins' portal: branding, units, targets, members, exports (built on the tenants package)."""
