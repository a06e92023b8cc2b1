from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from kotacerdas.journal import services
from kotacerdas.journal.worker import Job, Worker


class Command(BaseCommand):
    help = (
        "Run the background worker: seals waiting journal entries into signed blocks."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--seal-interval",
            type=float,
            default=settings.KOTACERDAS_SEAL_INTERVAL_S,
            help="seconds between sealing attempts (default: KOTACERDAS_SEAL_INTERVAL_S)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker = Worker([Job("seal", services.seal_pending, options["seal_interval"])])
        worker.install_signal_handlers()
        worker.run_forever()
