"""The public pages the accessibility and HTML checks visit, on the demo content."""

GLUCAGONOMA = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma"
PAGES = {
    "home": "/en/",
    "topic": "/en/neuroendocrine-cancer/",
    "glucagonoma-en": f"/en/{GLUCAGONOMA}/",
    "glucagonoma-cy": f"/cy/{GLUCAGONOMA}/",
    "glucagonoma-ar": f"/ar/{GLUCAGONOMA}/",
    "search": "/en/search/?q=tumour",
    "not-found": "/en/no-such-page/",
}
