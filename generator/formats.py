"""Numbers as people read them: thousands separated, decimals by magnitude."""

from __future__ import annotations

from collections.abc import Sequence

# (smallest magnitude, decimals): 1,234 / 42.7 / 0.42
_DECIMALS = ((1000.0, 0), (10.0, 1), (0.0, 2))


def decimals_for(magnitude: float) -> int:
    """Decimals for a value of this size; a value that rounds up into the next size takes that
    size's decimals (9.996 is shown as 10.0, 999.96 as 1,000)."""
    size = abs(magnitude)
    natural = next(i for i, (limit, _) in enumerate(_DECIMALS) if size >= limit)
    if natural > 0:
        limit, _ = _DECIMALS[natural - 1]
        if round(size, _DECIMALS[natural][1]) >= limit:
            return _DECIMALS[natural - 1][1]
    return _DECIMALS[natural][1]


def number(value: float) -> str:
    """One value: whole numbers without decimals, others with decimals by magnitude."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.{decimals_for(value)}f}"


def column(values: Sequence[float]) -> list[str]:
    """A column of values with the same decimals, chosen by its largest magnitude."""
    if all(float(v).is_integer() and abs(v) < 1e15 for v in values):
        return [f"{int(v):,}" for v in values]
    decimals = decimals_for(max(abs(v) for v in values))
    return [f"{v:,.{decimals}f}" for v in values]


def percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def plural(count: int, word: str) -> str:
    """'1 customer', '2 customers' (thousands separated)."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def exact(value: float) -> str:
    """A value exactly as stored, thousands separated: a rule's threshold (12,000 / 2,345.5)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,}"


def entry(value: float) -> str:
    """A value to prefill a form's number field: decimals by magnitude, no separators."""
    return f"{value:.{decimals_for(value)}f}"
