"""The one exception type that reaches users as a clear one-line message instead of a traceback."""


class WorkbenchError(Exception):
    """A problem the user can fix. The message names the file (and line) and says what to do.

    The CLI prints it as ``error: <message>`` and exits with ``exit_code``.
    """

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


def json_error_text(exc) -> str:
    """What a ``json.JSONDecodeError`` says, with its column, as one phrase: "Expecting ',' delimiter at column
    12", "Unterminated string starting at column 46" (its message may already end in "at")."""
    return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"
