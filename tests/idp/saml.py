"""A real SAML 2.0 identity provider for the tests: Debian's SimpleSAMLphp under ``php -S``.

The PHP configuration lives in ``tests/idp/simplesamlphp/`` and reads everything that varies per
run (URL, folders, users, SPs) from a JSON file written here, so one IdP per ``workdir`` can run.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SIMPLESAMLPHP = Path("/usr/share/simplesamlphp")
CONFIG_DIR = Path(__file__).parent / "simplesamlphp"
# A provider comes up in a second or two; on a loaded CI box (two test workers, a browser, PostgreSQL) the
# OpenID provider once took over 20 s, so both wait long: it costs nothing when the provider is quick.
START_TIMEOUT = 60


def unavailable() -> str | None:
    """Why the IdP cannot run here, or None when it can."""
    if shutil.which("php") is None or not (SIMPLESAMLPHP / "www").is_dir():
        return "needs Debian's simplesamlphp, php8.2-cli and php8.2-xml (apt-get install simplesamlphp php8.2-cli php8.2-xml)"
    return None


def make_key_and_certificate(common_name: str) -> tuple[str, str]:
    """A fresh RSA key and a self-signed certificate for it, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def _cert_data(pem: str) -> str:
    """The base64 DER of a PEM certificate, as SimpleSAMLphp's ``certData`` wants it."""
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SamlSignInResult:
    """Where the browser stopped: the auto-submit form to the SP's ACS, or the page shown instead."""

    acs_url: str | None
    fields: dict[str, str]
    page: str
    status: int


@dataclass
class SimpleSamlIdp:
    """A running SimpleSAMLphp IdP."""

    entity_id: str
    base_url: str
    metadata_url: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)
    metadata_xml: str = ""

    def stop(self) -> None:
        """Stop the php server."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def rotate_key(self) -> None:
        """Sign with a new key and certificate from now on; the metadata at ``metadata_url`` shows the new one."""
        key_pem, cert_pem = make_key_and_certificate("idp.northfield.test")
        (self.log_path.parent / "idp-key.pem").write_text(key_pem)
        (self.log_path.parent / "idp-cert.pem").write_text(cert_pem)

    def sign_in(
        self, redirect_url: str, username: str, password: str, session: requests.Session | None = None
    ) -> SamlSignInResult:
        """Play the browser from the SP's HTTP-Redirect AuthnRequest to the form that posts to the ACS.

        With the same ``session`` (the IdP's cookie), a second sign-in skips the login form.
        """
        session = session or requests.Session()
        response = session.get(redirect_url, timeout=20)
        form = _find_form(response, "password")
        if form is not None:
            fields = {**dict(form.form_values()), "username": username, "password": password}
            response = session.post(form.action, data=fields, timeout=20)
        # SimpleSAMLphp answers errors (bad signature, wrong password) with 200 too: look at the page.
        acs_form = _find_form(response, "SAMLResponse")
        if acs_form is None:
            return SamlSignInResult(None, {}, response.text, response.status_code)
        return SamlSignInResult(acs_form.action, dict(acs_form.form_values()), response.text, response.status_code)


def _find_form(response: requests.Response, input_name: str) -> lxml.html.FormElement | None:
    """The page's first form with an input called ``input_name`` (action made absolute), or None."""
    if not response.text.strip():
        return None
    for form in lxml.html.fromstring(response.text, base_url=response.url).forms:
        if form.xpath(f".//input[@name='{input_name}']"):
            return form
    return None


def start_simplesamlphp(workdir: Path, sps: list[dict], users: list[dict]) -> SimpleSamlIdp:
    """Start an IdP for ``sps`` ({entity_id, acs_url, sls_url, certificate, and ``encrypt`` to encrypt its
    assertions to that certificate}) and ``users``
    ({username, password, attributes by urn:oid name}); its files and logs go to ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    for folder in ("phpsession", "tmp", "data", "docroot"):
        (workdir / folder).mkdir(exist_ok=True)
    # Served under /simplesaml/ like a real deployment; __FILE__ resolves the link, so includes work.
    www_link = workdir / "docroot" / "simplesaml"
    if not www_link.is_symlink():
        www_link.symlink_to(SIMPLESAMLPHP / "www")

    key_pem, cert_pem = make_key_and_certificate("idp.northfield.test")
    (workdir / "idp-key.pem").write_text(key_pem)
    (workdir / "idp-cert.pem").write_text(cert_pem)

    base_url = f"http://127.0.0.1:{_free_port()}/simplesaml/"
    metadata_url = base_url + "saml2/idp/metadata.php"
    settings = {
        "workdir": str(workdir),
        "base_url": base_url,
        "entity_id": metadata_url,
        "secretsalt": secrets.token_hex(16),
        "admin_password": secrets.token_hex(8),
        "users": users,
        "sps": [{**sp, "cert_data": _cert_data(sp["certificate"])} for sp in sps],
    }
    (workdir / "idp.json").write_text(json.dumps(settings))

    env = {**os.environ, "SIMPLESAMLPHP_CONFIG_DIR": str(CONFIG_DIR), "HFS_IDP_SETTINGS": str(workdir / "idp.json")}
    host_port = base_url.split("/")[2]
    with open(workdir / "php.out", "wb") as out, open(workdir / "php.err", "wb") as err:
        process = subprocess.Popen(
            ["php", "-S", host_port, "-t", str(workdir / "docroot")], stdout=out, stderr=err, env=env
        )
    idp = SimpleSamlIdp(metadata_url, base_url, metadata_url, workdir / "simplesamlphp.log", process)
    idp.metadata_xml = _wait_for_metadata(idp, workdir)
    return idp


def _wait_for_metadata(idp: SimpleSamlIdp, workdir: Path) -> str:
    """The IdP's metadata once it answers; stop the server and raise with its logs otherwise."""
    deadline = time.monotonic() + START_TIMEOUT
    problem = "php exited"
    while time.monotonic() < deadline and idp.process.poll() is None:
        try:
            response = requests.get(idp.metadata_url, timeout=5)
            if response.ok and "IDPSSODescriptor" in response.text:
                return response.text
            problem = f"HTTP {response.status_code}: {response.text[:2000]}"
        except requests.ConnectionError as error:
            problem = str(error)
        time.sleep(0.2)
    idp.stop()
    logs = "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')}"
        for path in (workdir / "php.err", workdir / "php.out", idp.log_path)
        if path.exists()
    )
    raise RuntimeError(f"SimpleSAMLphp did not serve its metadata at {idp.metadata_url}: {problem}\n{logs}")
