"""The error type every layer understands: a message a person can act on, and the field it is about."""


class LeadopsError(Exception):
    """A refused operation: nothing was changed, and ``message`` says why."""

    def __init__(self, message: str, *, field: str = "", code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return self.message
