"""The admin site: Django's, with two-factor sign-in (TOTP) for the people whose
decisions put clinical wording in front of the public."""

import contextlib
import ipaddress

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

# The rights whose holders need a second factor when REQUIRE_TWO_FACTOR is on: those of
# clinical reviewers and publishers, the decisions that put wording in front of the public.
SECOND_FACTOR_PERMISSIONS = ("review.sign_off", "review.publish", "review.withdraw")
# An authenticator app's codes are this many digits; anything else is a backup code.
TOTP_DIGITS = TOTPDevice._meta.get_field("digits").default


def client_address(request) -> str:
    """The visitor's address, for throttling: the connection's own, or behind
    TRUSTED_PROXY_COUNT proxies, the one the outermost of them saw (if it is an address)."""
    if settings.TRUSTED_PROXY_COUNT:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= settings.TRUSTED_PROXY_COUNT:
            with contextlib.suppress(ValueError):
                return str(ipaddress.ip_address(forwarded[-settings.TRUSTED_PROXY_COUNT]))
    return request.META.get("REMOTE_ADDR", "")


def locked_out(request, response=None, credentials=None):
    """The page shown instead of the sign-in form while a lockout lasts (429)."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "site_header": admin.site.site_header,
        "site_title": admin.site.site_title,
    }
    return render(request, "admin/locked_out.html", context, status=429)


def needs_second_factor(user) -> bool:
    """Whether ``user`` signs in with a code as well: anyone who may sign off, publish or
    withdraw (through a role or given the right directly), and superusers."""
    if not settings.REQUIRE_TWO_FACTOR or user is None or not user.is_authenticated:
        return False
    return user.is_superuser or any(user.has_perm(permission) for permission in SECOND_FACTOR_PERMISSIONS)


class SignInForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """Password, and for those who need one, a code from their authenticator app."""

    otp_token = forms.CharField(label=_("Code from your authenticator app"), required=False, max_length=8)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp_token"].widget.attrs.update({"autocomplete": "one-time-code", "inputmode": "numeric"})

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if needs_second_factor(user):
            if not any(
                model.objects.filter(user=user, confirmed=True).exists() for model in (TOTPDevice, StaticDevice)
            ):
                raise ValidationError(
                    _(
                        "Your role needs two-factor sign-in, and no authenticator app is set up for you yet. "
                        "Ask an administrator to add one (Users › TOTP devices)."
                    ),
                    code="no_device",
                )
            self.clean_otp(user)
        return cleaned

    def _chosen_device(self, user):
        """Six digits come from the authenticator app; anything else is a one-off backup code."""
        token = (self.cleaned_data.get("otp_token") or "").strip()
        model = TOTPDevice if token.isdigit() and len(token) == TOTP_DIGITS else StaticDevice
        return model.objects.filter(user=user, confirmed=True).order_by("pk").first()


class ClinicalAdminSite(admin.AdminSite):
    site_header = _("Clinical content")
    site_title = _("Clinical content")
    index_title = _("Pages, reviews and sign-offs")
    login_form = SignInForm
    login_template = "admin/sign_in.html"

    def login(self, request, extra_context=None):
        user = request.user
        unverified = needs_second_factor(user) and not user.is_verified()
        context = {"second_factor_missing": unverified, "two_factor": settings.REQUIRE_TWO_FACTOR}
        return super().login(request, context | (extra_context or {}))

    def index(self, request, extra_context=None):
        """The front page: each person's work inbox, above the site's sections."""
        from review import selectors  # the admin site is made before the apps are ready

        inbox = selectors.inbox(request.user, timezone.localdate())
        return super().index(request, {"inbox": inbox, **(extra_context or {})})

    def has_permission(self, request):
        user = request.user
        verified = not needs_second_factor(user) or user.is_verified()
        return super().has_permission(request) and verified
