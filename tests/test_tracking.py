import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.tickets.tracking import (
    ALPHABET,
    CODE_LENGTH,
    InvalidTrackingCode,
    format_code,
    generate_code,
    normalize_code,
)


def test_generated_code_is_valid_and_displayed_in_groups_of_four():
    code = generate_code()
    assert len(code) == CODE_LENGTH == 12
    assert normalize_code(code) == code
    shown = format_code(code)
    assert shown.count("-") == 2 and shown.replace("-", "") == code


def test_codes_carry_at_least_50_bits_of_randomness():
    # 11 random symbols from a 32-letter alphabet, plus the check character.
    assert len(ALPHABET) == 32
    assert (CODE_LENGTH - 1) * 5 >= 50
    assert len({generate_code() for _ in range(2000)}) == 2000


@pytest.mark.parametrize("typed", [
    "{g}", "{g_lower}", " {g} ", "{g_spaced}",
])
def test_typed_code_is_forgiving_about_case_spaces_and_hyphens(typed):
    code = generate_code()
    grouped = format_code(code)
    text = typed.format(g=grouped, g_lower=grouped.lower(), g_spaced=grouped.replace("-", " "))
    assert normalize_code(text) == code


def test_letters_people_confuse_with_digits_are_read_as_digits():
    code = generate_code()
    lookalike = code.replace("1", "I").replace("0", "O")
    assert normalize_code(lookalike.lower()) == code


@given(st.integers(min_value=0, max_value=CODE_LENGTH - 1), st.integers(1, 31), st.randoms())
def test_check_character_catches_every_single_character_typo(position, shift, rnd):
    code = generate_code()
    wrong = ALPHABET[(ALPHABET.index(code[position]) + shift) % 32]
    typo = code[:position] + wrong + code[position + 1:]
    with pytest.raises(InvalidTrackingCode):
        normalize_code(typo)


def test_check_character_catches_swaps_of_neighbours_in_nearly_all_cases():
    caught = total = 0
    for _ in range(300):
        code = generate_code()
        for i in range(CODE_LENGTH - 1):
            if code[i] == code[i + 1]:
                continue
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
            total += 1
            try:
                normalize_code(swapped)
            except InvalidTrackingCode:
                caught += 1
    assert caught / total > 0.99


@pytest.mark.parametrize("text", ["", "ABC", "K7QM-2XDP-9RT", "K7QM-2XDP-9RTAA", "K7QM-2XDP-9RT!",
                                  "UUUU-UUUU-UUUU"])
def test_malformed_codes_are_rejected(text):
    with pytest.raises(InvalidTrackingCode):
        normalize_code(text)
