"""NHS numbers: the identifier system, normalising as exports write them, the check digit.

An NHS number is ten digits, the last a modulus 11 check digit (NHS Data Dictionary, "NHS
NUMBER"): each of the first nine digits is weighted 10 down to 2, the sum's remainder after
dividing by 11 is taken from 11, and 11 becomes 0; 10 means the number is not valid.
"""

from __future__ import annotations

__all__ = ["NHS_NUMBER", "nhs_number_problem", "normal_nhs_number"]

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"


def normal_nhs_number(value: str) -> str:
    """The number as ten digits: the spaces and dashes of `943 476 5919` removed."""
    return "".join(value.replace("-", " ").split())


def nhs_number_problem(value: str) -> str | None:
    """Why a normalised `value` is not an NHS number, or None when it is one."""
    if len(value) != 10 or not value.isdigit():
        return "an NHS number is 10 digits"
    total = sum(
        int(digit) * weight for digit, weight in zip(value[:9], range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10 or check != int(value[9]):
        return "not a valid NHS number: its check digit (modulus 11) does not match"
    return None
