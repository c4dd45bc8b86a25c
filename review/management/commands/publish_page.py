from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from pages import languages as site_languages
from pages.models import Page
from review import services
from review.models import ReviewRequest, State


class Command(BaseCommand):
    help = "Publish the approved version of a page in one or more languages, as a publisher would in the admin."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The page's path, such as neuroendocrine-cancer/glucagonoma.")
        parser.add_argument(
            "--language", action="append", dest="languages", required=True, help="Repeat for each language."
        )
        parser.add_argument("--by", required=True, help="Username of the publisher (needs the publish permission).")

    def handle(self, *args, path, languages, by, **options):
        page = Page.objects.filter(path=path.strip("/")).first()
        if page is None:
            raise CommandError(f"No page at {path!r}.")
        user = get_user_model().objects.filter(username=by).first()
        if user is None:
            raise CommandError(f"No user {by!r}.")
        unknown = [code for code in languages if not site_languages.is_known(code)]
        if unknown:
            raise CommandError(
                f"Unknown language {', '.join(unknown)}: this site has {', '.join(site_languages.codes())}."
            )
        approved = {}
        for code in dict.fromkeys(languages):
            request = (
                ReviewRequest.objects.filter(page=page, language=code, state=State.APPROVED)
                .order_by("-revision__number")
                .first()
            )
            if request is None:
                raise CommandError(f"Nothing approved to publish in {code} for /{page.path}/: it needs sign-off first.")
            approved[code] = request
        for code, request in approved.items():
            try:
                snapshot = services.publish(request=request, user=user)
            except services.WorkflowError as error:
                raise CommandError(f"{code}: {error}") from None
            self.stdout.write(f"Live: /{snapshot.language}/{snapshot.path}/ (revision {request.revision.number})")
