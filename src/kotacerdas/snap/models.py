"""Partner banks, their access tokens, and the record of every SNAP request."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from kotacerdas.snap import signatures


class SignatureMode(models.TextChoices):
    HMAC_SHA512 = "hmac_sha512", _("HMAC-SHA512 with an access token")
    RSA_SHA256 = "rsa_sha256", _("SHA256withRSA without a token")


class SignatureEncoding(models.TextChoices):
    BASE64 = signatures.BASE64, "Base64"
    HEX = signatures.HEX, _("Hexadecimal")


class SnapPartner(models.Model):
    """A bank allowed to send virtual-account requests to the city.

    `partner_service_id` is the 8-character VA prefix the bank puts before a
    wallet number (digits, left-padded with spaces). Every partner signs its
    access-token requests with the RSA key whose public half is stored here;
    in HMAC mode its transaction requests are signed with the client secret,
    which is kept sealed (AES-256-GCM under the node's personal-data key)
    because verifying an HMAC needs the secret itself, not a hash of it.
    """

    partner_id = models.CharField(
        _("partner ID (X-PARTNER-ID)"), max_length=36, unique=True
    )
    client_key = models.CharField(
        _("client ID (X-CLIENT-KEY)"), max_length=64, unique=True
    )
    name = models.CharField(_("bank name"), max_length=80)
    partner_service_id = models.CharField(
        _("partner service ID"), max_length=8, unique=True
    )
    channel_id = models.CharField(_("channel ID (CHANNEL-ID)"), max_length=5)
    signature_mode = models.CharField(
        _("signature"), max_length=12, choices=SignatureMode.choices
    )
    signature_encoding = models.CharField(
        _("signature encoding"),
        max_length=8,
        choices=SignatureEncoding.choices,
        default=SignatureEncoding.BASE64,
    )
    client_secret_sealed = models.BinaryField(_("client secret (sealed)"), null=True)
    public_key_pem = models.TextField(_("bank's RSA public key (PEM)"))
    timestamp_skew_s = models.PositiveIntegerField(
        _("allowed clock difference (s)"), default=300
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["partner_id"]
        verbose_name = _("SNAP partner bank")
        verbose_name_plural = _("SNAP partner banks")
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("partner_service_id"), 8),
                name="snap_partner_service_id_8_chars",
            ),
            models.CheckConstraint(
                condition=Q(signature_mode__in=SignatureMode.values),
                name="snap_partner_signature_mode_known",
            ),
            models.CheckConstraint(
                condition=~Q(signature_mode=SignatureMode.HMAC_SHA512)
                | Q(client_secret_sealed__isnull=False),
                name="snap_partner_hmac_has_secret",
            ),
            models.CheckConstraint(
                condition=Q(timestamp_skew_s__gte=1, timestamp_skew_s__lte=3600),
                name="snap_partner_skew_1s_to_1h",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.partner_id})"


class SnapAccessToken(models.Model):
    """A bearer token issued to a partner, stored only as its SHA-256."""

    partner = models.ForeignKey(
        SnapPartner, on_delete=models.CASCADE, related_name="tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["partner", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("issued_at")),
                name="snap_token_expires_after_issue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.token_hash[:8]}"


class SnapService(models.TextChoices):
    ACCESS_TOKEN = "access_token", _("Access token")
    VA_INQUIRY = "va_inquiry", _("Virtual account inquiry")
    VA_PAYMENT = "va_payment", _("Virtual account payment")


class SnapRequest(models.Model):
    """One request received on a SNAP endpoint and the answer it got.

    The body is stored with personal fields (names, e-mail, phone, source
    account) replaced by a marker. `external_id_day` is set once the request
    passed its signature check, and the unique constraint on it makes an
    X-EXTERNAL-ID usable once per partner per day.
    """

    service = models.CharField(_("service"), max_length=12, choices=SnapService.choices)
    partner = models.ForeignKey(
        SnapPartner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("partner"),
    )
    external_id = models.CharField(_("X-EXTERNAL-ID"), max_length=36, blank=True)
    external_id_day = models.DateField(null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    duration_ms = models.PositiveIntegerField(_("time taken (ms)"), null=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True)
    response_code = models.CharField(_("response code"), max_length=7, blank=True)
    response_message = models.CharField(
        _("response message"), max_length=150, blank=True
    )
    customer_no = models.CharField(_("wallet number"), max_length=20, blank=True)
    request_id = models.CharField(_("bank request ID"), max_length=128, blank=True)
    transfer_reference = models.CharField(
        _("transfer reference"), max_length=16, blank=True
    )
    headers = models.JSONField(_("headers"), default=dict)
    body = models.JSONField(_("body (redacted)"), null=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("SNAP request")
        verbose_name_plural = _("SNAP requests")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id_day", "external_id"],
                condition=Q(external_id_day__isnull=False),
                name="snap_request_external_id_once_a_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.response_code or '-'}"


class SnapPayment(models.Model):
    """A virtual-account payment that credited a wallet, kept for retries.

    One row per (partnerServiceId, customerNo, paymentRequestId): a retry of
    the same payment finds it and gets `response_body` again instead of a
    second credit. The body is stored without `virtualAccountName`, which is
    filled in again when it is sent.
    """

    partner = models.ForeignKey(
        SnapPartner, on_delete=models.PROTECT, related_name="payments"
    )
    partner_service_id = models.CharField(max_length=8)
    customer_no = models.CharField(max_length=20)
    payment_request_id = models.CharField(max_length=128)
    amount = models.BigIntegerField(_("amount (Rp)"))
    transfer_id = models.CharField(_("transfer id"), max_length=80, unique=True)
    transfer_reference = models.CharField(_("transfer reference"), max_length=16)
    response_body = models.JSONField()
    request = models.ForeignKey(
        SnapRequest, on_delete=models.PROTECT, related_name="payments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("SNAP payment")
        verbose_name_plural = _("SNAP payments")
        constraints = [
            models.UniqueConstraint(
                fields=["partner_service_id", "customer_no", "payment_request_id"],
                name="snap_payment_once_per_request_id",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="snap_payment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.transfer_reference
