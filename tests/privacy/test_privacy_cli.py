"""`tongban privacy mask`: standard input to standard output, masked."""

from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

from tongban.kit.ids import make_id_number
from tongban.privacy.cli import app

runner = CliRunner()


def test_mask_reads_stdin_and_writes_masked_stdout() -> None:
    person = make_id_number("640425", date(1990, 1, 1), 123)  # fictional
    card = "4367 4201 2345 6781"  # Luhn-valid, not UnionPay: masked thanks to the line above
    text = f"申请人{person}\n电话 +86 139-1234-5678\n银行卡号：\n{card}\n编号{card}\n"
    result = runner.invoke(app, ["mask"], input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"申请人640425********{person[-4:]}\n电话 +86 139-****-5678\n银行卡号：\n"
        f"**** **** **** 6781\n编号{card}\n"
    )


def test_mask_handles_large_input_and_missing_final_newline() -> None:
    line = "联系电话13912345678，其余内容保持不变。\n"
    result = runner.invoke(app, ["mask"], input=line * 20000 + "13800138000")
    assert result.exit_code == 0
    assert result.stdout == "联系电话139****5678，其余内容保持不变。\n" * 20000 + "138****8000"


def test_help_lists_mask() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "mask" in result.stdout
