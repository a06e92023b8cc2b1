"""`kotacerdas snap partner ...` and `kotacerdas bank-sim` against a live server."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kotacerdas.accounts.services import create_user
from kotacerdas.snap import signatures, simulator
from kotacerdas.snap.authentication import open_client_secret
from kotacerdas.snap.models import SnapPartner, SnapPayment
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Account, AccountKind, Transfer


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def public_key_file(tmp_path, bank_key):
    path = tmp_path / "bank.pem"
    path.write_text(signatures.public_key_pem(bank_key))
    return path


@pytest.mark.django_db
def test_partner_add_prints_secret_once(public_key_file):
    out, err = run(
        "snap",
        "partner",
        "add",
        "BANKNAGARI",
        "--name",
        "Bank Nagari",
        "--service-id",
        "12345",
        "--channel-id",
        "95221",
        "--public-key",
        str(public_key_file),
    )

    partner = SnapPartner.objects.get()
    secret = out.strip().splitlines()[-1]
    assert partner.partner_service_id == "   12345"
    assert partner.client_key == "BANKNAGARI"
    assert open_client_secret(partner) == secret
    assert secret.encode() not in bytes(partner.client_secret_sealed)
    assert "cannot be shown again" in err
    details, _ = run("snap", "partner", "show", "BANKNAGARI")
    assert secret not in details
    assert "'   12345'" in details


@pytest.mark.django_db
def test_partner_add_rsa_mode_has_no_secret(public_key_file):
    _out, err = run(
        "snap",
        "partner",
        "add",
        "BANKRSA",
        "--service-id",
        "777",
        "--channel-id",
        "1",
        "--mode",
        "rsa_sha256",
        "--encoding",
        "hex",
        "--public-key",
        str(public_key_file),
    )

    partner = SnapPartner.objects.get()
    assert partner.client_secret_sealed is None
    assert partner.signature_encoding == "hex"
    assert err == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--service-id", "12A45"], "use 1 to 8 digits"),
        (["--service-id", "123456789"], "use 1 to 8 digits"),
        (["--channel-id", "123456"], "channel ID must be 1 to 5 characters"),
        (["--skew-s", "0"], "1 to 3600 seconds"),
    ],
)
def test_partner_add_rejects_bad_settings(public_key_file, args, words):
    base = {"--service-id": "12345", "--channel-id": "95221"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flags = [item for pair in base.items() for item in pair]

    with pytest.raises(CommandError, match=words):
        run(
            "snap",
            "partner",
            "add",
            "BANK",
            *flags,
            "--public-key",
            str(public_key_file),
        )
    assert not SnapPartner.objects.exists()


@pytest.mark.django_db
def test_partner_add_rejects_taken_ids(public_key_file):
    flags = ["--channel-id", "1", "--public-key", str(public_key_file)]
    run("snap", "partner", "add", "BANK", "--service-id", "1", *flags)

    with pytest.raises(CommandError, match="partner ID 'BANK' is already in use"):
        run("snap", "partner", "add", "BANK", "--service-id", "2", *flags)
    with pytest.raises(CommandError, match="partner service ID 1 is already in use"):
        run(
            "snap",
            "partner",
            "add",
            "OTHER",
            "--service-id",
            "0001".lstrip("0"),
            *flags,
        )


@pytest.mark.django_db
def test_partner_add_needs_options():
    with pytest.raises(CommandError, match="missing PARTNER_ID, --service-id"):
        run("snap", "partner", "add")


@pytest.mark.django_db
def test_partner_add_rejects_non_rsa_key(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")

    with pytest.raises(CommandError, match="not a readable PEM key"):
        run(
            "snap",
            "partner",
            "add",
            "BANK",
            "--service-id",
            "1",
            "--channel-id",
            "1",
            "--public-key",
            str(path),
        )


@pytest.mark.django_db
def test_partner_list_and_unknown_show(public_key_file):
    run(
        "snap",
        "partner",
        "add",
        "BANKNAGARI",
        "--service-id",
        "12345",
        "--channel-id",
        "95221",
        "--public-key",
        str(public_key_file),
    )

    listing, _ = run("snap", "partner", "list")

    assert "BANKNAGARI" in listing
    assert "hmac_sha512" in listing
    with pytest.raises(CommandError, match="no partner 'NOPE'"):
        run("snap", "partner", "show", "NOPE")


@pytest.mark.django_db
def test_demo_partner_add_is_repeatable():
    first, _ = run("snap", "partner", "add", "--demo")
    second, _ = run("snap", "partner", "add", "--demo", "--mode", "rsa_sha256")

    partner = SnapPartner.objects.get()
    profile = simulator.load_profile(simulator.DEMO_PARTNER_ID)
    assert "Registered the bank simulator" in first
    assert "Updated the bank simulator" in second
    assert partner.signature_mode == "rsa_sha256"
    assert profile.signature_mode == "rsa_sha256"
    assert profile.client_secret is None
    assert profile.partner_service_id == "   77001"
    assert simulator.profile_path(partner.partner_id).stat().st_mode & 0o077 == 0


@pytest.mark.django_db
def test_bank_sim_refuses_other_hosts():
    run("snap", "partner", "add", "--demo")

    for url in ("http://example.com", "http://10.0.0.5:8000", "ftp://127.0.0.1"):
        with pytest.raises(CommandError, match="not a server on this machine"):
            run(
                "bank_sim",
                "topup",
                "--wallet",
                "880000000009",
                "--amount",
                "1",
                "--url",
                url,
            )


@pytest.mark.django_db
def test_bank_sim_needs_registration():
    with pytest.raises(CommandError, match="snap partner add --demo"):
        run("bank_sim", "topup", "--wallet", "880000000009", "--amount", "1")


@pytest.mark.django_db
def test_bank_sim_reports_unreachable_server():
    run("snap", "partner", "add", "--demo")

    with pytest.raises(CommandError, match=r"cannot reach http://127\.0\.0\.1:9 "):
        run(
            "bank_sim",
            "topup",
            "--wallet",
            "880000000009",
            "--amount",
            "1",
            "--url",
            "http://127.0.0.1:9",
        )


@pytest.mark.parametrize("mode", ["hmac_sha512", "rsa_sha256"])
def test_bank_sim_tops_up_live_server(live_server, city, mode):
    run("snap", "partner", "add", "--demo", "--mode", mode)
    holder = create_user("warga", None, ["citizen"])
    holder.first_name, holder.last_name = "Warga", "Contoh"
    holder.save()
    account = wallet.open_account(AccountKind.CITIZEN, holder=holder)

    out, _ = run(
        "bank_sim",
        "topup",
        "--wallet",
        account.number,
        "--amount",
        "50000",
        "--url",
        live_server.url,
        "--repeat",
        "2",
        "--pretty",
    )

    lines = out.strip().splitlines()
    steps = [line.split()[0] for line in lines]
    expected = ["inquiry", "payment", "repeat", "repeat"]
    assert steps == (["access", *expected] if mode == "hmac_sha512" else expected)
    assert "2002400" in lines[-4]
    assert "name W**** C*****" in lines[-4]
    assert all("2002500" in line for line in lines[-3:])
    reference = Transfer.objects.get(credit_account=account).reference
    assert all(f"transfer {reference}" in line for line in lines[-3:])
    assert Account.objects.get(pk=account.pk).balance == 50_000
    assert SnapPayment.objects.count() == 1


def test_bank_sim_cap_rejection_fails_command(live_server, city):
    run("snap", "partner", "add", "--demo")
    account = wallet.open_account(AccountKind.CITIZEN)

    with pytest.raises(CommandError, match="payment got 4042513 Invalid Amount"):
        run(
            "bank_sim",
            "topup",
            "--wallet",
            account.number,
            "--amount",
            "3000000",
            "--url",
            live_server.url,
        )
    assert Account.objects.get(pk=account.pk).balance == 0


def test_profile_round_trips_json():
    profile = simulator.BankProfile(
        partner_id="P",
        client_key="C",
        partner_service_id="       1",
        channel_id="1",
        signature_mode="hmac_sha512",
        signature_encoding="hex",
        client_secret="s",
    )

    assert simulator.BankProfile.from_json(profile.to_json()) == profile
    assert json.loads(profile.to_json())["partner_service_id"] == "       1"
