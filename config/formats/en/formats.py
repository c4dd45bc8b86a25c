# One way of writing dates everywhere, the admin and e-mails included: "25 November 2026".
DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
