"""A separate process asking for the deployment identity at the same moment as others (an app server).

Run as ``python -m tests.exchange.identity_client`` with ``RACE_DB_NAME`` naming the test database;
prints ``"ready"``, waits for a line, then prints ``{"fingerprint": …, "deployment_id": …}``.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = os.environ["RACE_DB_NAME"]
    import django

    django.setup()
    from saraban.exchange.identity import deployment_identity

    print(json.dumps("ready"), flush=True)
    sys.stdin.readline()
    identity = deployment_identity()
    print(json.dumps({"fingerprint": identity.fingerprint, "deployment_id": identity.deployment_id}), flush=True)


if __name__ == "__main__":
    main()
