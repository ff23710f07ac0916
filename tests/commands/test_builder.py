"""Templates, free text and user templates: the exact text, the reply type, the danger."""

from __future__ import annotations

import json

import pytest

from app.commands.builder import (
    LIBRARY,
    CommandError,
    CommandTemplate,
    Param,
    build,
    build_text,
    load_templates,
    parse_command_text,
    save_templates,
    template,
)

DEV = "794308010642"


@pytest.mark.parametrize(
    ("name", "params", "text", "reply_type", "dangerous"),
    [
        ("version", {}, f"({DEV},1,001,BASE,1)", "BASE1", False),
        ("time", {}, f"({DEV},1,001,BASE,2)", "BASE2", False),
        ("sublocks", {}, f"({DEV},1,001,WLNET,1,0)", "WLNET1", False),
        (
            "bind",
            {"ids": ["E0171E0365", "E0171E0366"]},
            f"({DEV},1,001,WLNET,1,1,2,E0171E0365,E0171E0366)",
            "WLNET1",
            True,
        ),
        (
            "unlock_sublock",
            {"minutes": 5, "sublock": "E0171E0365"},
            f"({DEV},1,001,WLNET,8,1,1,5,E0171E0365)",
            "WLNET8",
            True,
        ),
        ("p01", {}, "(P01)", "P01", False),
        ("p02", {}, "(P02)", "P02", False),
        ("p04", {"awake_s": 60, "sleep_min": 30}, "(P04,1,60,30)", "P04", False),
        ("p15", {}, "(P15)", "P15", True),
        ("p43", {"password": "123456"}, "(P43,123456)", "P43", True),
    ],
)
def test_library_text_name_and_danger(name, params, text, reply_type, dangerous) -> None:
    cmd = build(template(name), DEV, 1, **params)
    assert cmd.text == text
    assert cmd.name == reply_type
    assert cmd.dangerous is dangerous
    assert bool(cmd.reason) is dangerous
    assert cmd.template == name


def test_library_covers_the_issue() -> None:
    assert {t.name for t in LIBRARY} >= {
        "version",
        "time",
        "sublocks",
        "bind",
        "unlock_sublock",
        "p01",
        "p02",
        "p04",
        "p15",
        "p43",
    }


def test_serial_is_three_digits_and_short_form_has_none() -> None:
    assert build(template("version"), DEV, 7).serial == "007"
    assert build(template("version"), DEV, "42").text == f"({DEV},1,042,BASE,1)"
    assert build(template("p01"), DEV, 7).serial is None
    with pytest.raises(CommandError):
        build(template("version"), DEV, 1000)


def test_bind_counts_ids_itself_and_accepts_a_string() -> None:
    cmd = build(template("bind"), DEV, 3, ids="E0171E0365, E0171E0366 E0171E0367")
    assert cmd.params == ("1", "3", "E0171E0365", "E0171E0366", "E0171E0367")


def test_unlock_names_its_sublock() -> None:
    cmd = build(template("unlock_sublock"), DEV, 1, minutes=2, sublock="E0171E0365")
    assert cmd.sublock == "E0171E0365"


@pytest.mark.parametrize(
    ("name", "params", "param", "words"),
    [
        ("p04", {"awake_s": 5}, "awake_s", "10–86400"),
        ("p04", {"awake_s": "sixty"}, "awake_s", "whole number"),
        ("bind", {"ids": "E0171E0365 E0171E0365"}, "ids", "twice"),
        ("bind", {"ids": "E01"}, "ids", "not a sub-lock id"),
        ("bind", {"ids": ""}, "ids", "required"),
        ("unlock_sublock", {"minutes": 5}, "sublock", "required"),
        ("unlock_sublock", {"minutes": 0, "sublock": "E0171E0365"}, "minutes", "1–255"),
        ("p43", {"password": "12,34"}, "password", "commas"),
        ("version", {"bogus": 1}, "bogus", "unknown parameter"),
    ],
)
def test_validation_names_the_parameter(name, params, param, words) -> None:
    with pytest.raises(CommandError) as err:
        build(template(name), DEV, 1, **params)
    assert err.value.param == param
    assert isinstance(err.value, ValueError)
    assert words in str(err.value)


@pytest.mark.parametrize("device", ["", "79/43", "a+b", "x" * 33, "12 34"])
def test_bad_device_ids_are_refused(device: str) -> None:
    with pytest.raises(CommandError, match="device id"):
        build(template("version"), device, 1)


@pytest.mark.parametrize(
    ("text", "sent", "name", "dangerous"),
    [
        ("BASE,1", f"({DEV},1,005,BASE,1)", "BASE1", False),
        ("base,2", f"({DEV},1,005,BASE,2)", "BASE2", False),
        (" WLNET,1,0 ", f"({DEV},1,005,WLNET,1,0)", "WLNET1", False),
        ("P01", "(P01)", "P01", False),
        ("(P04,1,60,30)", "(P04,1,60,30)", "P04", False),
        ("(P15)", "(P15)", "P15", True),
        ("P43,8888", "(P43,8888)", "P43", True),
        (f"({DEV},1,123,BASE,1)", f"({DEV},1,123,BASE,1)", "BASE1", False),
        ("WLNET,8,1,1,5,E0171E0365", f"({DEV},1,005,WLNET,8,1,1,5,E0171E0365)", "WLNET8", True),
        ("WLNET,1,1,1,E0171E0365", f"({DEV},1,005,WLNET,1,1,1,E0171E0365)", "WLNET1", True),
        (
            f"({DEV},1,009,WLNET,8,1,1,5,E0171E0365)",
            f"({DEV},1,009,WLNET,8,1,1,5,E0171E0365)",
            "WLNET8",
            True,
        ),
        ("GPRS,3,foo", f"({DEV},1,005,GPRS,3,foo)", "GPRS3", False),
    ],
)
def test_free_text(text: str, sent: str, name: str, dangerous: bool) -> None:
    cmd = build_text(text, DEV, 5)
    assert cmd.text == sent
    assert cmd.name == name
    assert cmd.dangerous is dangerous
    assert parse_command_text(text).name == name
    assert parse_command_text(text).dangerous is dangerous


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("(P01", "brackets"),
        ("BASE", "numeric index"),
        ("BASE,,1", "empty field"),
        ("WLNET,1,1,3,E0171E0365", "count"),
        ("WLNET,8,1,1,5", "missing"),
        ("P04,1,5,30", "10–86400"),
        ("(123,1,001,BASE,1)", "addressed to 123"),
        (f"({DEV},1,001,base,1)", "upper case"),
    ],
)
def test_free_text_errors(text: str, words: str) -> None:
    with pytest.raises(CommandError, match=words):
        build_text(text, DEV, 1)


def test_user_templates_round_trip(tmp_path) -> None:
    mine = CommandTemplate(
        "gprs",
        "GPRS interval",
        "GPRS",
        "3",
        params=(Param("seconds", "Interval (s)", "int", 10, 3600, default=60),),
    )
    path = tmp_path / "sub" / "templates.json"
    save_templates(path, [mine])
    loaded = load_templates(path)
    assert [t.name for t in loaded] == ["gprs"]
    assert loaded[0].user
    assert build(loaded[0], DEV, 2).text == f"({DEV},1,002,GPRS,3,60)"
    assert load_templates(tmp_path / "none.json") == []


def test_a_saved_template_cannot_hide_an_unlock(tmp_path) -> None:
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            {
                "templates": [
                    {
                        "name": "innocent",
                        "label": "Innocent",
                        "cmd": "WLNET",
                        "index": "8",
                        "fixed": ["1", "1", "5", "E0171E0365"],
                        "dangerous": False,
                    },
                ]
            }
        )
    )
    (t,) = load_templates(path)
    assert t.dangerous
    assert build(t, DEV, 1).dangerous


def test_broken_template_file_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "t.json"
    path.write_text("{nope")
    with pytest.raises(CommandError, match="cannot read templates"):
        load_templates(path)
    path.write_text(json.dumps({"templates": [{"name": "version", "cmd": "BASE", "index": "1"}]}))
    with pytest.raises(CommandError, match="built in"):
        load_templates(path)


def test_with_serial_rebuilds_the_text() -> None:
    cmd = build(template("version"), DEV, 1)
    again = cmd.with_serial(2)
    assert again.text == f"({DEV},1,002,BASE,1)" and again.name == "BASE1"
    assert build(template("p01"), DEV).with_serial(3).text == "(P01)"
