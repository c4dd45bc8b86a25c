"""The workflow in the admin, one job per module: the pages list and form with the
workflow (``pages``) and its step screens (``steps``), the sign-off ledger and its
CSV (``ledger``), the workflow log and e-mail queue (``log``), and people (``people``)."""

from review.admin import ledger, log, pages, people  # noqa: F401 (each registers its admins)
