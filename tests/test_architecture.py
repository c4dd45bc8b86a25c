"""The house's layout as rules: dependencies point one way (review builds on pages,
never back), and each per-language fact comes from the one table of languages."""

import ast
from pathlib import Path

from pages import languages

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pages_never_reaches_back_into_review():
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path) if name.split(".")[0] == "review")
        for path in (ROOT / "pages").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    templates = [
        str(path.relative_to(ROOT))
        for folder in ("templates/pages", "templates/admin/pages")
        for path in (ROOT / folder).rglob("*.html")
        if "review/" in path.read_text()
    ]
    assert templates == []


def test_each_language_fact_comes_from_the_one_table():
    assert languages.local_name("cy") == "Cymraeg"
    assert languages.search_configuration("en") == "english"
    assert languages.search_configuration("cy") == "simple"  # PostgreSQL has no Welsh stemmer
    assert languages.open_graph_locale("ar") == "ar_AR"
    assert languages.direction("ar") == "rtl" and languages.direction("cy") == "ltr"
    assert set(languages.codes()) <= set(languages.AVAILABLE)
