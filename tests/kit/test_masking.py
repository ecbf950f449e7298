from __future__ import annotations

from tongban.kit.masking import mask_id_number, mask_name, mask_phone


def test_identity_number_keeps_first_six_and_last_four() -> None:
    assert mask_id_number("640425199003151234") == "640425********1234"
    assert mask_id_number("") == ""


def test_phone_keeps_three_and_four() -> None:
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("+8613912345678") == "139****5678"


def test_name_keeps_the_surname() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("王小明") == "王**"
    assert mask_name("欧阳娜娜") == "欧阳**"
    assert mask_name("欧阳") == "欧*"
