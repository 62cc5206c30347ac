"""The tenant's dashboard and exports: totals, recent days, by unit (with participation), country and source."""
