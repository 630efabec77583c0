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


class FieldError(DomainError):
    """A refusal about one input: `field` names it (a form field, a part of a key), so a
    form can show the message beside it. The service layer's refusals are these."""

    def __init__(self, ja: str, en: str, field: str = "") -> None:
        super().__init__(ja, en)
        self.field = field

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:  # type: ignore[override]
        return (type(self), (self.ja, self.en, self.field))
