"""Close codes (GATEWAY.md §3.10, §4.1) and close frames (§3.9, RFC 6455 §7.4)."""

from __future__ import annotations

from typing import Any

import pytest

from rxgateway.protocol import FATAL_CLOSE_CODES, CloseAction, CloseCode, CloseFrame, close_action

FATAL = {4004, 4010, 4011, 4012, 4013, 4014}
REIDENTIFY = {4003, 4007, 4009}
RESUME = {4000, 4001, 4002, 4005, 4008}


def test_every_code_is_classified() -> None:
    assert {int(c) for c in CloseCode} == FATAL | REIDENTIFY | RESUME
    assert 4006 not in {int(c) for c in CloseCode}
    assert FATAL_CLOSE_CODES == FATAL


@pytest.mark.parametrize("code", sorted(FATAL | REIDENTIFY | RESUME))
def test_actions(code: int) -> None:
    expected = (
        CloseAction.FATAL if code in FATAL else CloseAction.REIDENTIFY if code in REIDENTIFY else CloseAction.RESUME
    )
    assert close_action(code) is expected
    assert CloseCode(code).action is expected
    assert CloseCode(code).is_fatal == (code in FATAL)


@pytest.mark.parametrize("code", [None, 1000, 1001, 1006, 1011, 4006, 4015, 4999, 5000, 0])
def test_no_code_and_unknown_codes_resume(code: int | None) -> None:
    assert close_action(code) is CloseAction.RESUME


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4000, 4999])
def test_close_frame_accepts_sendable_codes(code: int) -> None:
    assert CloseFrame(code).code == code


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535])
def test_close_frame_refuses_unsendable_codes(code: int) -> None:
    with pytest.raises(ValueError, match="RFC 6455"):
        CloseFrame(code)


@pytest.mark.parametrize("code", [True, "1000", 1000.0, None])
def test_close_frame_code_type(code: Any) -> None:
    with pytest.raises(TypeError):
        CloseFrame(code)


def test_close_frame_reason() -> None:
    assert CloseFrame(4000, "r" * 123).reason == "r" * 123
    with pytest.raises(ValueError, match="123 bytes"):
        CloseFrame(4000, "r" * 124)
    with pytest.raises(ValueError, match="123 bytes"):
        CloseFrame(4000, "\u20ac" * 42)  # 126 bytes of UTF-8
    with pytest.raises(TypeError, match="reason"):
        CloseFrame(4000, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reason"):
        CloseFrame(4000, b"bytes")  # type: ignore[arg-type]


def test_close_frame_session() -> None:
    assert CloseFrame.NORMAL == CloseFrame(1000, "closing connection")
    assert CloseFrame.RESUME == CloseFrame(4000, "resuming connection")
    assert not CloseFrame.NORMAL.keeps_session
    assert not CloseFrame(1001).keeps_session
    assert CloseFrame.RESUME.keeps_session
    assert CloseFrame(3000).keeps_session
