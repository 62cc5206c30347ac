"""The baseline for sign-ups: a bare Flask endpoint that only inserts one commitment-shaped row.

Run under the same gunicorn settings as the product, it shows what the framework, the driver and the
database cost without the product's own work (tenancy, forms, CSRF, roll-up, templates).
"""

import os
import uuid

from flask import Flask, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["BARE_DATABASE_URL"], pool_size=10, max_overflow=20)

INSERT = text("""
    INSERT INTO bare_rows (tenant_id, id, email_canonical, gender, country_code, created_at)
    VALUES (:tenant_id, :id, :email, 'man', 'FR', now())
    ON CONFLICT (tenant_id, email_canonical) DO NOTHING
""")


@app.post("/")
def insert_one():
    with engine.begin() as connection:
        connection.execute(INSERT, {"tenant_id": int(request.form.get("tenant", 1)), "id": uuid.uuid4(),
                                    "email": request.form["email"]})
    return "", 204
