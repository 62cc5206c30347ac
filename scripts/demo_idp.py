"""The demo's single sign-on: a local OpenID provider for Acme, so a newcomer can try "Sign in with Acme"; and the
worker (``flask worker``) beside the server.

``make run`` serves the app through it: ``demo_idp.py COMMAND...`` starts the provider (the one the tests use,
tests/idp/oidc_provider.mjs) on DEMO_IDP_PORT (default PORT + 1), connects Acme to it, prints the demo account,
then runs COMMAND (the server) with the worker beside it, and stops the provider and the worker when the server
ends: Ctrl-C ends them all. Without Node it says so and runs COMMAND and the worker, without single sign-on.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
ACCOUNT = {"username": "alex", "password": "heforshe-demo", "claims": {
    "sub": "demo-alex", "email": "alex@acme.example", "email_verified": True, "name": "Alex Demo",
    "groups": ["heforshe-admins"], "department": "Paris office"}}


def _start(port: int, site_port: int) -> tuple[subprocess.Popen, str]:
    site = f"http://acme.localhost:{site_port}"
    config = INSTANCE / "demo-idp.json"
    config.write_text(json.dumps({"issuer_port": port, "accounts": [ACCOUNT], "clients": [{
        "client_id": "acme-demo", "client_secret": "acme-demo-secret",
        "redirect_uris": [f"{site}/sso/oidc/callback"], "post_logout_redirect_uris": [f"{site}/"]}]}))
    out = INSTANCE / "demo-idp.out"
    with out.open("w") as stdout, (INSTANCE / "demo-idp.log").open("w") as stderr:
        # In the terminal's process group, as the server is: Ctrl-C reaches both.
        process = subprocess.Popen(["node", str(ROOT / "tests" / "idp" / "oidc_provider.mjs"), str(config)],
                                   cwd=ROOT, stdout=stdout, stderr=stderr)
    for _ in range(200):
        if out.read_text().startswith("READY "):
            return process, out.read_text().split()[1]
        if process.poll() is not None:
            break
        time.sleep(0.05)
    _stop(process)
    raise RuntimeError(f"the demo identity provider did not start: see {INSTANCE / 'demo-idp.log'}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _connect_acme(issuer: str, site_port: int) -> None:
    from core.app import create_app
    from core.extensions import db
    from core.tenancy import tenant_context
    from tenants.models import Tenant
    from tenants.sso import services
    from tenants.sso.models import Protocol

    app = create_app({"TESTING": True})  # TESTING: no background warm-up for this short command
    with app.app_context():
        acme = db.session.query(Tenant).filter_by(slug="acme").one()
        with tenant_context(acme):
            services.configure(acme, Protocol.OIDC, services.Mapping(
                email="email", name="name", unit="department", groups="groups", admin_group="heforshe-admins",
                allowed_domains=["acme.example"], default_unit_id=None),
                oidc=services.OidcSettings(issuer, "acme-demo", "acme-demo-secret", "openid email profile groups"))
            services.prove_domain(acme, "acme.example")  # as the operator would: no DNS behind the demo's domain
            db.session.commit()
    print(f"  Single sign-on demo (Acme):  {issuer}  user {ACCOUNT['username']}  password {ACCOUNT['password']}"
          f"  (an Acme admin: http://acme.localhost:{site_port}/portal/)")


def _serve(command: list[str]) -> int:
    """Run the server, and the worker beside it (``flask worker``: mail and webhooks), until the server ends.
    Ctrl-C reaches both directly (same process group) and they stop by themselves, so here they are only waited
    for; a SIGTERM sent to this process is passed on to both. The worker is stopped when the server ends."""
    server = subprocess.Popen(command)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "worker"])
    signal.signal(signal.SIGTERM, lambda *_: (server.terminate(), worker.terminate()))
    while True:
        try:
            code = server.wait()
            break
        except KeyboardInterrupt:
            continue
    _stop(worker)
    return code


def main(command: list[str]) -> int:
    site_port = int(os.environ.get("PORT", "5000"))
    port = int(os.environ.get("DEMO_IDP_PORT", str(site_port + 1)))
    if shutil.which("node") is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        print("  (Node.js not found: the single sign-on demo is off; install Node and run `npm ci` to try it)\n")
        return _serve(command)
    INSTANCE.mkdir(exist_ok=True)
    # A SIGTERM before the server runs ends this process through the ``finally`` below, provider included.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    provider, issuer = _start(port, site_port)
    try:
        _connect_acme(issuer, site_port)
        print()
        return _serve(command)
    finally:
        _stop(provider)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
