import pytest
from vouchers.domain.errors import InvalidAmount
from vouchers.domain.fund import MAX_SINGLE_ALLOCATION_CENTS, Fund


def test_allocating_a_fund_records_the_source_and_amount() -> None:
    fund = Fund.allocate("096004", "state_transfer", "OCDPC 658/2020", 12_345_600)
    assert fund.allocated_cents == 12_345_600
    assert fund.sources == [("state_transfer", "OCDPC 658/2020", 12_345_600)]
    assert [type(e).__name__ for e in fund.collect_events()] == ["Allocated"]


def test_a_top_up_adds_to_the_allocated_money() -> None:
    fund = Fund.allocate("096004", "state_transfer", "OCDPC 658/2020", 1_000_00)
    fund.top_up("donation", "Fondazione Cassa di Risparmio di Biella", 250_00)
    assert fund.allocated_cents == 1_250_00
    assert fund.version == 2


@pytest.mark.parametrize("amount", [0, -100])
def test_a_non_positive_amount_is_refused(amount: int) -> None:
    with pytest.raises(InvalidAmount, match="must be positive"):
        Fund.allocate("096004", "donation", "x", amount)


def test_a_float_amount_is_refused_because_money_is_integer_cents() -> None:
    with pytest.raises(InvalidAmount, match="integer euro cents"):
        Fund.allocate("096004", "donation", "x", 10.5)  # type: ignore[arg-type]


def test_a_refused_top_up_changes_nothing() -> None:
    fund = Fund.allocate("096004", "donation", "x", 100)
    fund.collect_events()
    with pytest.raises(InvalidAmount, match="cents vs euros"):
        fund.top_up("donation", "y", MAX_SINGLE_ALLOCATION_CENTS + 1)
    assert fund.allocated_cents == 100
    assert fund.collect_events() == []
