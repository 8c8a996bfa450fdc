"""Marks words for translation without importing any: pages and mails translate them.

`N_("Open")` is "Open" here; `make i18n-extract` collects it, and the edge (templates,
forms, problem details) hands it to gettext in the reader's language.
"""


def N_(message: str) -> str:
    """The message unchanged: marked for the catalog, translated where it is shown."""
    return message
