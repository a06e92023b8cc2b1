"""`kotacerdas demo` refuses to run with the production settings."""

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from kotacerdas.accounts.models import User

pytestmark = pytest.mark.django_db


@override_settings(KOTACERDAS_PRODUCTION=True)
def test_demo_refused_in_production():
    with pytest.raises(CommandError, match="not built with the production settings"):
        call_command("demo", "--size", "small")

    assert not User.objects.exists()
