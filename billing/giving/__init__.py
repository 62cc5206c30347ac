"""Give to UN Women: Stripe Checkout in payment mode (one-off) or subscription mode (monthly), from the global
page and every tenant's pages; gifts are recorded (``tenants.giving``) only when Stripe's webhook confirms them."""
