from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from review import notifications, scheduling
from review.models import Notification


class Command(BaseCommand):
    help = (
        "Take the publishing and withdrawals scheduled up to now, then send the workflow's queued e-mails, "
        "retrying those that failed. Run it every few minutes from cron."
    )

    def handle(self, *args, verbosity, **options):
        for ran in scheduling.run_due():
            if verbosity or ran.refused:
                self.stdout.write(scheduling.describe(ran))
        waiting = Notification.objects.filter(sent_at__isnull=True, attempts__lt=notifications.MAX_ATTEMPTS).count()
        sent, failed = notifications.send()
        unsent = Notification.objects.filter(sent_at__isnull=True)
        given_up = unsent.filter(attempts__gte=notifications.MAX_ATTEMPTS).count()
        held = unsent.filter(claimed_until__gt=timezone.now()).count()
        if verbosity or failed:
            self.stdout.write(
                f"{waiting} waiting: {sent} sent, {failed} failed; "
                f"{given_up} given up after {notifications.MAX_ATTEMPTS} attempts"
                + (
                    f"; {held} held by another run (or one that stopped: sent once its claim runs out)."
                    if held
                    else "."
                )
            )
        if failed:
            raise CommandError(f"{failed} e-mail(s) could not be sent; they will be retried on the next run.")
