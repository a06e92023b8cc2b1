"""`kotacerdas run`: set up and start the whole city on one machine."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from kotacerdas.config.ports import free_port
from kotacerdas.journal.keys import create_signing_key

logger = logging.getLogger(__name__)

DEMO_WITNESS_FIRST_PORT = 8701
# Without these the city stops; the others (chain node, witnesses) are restarted.
ESSENTIAL_PROCESSES = {"web", "worker"}
MAX_RESTART_DELAY_S = 60.0
# The city's partners, in the order `KOTACERDAS_DEMO_WITNESSES` adds them.
DEMO_WITNESSES = [
    ("pemkot", "witness.pemkot.padangpanjang.local"),
    ("banknagari", "witness.banknagari.local"),
    ("inspektorat", "witness.inspektorat.padangpanjang.local"),
    ("mitra", "witness.mitra-teknologi.local"),
    ("universitas", "witness.universitas.local"),
]


def demo_witness_name(index: int) -> tuple[str, str]:
    """Return the directory name and witness name of the demo's witness `index`."""
    if index < len(DEMO_WITNESSES):
        return DEMO_WITNESSES[index]
    return f"witness{index + 1}", f"witness{index + 1}.padangpanjang.local"


class Command(BaseCommand):
    help = (
        "Migrate, load the city profile, create the signing key and the demo city "
        "when the database is empty, then start the web server and the worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument(
            "--port", type=int, default=8000, help="TCP port to listen on"
        )
        parser.add_argument(
            "--web-workers",
            type=int,
            default=2,
            help="number of gunicorn worker processes",
        )
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="do not create the demo city in an empty database",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Printed QR codes and the publication page name the public address;
        # unless it is configured, it is the address this city listens on.
        os.environ.setdefault(
            "KOTACERDAS_PUBLIC_URL", f"http://{options['host']}:{options['port']}"
        )
        if not options["no_demo"]:
            # The worker started below reads them: demo crews record their
            # pickups, and demo citizens pay, top up and file reports.
            os.environ.setdefault("KOTACERDAS_DEMO_CREWS", "1")
            os.environ.setdefault("KOTACERDAS_DEMO_CITIZENS", "1")
        self.prepare(create_demo=not options["no_demo"])
        processes = self.start(options)
        self.print_welcome(options)
        self.supervise(processes)

    def prepare(self, create_demo: bool) -> None:
        from kotacerdas.demo import services as demo

        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        self.stdout.write("Applying database migrations ...")
        call_command("migrate", interactive=False, verbosity=0)
        create_signing_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))
        call_command("city", "load", settings.KOTACERDAS_CITY)
        if create_demo and demo.database_is_empty():
            size = demo.configured_size()
            self.stdout.write(f"Creating the demo city (size {size}) ...")
            demo.create_demo_city()
            summary = demo.build_demo_registry(
                size, progress=lambda done: self.stdout.write(done.progress_line())
            )
            self.stdout.write(summary.result_line())
            for line in demo.build_demo_activity(pilot=True):
                self.stdout.write(line)
        call_command("collectstatic", interactive=False, verbosity=0)

    def start(self, options: dict[str, Any]) -> dict[str, subprocess.Popen[bytes]]:
        from kotacerdas.ops.metrics import clear_request_metrics

        # The request metrics of earlier runs' web processes would add up
        # forever in /metrics; the new processes start from zero.
        clear_request_metrics()
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "kotacerdas.config.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["web_workers"]),
            "--threads",
            "4",
            "--graceful-timeout",
            "10",
            # The default control socket is one path per user, shared by every
            # instance, so a second city on the same machine would remove it.
            "--no-control-socket",
        ]
        worker = [sys.executable, "-m", "kotacerdas.config.cli", "worker"]
        # The chain and the witnesses come first: the worker's anchor and
        # witness jobs talk to them.
        processes = {**self.start_chain(options), **self.start_witnesses(options)}
        processes["web"] = subprocess.Popen(web)
        processes["worker"] = subprocess.Popen(worker)
        from kotacerdas.waste.sensors_mqtt import sensor_processes

        processes.update(sensor_processes())
        for name, process in processes.items():
            logger.info("started %s process %s", name, process.pid)
        return processes

    def start_chain(
        self, options: dict[str, Any]
    ) -> dict[str, subprocess.Popen[bytes]]:
        """Start the local anvil node when one is installed and no chain is configured.

        The node listens on 127.0.0.1 (port 8545, or a free one), keeps its
        state in var/chain/ and its URL in var/chain/anvil.json, where the
        worker and the ledger commands find it. Without anvil the worker falls
        back to the in-process development chain.
        """
        from kotacerdas.journal import chain

        record = chain.anvil_record_path()
        record.unlink(missing_ok=True)
        if settings.KOTACERDAS_CHAIN_URL:
            return {}
        if chain.anvil_binary() is None:
            self.stdout.write(
                "anvil is not installed (npm ci installs it): anchoring uses the "
                "in-process development chain, which is lost on restart"
            )
            return {}
        process, url = chain.start_anvil(record.parent)
        record.write_text(json.dumps({"url": url, "pid": process.pid}) + "\n")
        self.stdout.write(f"Local chain (anvil) at {url}, state in {record.parent}")
        return {"chain": process}

    def start_witnesses(
        self, options: dict[str, Any]
    ) -> dict[str, subprocess.Popen[bytes]]:
        """Start the demo witnesses and register them with the node.

        Each partner's witness gets a directory under var/witnesses/ with its
        own key and trusts this node's key. It listens on 127.0.0.1 from port
        DEMO_WITNESS_FIRST_PORT on, or on a free port when that one is taken.
        The worker finds each witness by the URL registered here.
        """
        from kotacerdas.journal import witnessing
        from kotacerdas.journal.keys import node_verifier_key
        from kotacerdas.witness.attest import chain_address
        from kotacerdas.witness.store import WitnessStore

        chain_url = self.witness_chain_url()
        stores = []
        for index in range(settings.KOTACERDAS_DEMO_WITNESSES):
            short, name = demo_witness_name(index)
            store = WitnessStore(Path(settings.VAR_DIR) / "witnesses" / short)
            store.init(name)
            store.trust(node_verifier_key())
            port = free_port(DEMO_WITNESS_FIRST_PORT + index)
            address = chain_address(store.directory / "chain.key") if chain_url else ""
            try:
                witnessing.add_witness(
                    name, f"http://127.0.0.1:{port}", store.vkey(), address
                )
            except witnessing.WitnessError as error:
                # Such as a database kept while var/witnesses/ was deleted.
                logger.warning("demo witness %s not registered: %s", name, error)
            stores.append((short, store, port))
        contract = self.deploy_anchor_contract(chain_url) if stores else ""
        processes: dict[str, subprocess.Popen[bytes]] = {}
        for short, store, port in stores:
            command = [sys.executable, "-m", "kotacerdas.witness", "serve"]
            command += ["--dir", str(store.directory), "--port", str(port)]
            if contract:
                command += ["--chain-url", chain_url, "--contract", contract]
                command += ["--chain-key", str(store.directory / "chain.key")]
            # Own session: a Ctrl+C in the terminal reaches only this
            # supervisor, which stops the witnesses in order.
            processes[f"witness {short}"] = subprocess.Popen(
                command, start_new_session=True
            )
        return processes

    def witness_chain_url(self) -> str:
        """Return the chain URL the demo witnesses attest on, or "" for none.

        Witnesses are separate processes, so they cannot reach the in-process
        development chain; they attest only on anvil or a configured node.
        """
        from kotacerdas.journal import chain

        return str(settings.KOTACERDAS_CHAIN_URL or chain.recorded_anvil_url())

    def deploy_anchor_contract(self, chain_url: str) -> str:
        """Deploy the anchor contract with the witnesses as partners; return its address."""
        if not chain_url:
            return ""
        from kotacerdas.journal import anchoring
        from kotacerdas.journal import chain as chains

        try:
            chain = chains.http_chain(chain_url)
            deployment = anchoring.ensure_deployment(
                chain, anchoring.operator_account()
            )
        except chains.ChainError as error:
            logger.warning("anchor contract not deployed at start: %s", error)
            return ""
        self.stdout.write(
            f"Anchor contract {deployment.address} on chain {deployment.chain_id}: "
            f"{len(deployment.partners)} partners, {deployment.threshold} to finalize"
        )
        return deployment.address

    def print_welcome(self, options: dict[str, Any]) -> None:
        from kotacerdas.demo import services as demo

        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"\nKota Cerdas is running at {url}"))
        self.stdout.write(f"Ledger status: {url}ledger/   API docs: {url}api/docs")
        self.stdout.write(
            f"Command center: {url}command/ (wall mode: {url}command/wall/), "
            "for the command, admin and auditor users"
        )
        logins = demo.demo_logins()
        if logins:
            self.stdout.write(
                f"Demo logins (password: {settings.KOTACERDAS_DEMO_PASSWORD}):"
            )
            for username, role in logins:
                self.stdout.write(f"  {username:<12} {role}")
            self.stdout.write(f"Demo citizen's payment PIN: {demo.DEMO_PIN}")
            wallet = demo.demo_citizen_wallet()
            if wallet:
                self.stdout.write(
                    "Top up the demo citizen's wallet as the bank would:\n"
                    f"  .venv/bin/kotacerdas bank-sim topup --wallet {wallet} --amount 50000 "
                    f"--url {url.rstrip('/')}"
                )
        self.stdout.write("Press Ctrl+C to stop.\n")

    def supervise(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        """Watch the processes until a signal; restart a helper process that exits.

        The city cannot work without the web server and the worker, so either
        one exiting stops everything. A witness or the chain node exiting is
        what a partner's outage looks like: the city goes on, the worker's jobs
        retry, and the process is started again after a growing delay.
        """
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        exit_code = 0
        delays: dict[str, float] = {}
        restart_at: dict[str, float] = {}
        while not stopping:
            for name, process in list(processes.items()):
                if process.poll() is None:
                    continue
                if name in ESSENTIAL_PROCESSES:
                    logger.error(
                        "%s process %s exited with code %s; stopping the city",
                        name,
                        process.pid,
                        process.returncode,
                    )
                    stopping, exit_code = True, 1
                elif name not in restart_at:
                    delays[name] = min(delays.get(name, 1.0) * 2, MAX_RESTART_DELAY_S)
                    restart_at[name] = time.monotonic() + delays[name]
                    logger.warning(
                        "%s process %s exited with code %s; restarting in %.0f s",
                        name,
                        process.pid,
                        process.returncode,
                        delays[name],
                    )
                elif time.monotonic() >= restart_at[name]:
                    del restart_at[name]
                    processes[name] = subprocess.Popen(
                        process.args, start_new_session=True
                    )
                    logger.info("restarted %s as process %s", name, processes[name].pid)
            time.sleep(0.5)
        for name, process in processes.items():
            if process.poll() is None:
                logger.info("stopping %s process %s", name, process.pid)
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if exit_code:
            sys.exit(exit_code)
