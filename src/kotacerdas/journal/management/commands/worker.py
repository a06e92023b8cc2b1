from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from kotacerdas.journal import services
from kotacerdas.journal.worker import Job, Worker, app_jobs


class Command(BaseCommand):
    help = (
        "Run the background worker: seals waiting journal entries into signed "
        "blocks and runs the apps' jobs (such as expiring wallet reservations)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--seal-interval",
            type=float,
            default=settings.KOTACERDAS_SEAL_INTERVAL_S,
            help="seconds between sealing attempts (default: KOTACERDAS_SEAL_INTERVAL_S)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seal = Job("seal", services.seal_pending, options["seal_interval"])
        worker = Worker([seal, *app_jobs()])
        worker.install_signal_handlers()
        worker.run_forever()
