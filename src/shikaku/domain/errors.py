"""The one error type of the domain layer: every rule explains itself in Japanese and English."""

from __future__ import annotations


class DomainError(ValueError):
    """A rule was broken. `ja` is shown to staff and employers, `en` to developers and logs.

    Messages must never contain a My Number, only which part of the input is wrong.
    """

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(f"{ja} ({en})")
        self.ja = ja
        self.en = en

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        """Picklable, so a parser process can hand the error to the importer."""
        return (type(self), (self.ja, self.en))
