from django.core.management.base import BaseCommand, CommandError

from review import notifications
from review.models import Notification


class Command(BaseCommand):
    help = "Send the workflow's queued e-mails, retrying those that failed. Run it every few minutes from cron."

    def handle(self, *args, verbosity, **options):
        waiting = Notification.objects.filter(sent_at__isnull=True, attempts__lt=notifications.MAX_ATTEMPTS).count()
        sent, failed = notifications.send()
        given_up = Notification.objects.filter(sent_at__isnull=True, attempts__gte=notifications.MAX_ATTEMPTS).count()
        if verbosity or failed:
            self.stdout.write(
                f"{waiting} waiting: {sent} sent, {failed} failed; "
                f"{given_up} given up after {notifications.MAX_ATTEMPTS} attempts."
            )
        if failed:
            raise CommandError(f"{failed} e-mail(s) could not be sent; they will be retried on the next run.")
