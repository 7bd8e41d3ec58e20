from forms.values import display_value


def test_every_stored_code_has_a_chinese_name() -> None:
    shown = [display_value(v) for v in ("yes", "no", "blank", "uncertain", "signed", "empty", None)]
    assert shown == ["是", "否", "未填", "不确定", "已签", "未签", "未读出"]
    assert all(not any("a" <= ch <= "z" for ch in text) for text in shown)


def test_numbers_are_shown_as_written() -> None:
    assert display_value(12.5) == "12.5"
    assert display_value(30.0) == "30"
    assert display_value("35.8") == "35.8"
