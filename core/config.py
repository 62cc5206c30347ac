"""Configuration from the environment, with safe defaults for the embedded (SQLite) run."""

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def data_directory(name: str) -> Path:
    """The app's data folder ``name`` (``migrations``, ``translations``): at the top of the repository when the app
    runs from a checkout (pyproject.toml beside core/), else inside the installed core package, where the wheel
    carries it (setup.py)."""
    if (ROOT / "pyproject.toml").is_file():
        return ROOT / name
    return ROOT / "core" / name


MIGRATIONS = data_directory("migrations")
TRANSLATIONS = data_directory("translations")
DEFAULT_SECRET = "dev-only-secret-change-me"


def _instance() -> Path:
    """The embedded run's folder (its SQLite database): instance/ of the checkout, whatever folder a command runs
    in; for an installed app, instance/ under the working directory."""
    return ROOT / "instance" if (ROOT / "pyproject.toml").is_file() else Path.cwd() / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict:
    """Read the settings the app understands from the process environment."""
    production = os.environ.get("APP_ENV", "development") == "production"
    database_url = os.environ.get("DATABASE_URL", f"sqlite:///{_instance() / 'heforshe.sqlite3'}")
    return {
        "PRODUCTION": production,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET),
        # The key of the keyed hash that recognises one person across tenants (``people``); see docs/operations.md
        # before changing it. Production refuses to start without one; the embedded run derives one from SECRET_KEY.
        "PEOPLE_PEPPER": os.environ.get("PEOPLE_PEPPER", ""),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Migrations run as the table owner; the app itself connects as a role without BYPASSRLS.
        "MIGRATION_DATABASE_URL": os.environ.get("MIGRATION_DATABASE_URL", database_url),
        "DATABASE_APP_ROLE": os.environ.get("DATABASE_APP_ROLE", ""),
        "BASE_DOMAIN": os.environ.get("BASE_DOMAIN", "localhost").lower().rstrip("."),
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        # Rate limits (sign-ups, the break-glass form, /me's sign-in links) are counted in Redis when there is one,
        # shared by all workers; else in each worker. If Redis fails, a limit is counted in the worker rather than
        # break the form (flask-limiter logs the failure once, and once more when Redis is back).
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        # Off only where something in front limits instead (or to measure what the limits cost: bench/); the
        # movement's public form stays closed while they are off (tenants/services/movement.py).
        "RATELIMIT_ENABLED": os.environ.get("RATELIMIT_ENABLED", "true").lower() != "false",
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # A Redis that stops answering holds a request a second at most before the worker counts on its own.
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        # Keeps apart the counters of deployments (staging, production) that share one Redis.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", ""),
        # Proxies in front that add X-Forwarded-For / -Proto (a TLS-terminating proxy: 1). Without it every
        # client has the proxy's address, and a per-address rate limit becomes one for the whole host.
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        # Break-glass sign-in attempts (POSTs) per client address and tenant host.
        "BREAK_GLASS_RATE_LIMIT": os.environ.get("BREAK_GLASS_RATE_LIMIT", "10 per minute"),
        # Sign-in links asked for at /me, per client address and tenant host: each may mail a member.
        "SIGN_IN_LINK_RATE_LIMIT": os.environ.get("SIGN_IN_LINK_RATE_LIMIT", "5 per minute"),
        # Attack mode's proof of work (ALTCHA, core/attack_mode.py). Challenges are signed with keys derived from
        # ALTCHA_HMAC_KEY, or from SECRET_KEY when it is not set. A browser tries about ALTCHA_MAX_NUMBER * 3/4
        # counters of ALTCHA_COST PBKDF2 rounds each (about a second on a phone); a challenge is good for
        # ALTCHA_EXPIRES_SECONDS, and each solution for one commitment.
        "ALTCHA_HMAC_KEY": os.environ.get("ALTCHA_HMAC_KEY", ""),
        "ALTCHA_MAX_NUMBER": int(os.environ.get("ALTCHA_MAX_NUMBER", "8000")),
        "ALTCHA_COST": int(os.environ.get("ALTCHA_COST", "1000")),
        "ALTCHA_EXPIRES_SECONDS": int(os.environ.get("ALTCHA_EXPIRES_SECONDS", "300")),
        # Presses of "Confirm my commitment" (the page a confirmation mail links to), per client address and host.
        "CONFIRMATION_RATE_LIMIT": os.environ.get("CONFIRMATION_RATE_LIMIT", "10 per minute"),
        # Sign-ups through the public form (valid submissions; see tenants/views.py). What an honest launch brings:
        # - per client network (IPv4 /24, IPv6 /56, across organisations): a whole office or campus behind one NAT
        #   address is the busiest honest network. A 1,000-person all-hands where everyone commits at once takes
        #   each person a minute or more to fill in the form, so it arrives well under 120 a minute, and the whole
        #   office commits within the hour's 1,500. A script from one network gets no further than that.
        "SIGNUP_RATE_LIMIT_NETWORK": os.environ.get("SIGNUP_RATE_LIMIT_NETWORK", "120 per minute; 1500 per hour"),
        # - per organisation, from everywhere: a ceiling on what a flood from many networks adds before anyone
        #   looks, far above a launch mail's rush (sent to 100,000 people, it brings a few hundred a minute).
        "SIGNUP_RATE_LIMIT_TENANT": os.environ.get("SIGNUP_RATE_LIMIT_TENANT", "1200 per minute"),
        # - per email domain at each organisation: an organisation's own domain at its launch is the busiest
        #   honest domain (a big one's staff usually come through single sign-on instead, which this does not
        #   count); a script's catch-all domain is held to it. Counted per organisation, so that nobody can shut
        #   a common domain (gmail.com) out of every organisation's page at once.
        "SIGNUP_RATE_LIMIT_DOMAIN": os.environ.get("SIGNUP_RATE_LIMIT_DOMAIN", "300 per minute; 5000 per hour"),
        # Returns from identity providers (sign-ins) per client network: an office signing in together.
        "SSO_CALLBACK_RATE_LIMIT": os.environ.get("SSO_CALLBACK_RATE_LIMIT", "300 per minute"),
        # A sign-up sent sooner than this after its form was shown is noted as suspect ("too_fast"): nobody
        # reads the page and fills in the form in two seconds; a browser's autofill and a script can.
        "SIGNUP_MIN_SECONDS": float(os.environ.get("SIGNUP_MIN_SECONDS", "2")),
        # Outgoing mail (invitations, sign-in links). No MAIL_SERVER: messages go to the app log instead.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "HeForShe <no-reply@localhost>"),
        # Who runs the worker (core/worker.py: mail, webhooks): "process" (`flask worker` runs apart: production
        # and `make run`) or "thread" (a thread of each web process served as wsgi:app).
        "WORKER": os.environ.get("WORKER", "process" if production else "thread"),
        "WORKER_POLL_SECONDS": float(os.environ.get("WORKER_POLL_SECONDS", "1")),
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS", "8")),
        "MAIL_RETRY_SECONDS": float(os.environ.get("MAIL_RETRY_SECONDS", "30")),
        # Webhooks (tenants/webhooks): a failed delivery is tried again after WEBHOOK_RETRY_SECONDS, doubled at each
        # try (at most an hour apart), for WEBHOOK_RETRY_HOURS after the event; a delivery in hand for longer than
        # WEBHOOK_LEASE_SECONDS is taken to belong to a worker that died, and is sent again (same webhook-id).
        "WEBHOOK_RETRY_SECONDS": float(os.environ.get("WEBHOOK_RETRY_SECONDS", "30")),
        "WEBHOOK_RETRY_HOURS": float(os.environ.get("WEBHOOK_RETRY_HOURS", "24")),
        "WEBHOOK_LEASE_SECONDS": float(os.environ.get("WEBHOOK_LEASE_SECONDS", "60")),
        # Failures in a row after which an endpoint is turned off and its tenant's admins are told.
        "WEBHOOK_MAX_FAILURES": int(os.environ.get("WEBHOOK_MAX_FAILURES", "20")),
        # How often the worker looks for targets reached (the target.reached webhook).
        "TARGET_CHECK_SECONDS": float(os.environ.get("TARGET_CHECK_SECONDS", "60")),
        # The Ed25519 private key (a PEM file) that signs the daily snapshots of the counts (core/snapshots/).
        # The embedded run makes one in instance/ the first time it is needed; production refuses to start without.
        "SNAPSHOT_SIGNING_KEY": os.environ.get(
            "SNAPSHOT_SIGNING_KEY", "" if production else str(_instance() / "snapshot-signing-key.pem")),
        # Who takes the daily snapshot: "thread" (a thread of each web process served as wsgi:app: the embedded
        # run) or "command" (`flask snapshots take` from a daily timer: production).
        "SNAPSHOT_TAKER": os.environ.get("SNAPSHOT_TAKER", "command" if production else "thread"),
        # Fernet keys for secrets at rest, newest first (see core/crypto.py for rotation).
        "ENCRYPTION_KEYS": os.environ.get("ENCRYPTION_KEYS", ""),
        # The operator console (/operator on the global host): the HeForShe team's own OpenID provider. Operators
        # sign in there by an address `flask operator add` listed (verified by the provider); without an issuer,
        # only their break-glass sign-in (password and TOTP code) is offered.
        "OPERATOR_OIDC_ISSUER": os.environ.get("OPERATOR_OIDC_ISSUER", ""),
        "OPERATOR_OIDC_CLIENT_ID": os.environ.get("OPERATOR_OIDC_CLIENT_ID", ""),
        "OPERATOR_OIDC_CLIENT_SECRET": os.environ.get("OPERATOR_OIDC_CLIENT_SECRET", ""),
        "OPERATOR_OIDC_SCOPES": os.environ.get("OPERATOR_OIDC_SCOPES", "openid email profile"),
        # Operators' break-glass tries (POSTs) per client address.
        "OPERATOR_SIGN_IN_RATE_LIMIT": os.environ.get("OPERATOR_SIGN_IN_RATE_LIMIT", "10 per minute"),
        # Applications to join (valid submissions) per client network, and the form's live subdomain checks.
        "APPLICATION_RATE_LIMIT": os.environ.get("APPLICATION_RATE_LIMIT", "5 per hour"),
        "SUBDOMAIN_CHECK_RATE_LIMIT": os.environ.get("SUBDOMAIN_CHECK_RATE_LIMIT", "60 per minute"),
        # Plans (tenants/plans.py): each plan's paid features, as JSON {"plan": ["feature", ...]}; "community" is free.
        "PLANS": json.loads(os.environ["PLANS"]) if os.environ.get("PLANS") else {
            "community": [],
            "partner": ["sso", "api", "course_registration", "personal_data_exports"],
            "enterprise": ["sso", "custom_domains", "api", "course_registration", "personal_data_exports",
                           "remove_powered_by"],
        },
        # Days a tenant whose payment failed keeps its paid features before they switch off (docs/billing.md).
        "BILLING_GRACE_DAYS": int(os.environ.get("BILLING_GRACE_DAYS", "14")),
        # Stripe (billing/): without a secret key the portal's billing page says billing is not configured. Each
        # paid plan's Stripe price, STRIPE_PRICE_<PLAN>; STRIPE_API_BASE points the client elsewhere (the tests').
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", ""),
        "STRIPE_PRICES": {name[len("STRIPE_PRICE_"):].lower(): value for name, value in os.environ.items()
                          if name.startswith("STRIPE_PRICE_") and value},
        # Seconds of clock difference tolerated between us and an identity provider.
        "SSO_CLOCK_SKEW_SECONDS": int(os.environ.get("SSO_CLOCK_SKEW_SECONDS", "120")),
        # How long counts are kept in each worker's memory (at most 1: a commitment shows within 2 seconds).
        "STATS_CACHE_SECONDS": float(os.environ.get("STATS_CACHE_SECONDS", "1")),
        # How long a page every anonymous visitor sees alike (the sign-up page) is kept rendered (core/page_cache.py;
        # at most 1; 0: rendered for each visit).
        "PAGE_CACHE_SECONDS": float(os.environ.get("PAGE_CACHE_SECONDS", "1")),
        "LIVE_INTERVAL_SECONDS": float(os.environ.get("LIVE_INTERVAL_SECONDS", "1")),
        "ROLLUP_SHARDS": int(os.environ.get("ROLLUP_SHARDS", "16")),
        # Requests in progress per worker past which new ones get 503 at once (0: no limit).
        "MAX_IN_FLIGHT": int(os.environ.get("MAX_IN_FLIGHT", "0")),
        # Requests served at once per worker; later ones wait their turn in arrival order (0: all at once).
        "MAX_SERVING": int(os.environ.get("MAX_SERVING", "0")),
        # The nameserver that checks custom domains' TXT records ("host" or "host:port"; empty: the system's).
        "DNS_NAMESERVER": os.environ.get("DNS_NAMESERVER", ""),
        # Whether requests to addresses that tenants' admins give (identity providers) may reach loopback, private
        # and link-local addresses: only where the identity providers run on this machine (the embedded run, tests).
        "OUTBOUND_ALLOW_PRIVATE": _bool("OUTBOUND_ALLOW_PRIVATE", not production),
        "PRIVACY_NOTICE_VERSION": os.environ.get("PRIVACY_NOTICE_VERSION", "2026-11"),
        # The version of the privacy notice's part on the "Did you do it?" mail, kept with each reminder asked for.
        "REMINDER_NOTICE_VERSION": os.environ.get("REMINDER_NOTICE_VERSION", "2026-12"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(64 * 1024))),
        # The Commitments API (/api/v1): each key's rate, and the largest body it takes (a commitment is < 1 KiB).
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "600 per minute; 20000 per hour"),
        "API_MAX_BODY_BYTES": int(os.environ.get("API_MAX_BODY_BYTES", str(16 * 1024))),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Host-only cookies: a session set on acme.example.org is never sent to another tenant's host.
        "SESSION_COOKIE_DOMAIN": False,
        "WTF_CSRF_TIME_LIMIT": 3600 * 8,
        "WTF_I18N_ENABLED": True,
        "BABEL_TRANSLATION_DIRECTORIES": str(TRANSLATIONS),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
