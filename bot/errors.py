"""Domain errors. They carry codes and parameters; the Swedish text comes from templates."""

from __future__ import annotations

from typing import Any

from bot.store.space import StoreFull

__all__ = ["FieldError", "NotFound", "Refusal", "StoreFull"]


class Refusal(Exception):
    """An action the actor may not take now (wrong person, wrong state, bad input).

    `code` names a macro in `templates/messages/refusals.j2`; `params` fill it.
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


class FieldError(Exception):
    """Input rejected on named form fields: {field: (code, params)}. Nothing was saved."""

    def __init__(self, errors: dict[str, tuple[str, dict[str, Any]]]) -> None:
        self.errors = errors
        super().__init__(", ".join(f"{k}:{v[0]}" for k, v in errors.items()))

    @classmethod
    def one(cls, field: str, code: str, **params: Any) -> FieldError:
        """An error on one field; the field's key is passed on to the template as `field`."""
        return cls({field: (code, {"field": field, **params})})


class NotFound(Refusal):
    """No case with that reference."""

    def __init__(self, ref: str) -> None:
        super().__init__("case_not_found", ref=ref)

