"""The editorial roles. Each is a group; a person may hold several."""

EDITOR = "Editor"
CLINICAL_REVIEWER = "Clinical reviewer"
PUBLISHER = "Publisher"

ALL = (EDITOR, CLINICAL_REVIEWER, PUBLISHER)
