"""The giving page (``/portal/giving``): what gifts through the tenant's pages came to, and its match pledge."""
