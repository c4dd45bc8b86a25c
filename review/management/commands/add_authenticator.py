import io
from base64 import b32encode

import qrcode
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Set up an authenticator app (TOTP) for a person's two-factor sign-in: prints a QR code to scan "
        "and the key to type in by hand. Replaces their existing authenticator with --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Authenticator app", help="What to call the device in the admin.")
        parser.add_argument(
            "--replace", action="store_true", help="Remove the person's other authenticators (a lost phone)."
        )

    def handle(self, *args, username, name, replace, **options):
        users = get_user_model()._default_manager
        try:
            user = users.get_by_natural_key(username)
        except users.model.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        longest = TOTPDevice._meta.get_field("name").max_length
        if not name.strip() or len(name) > longest:
            raise CommandError(f"--name must be 1 to {longest} characters.")
        with transaction.atomic():
            existing = TOTPDevice.objects.select_for_update().filter(user=user)
            removed = len(existing)
            if removed and not replace:
                raise CommandError(
                    f"{username} already has an authenticator; use --replace to remove it and set up a new one."
                )
            existing.delete()
            device = TOTPDevice.objects.create(user=user, name=name.strip(), confirmed=True)
        url = device.config_url
        code = qrcode.QRCode(border=1)
        code.add_data(url)
        picture = io.StringIO()
        code.print_ascii(out=picture, invert=True)
        self.stdout.write(picture.getvalue())
        self.stdout.write(f"Scan this with {username}'s authenticator app, or type in the key by hand:")
        self.stdout.write(f"  issuer  {settings.OTP_TOTP_ISSUER}")
        self.stdout.write(f"  key     {device_key(device)}")
        self.stdout.write(f"  address {url}")
        if removed:
            self.stdout.write(f"Removed {removed} earlier authenticator(s).")
        self.stdout.write(self.style.SUCCESS(f"{username} now signs in with a code from that app."))


def device_key(device: TOTPDevice) -> str:
    """The key in base 32, in groups of four, as authenticator apps ask for it."""
    key = b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
