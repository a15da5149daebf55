import pytest

from app.tickets.contact import ResidentContact, normalize_email, normalize_rut


@pytest.mark.parametrize("typed, expected", [
    ("12.345.678-5", "12345678-5"),
    ("12345678-5", "12345678-5"),
    ("123456785", "12345678-5"),
    ("7.654.321-6", "7654321-6"),
    ("10.000.013-k", "10000013-K"),
])
def test_valid_rut_is_normalised(typed, expected):
    assert normalize_rut(typed) == expected


@pytest.mark.parametrize("typed", ["12.345.678-9", "12.345.678-K", "abc", "1-1-1", ""])
def test_rut_with_wrong_check_digit_or_shape_is_rejected(typed):
    with pytest.raises(ValueError):
        normalize_rut(typed)


def test_email_is_validated_without_network():
    assert normalize_email("Rosa@Correo.CL") == "Rosa@correo.cl"
    with pytest.raises(ValueError):
        normalize_email("rosa@")


def test_contact_without_any_detail_is_anonymous():
    assert ResidentContact().is_anonymous
    assert not ResidentContact(phone="+56 9 1234 5678").is_anonymous
