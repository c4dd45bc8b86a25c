"""The workflow's vocabulary of refusals: every step that is refused raises one of
these, with a message (translated) for the person who asked."""

from pages.errors import PublishingError


class WorkflowError(Exception):
    """A step was refused; the message says why, for the person who asked."""


class NotAllowed(WorkflowError):
    """The person may not take this step (the admin answers 403)."""


class CannotPublish(WorkflowError):
    """Publishing refused the wording (untranslated, unknown language, markup the site
    would drop...): ``error`` is publishing's own error, of its own type."""

    def __init__(self, error: PublishingError):
        super().__init__(str(error))
        self.error = error
