"""The sign-off workflow's data. The roles it relies on are created by migrations."""
