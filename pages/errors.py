"""Publishing's refusals; each message says why, for the person who asked."""


class PublishingError(Exception):
    """Publishing was refused; the message says why, for the person who asked."""


class UnknownLanguage(PublishingError):
    """The language is not one of the site's."""


class NotTranslated(PublishingError):
    """A part of the page has no wording in the language, nor signed-off wording to show instead."""
