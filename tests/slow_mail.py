"""An e-mail backend for tests of real processes: each message written to a file, slowly,
as a distant mail server answers (EMAIL_BACKEND=tests.slow_mail.EmailBackend, EMAIL_FILE_PATH)."""

import time

from django.core.mail.backends.filebased import EmailBackend as FileBackend

SECONDS_PER_MESSAGE = 0.05


class EmailBackend(FileBackend):
    def send_messages(self, email_messages):
        time.sleep(SECONDS_PER_MESSAGE * len(email_messages))
        return super().send_messages(email_messages)
