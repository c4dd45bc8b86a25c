from django.core.management.commands import makemessages


class Command(makemessages.Command):
    # The project's modules call gettext as _t beside gettext_lazy as _: both are messages.
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_t"]
