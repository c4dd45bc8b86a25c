import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from review import reminders, scheduling


def parse_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date: use YYYY-MM-DD, such as 2026-11-25.") from None


class Command(BaseCommand):
    help = (
        "E-mail each page owner one digest of their live page versions whose clinical review is coming up, "
        "due or overdue. Run it daily; reruns and concurrent runs send nothing twice. It first takes the "
        "publishing and withdrawals scheduled up to now (as send_notifications does)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would be sent; send and record nothing.")
        parser.add_argument("--date", type=parse_date, help="Act as if today were this day (YYYY-MM-DD).")

    def handle(self, *args, dry_run, date, verbosity, **options):
        today = date or timezone.localdate()
        if dry_run:
            if due := scheduling.waiting_due():
                self.stdout.write(f"{due} scheduled step(s) due; dry run: none taken.")
        else:
            for ran in scheduling.run_due():
                self.stdout.write(scheduling.describe(ran))
        leads = ", ".join(str(days) for days in reminders.lead_times())
        if verbosity >= 2:
            self.stdout.write(f"Reviews due by {today} or within {leads} days of it")
        outcome = reminders.run(today, dry_run=dry_run)
        for line in outcome.lines:
            if verbosity >= 2 or not line.startswith("  "):
                self.stdout.write(line)
        if dry_run:
            summary = (
                f"{today}: {outcome.due} reminder(s) due; dry run: would send {outcome.digests} e-mail(s); "
                f"nothing sent or recorded."
            )
        else:
            summary = (
                f"{today}: {outcome.due} reminder(s) due; {outcome.sent} e-mail(s) sent, {outcome.failed} failed; "
                f"{outcome.already_sent} already sent earlier."
            )
        if outcome.held:
            minutes = max(1, settings.REVIEW_REMINDER_CLAIM_SECONDS // 60)
            summary += (
                f" {outcome.held} being sent by another run, or left by one that stopped: "
                f"a later run takes them over {minutes} minute(s) after that run's last digest."
            )
        if outcome.unaddressed:
            summary += f" {outcome.unaddressed} with no address (set REVIEW_REMINDER_FALLBACK_EMAIL)."
        if verbosity >= 1 or outcome.failed or outcome.unaddressed:
            self.stdout.write(summary)
        if outcome.failed or outcome.unaddressed:
            raise CommandError("Some reminders were not sent; failed ones are retried on the next run.")
