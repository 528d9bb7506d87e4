"""The one error type a user sees: a problem with their configuration or their data."""

from __future__ import annotations

import difflib


class UserError(Exception):
    """One or more problems the site author can fix, each a single line naming its place.

    Front ends (the MkDocs hook, the CLI) print the lines and stop; they never show a
    traceback for a `UserError`. Bugs are any other exception and keep their traceback.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def shorten(value: object, limit: int = 40) -> str:
    """`repr` of a user's value, cut to `limit` characters so an error stays on one line."""
    text = repr(value)
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(word: str, options: tuple[str, ...] | list[str]) -> str:
    """' (did you mean 'x'?)' for the closest option to a misspelt `word`, else ''."""
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if not match:
        lowered = {option.lower().strip(): option for option in options}
        match = [lowered[word.lower().strip()]] if word.lower().strip() in lowered else []
    return f" (did you mean {match[0]!r}?)" if match else ""
