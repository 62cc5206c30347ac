"""The Flask extensions, created once and bound to the app in the factory."""

import ipaddress

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so that migrations can name what they drop on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
login_manager = LoginManager()
# No default limits: a view that needs one (the break-glass form, /me's sign-in links) says so.
limiter = Limiter(get_remote_address)


def host_and_address() -> str:
    """The key of a form's limit: the client's address on this host. Behind a proxy that hides the address
    this is per host: fine for forms a person uses once in a while."""
    return f"{request.host}|{get_remote_address()}"


def client_network(address: str | None = None) -> str | None:
    """The network of a client's address (this request's by default): its /24 for IPv4, its /56 for IPv6 (what
    a provider gives one home or office), as text (``203.0.113.0/24``). One person's devices, and an office
    behind one NAT, share it; None for what is no address."""
    try:
        ip = ipaddress.ip_address(address if address is not None else get_remote_address())
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ipaddress.ip_network((ip, 24 if ip.version == 4 else 56), strict=False))


def network_key() -> str:
    """The key of a limit per client network (the raw address when it is none)."""
    return client_network() or get_remote_address()
