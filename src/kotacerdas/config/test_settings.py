"""Settings for the test suite: the normal settings with a throwaway var/ directory.

Keys, the secret key and any SQLite file of a test run live in a fresh
temporary directory, so tests never touch a developer's demo city. The variable
is set in the environment, so processes a test starts inherit the same place.
"""

import os
import tempfile

os.environ.setdefault("KOTACERDAS_VAR_DIR", tempfile.mkdtemp(prefix="kotacerdas-test-"))
os.environ.setdefault("KOTACERDAS_SEAL_INTERVAL_S", "0.2")
# The cache that counts scans outlives each test, and SQLite reuses the user ids
# a rolled-back test freed. So the limits here are very high, and the limit
# tests set their own low ones.
os.environ.setdefault("KOTACERDAS_SCAN_LIMIT_PER_MIN", "1000000")
os.environ.setdefault("KOTACERDAS_PICKUP_LIMIT_PER_MIN", "1000000")

from kotacerdas.config.settings import *  # noqa: F403

# Argon2 is deliberately slow; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests serve static files straight from the apps, without collectstatic.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# On SQLite, test databases live in a file under the throwaway var/ directory,
# not in a shared-cache in-memory database. Shared cache locks whole tables and
# raises "table is locked" at once to a thread that reads while another writes
# (the live server, import threads), where a file waits for the busy timeout.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(os.environ["KOTACERDAS_VAR_DIR"], "test.sqlite3")
    }
