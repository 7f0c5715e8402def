"""Azure actual and amortized exports of the same days count once (Microsoft's method).

The public EA actual (11 rows: 10 usage, 1 reservation purchase) and amortized (28 rows, the 10
usage rows among them) exports of the FinOps toolkit; the end-to-end run through `finops load` is
test_load.py::test_azure_actual_and_amortized_exports_of_the_same_days_count_once.
"""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain.conservation import money_conservation
from finops_assets.domain.sources import azure_cost, azure_datasets
from finops_assets.domain.sources.azure_datasets import ACTUAL, AMORTIZED

FETCHED = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
EXPORT = "finops-toolkit/exports/EA_{}Cost_Small.csv"


def _raw(shared_data, kind: str, name: str | None = None) -> pl.DataFrame:
    path = shared_data / EXPORT.format(kind)
    return azure_cost.parse(
        path.read_bytes(),
        source_file=name or path.name,
        ingestion_key=f"key-{kind}",
        fetched_at=FETCHED,
    ).rows


@pytest.mark.parametrize(("kind", "dataset"), [("Actual", ACTUAL), ("Amortized", AMORTIZED)])
def test_the_dataset_is_told_by_the_export_name_and_without_it_by_the_rows(
    shared_data, kind, dataset
):
    assert set(_raw(shared_data, kind)["export_dataset"]) == {dataset}
    # Renamed (no dataset in the name): the rows tell. Actual has a reservation purchase,
    # amortized has reservation and savings plan usage with a cost.
    assert set(_raw(shared_data, kind, name="part_0_0001.csv")["export_dataset"]) == {dataset}


def test_a_file_the_rows_cannot_tell_has_no_dataset(shared_data):
    raw = _raw(shared_data, "Actual", name="part_0_0001.csv")
    on_demand = raw.filter(pl.col("pricing_model") == "OnDemand")
    assert azure_datasets.dataset_of_export("part_0_0001.csv", on_demand) is None


def test_both_exports_keep_every_amortized_row_and_only_the_actual_commitment_purchases(
    shared_data,
):
    both = pl.concat([_raw(shared_data, "Actual"), _raw(shared_data, "Amortized")])
    counted, aside = azure_datasets.split_counted_once(both)
    assert counted.height == 28 + 1 and aside.height == 10
    purchase = counted.filter(pl.col("export_dataset") == ACTUAL)
    assert purchase.select("charge_type", "pricing_model", "cost").rows() == [
        ("Purchase", "Reservation", Decimal("3.25"))
    ]
    assert set(aside["charge_type"]) == {"Usage"}
    # The ten rows set aside are the same charges the amortized export holds: none lost.
    same = ["usage_date", "subscription_id", "meter", "resource_id", "cost"]
    amortized = counted.filter(pl.col("export_dataset") == AMORTIZED)
    assert aside.select(same).join(amortized.select(same), on=same, how="anti").is_empty()
    assert counted["cost"].sum() + aside["cost"].sum() == both["cost"].sum()


@pytest.mark.parametrize("kind", ["Actual", "Amortized"])
def test_one_export_alone_keeps_all_its_rows_with_a_note(shared_data, kind):
    raw = _raw(shared_data, kind)
    counted, aside = azure_datasets.split_counted_once(raw)
    assert counted.equals(raw) and aside.is_empty()
    note = azure_datasets.datasets_note(raw)
    assert note is not None and note.startswith(f"{kind}Cost export only")


def test_query_api_rows_have_no_dataset_and_are_always_counted(shared_data):
    page = shared_data / "azure-cost-management-query"
    path = sorted(page.glob("*.json"))[0]
    raw = azure_cost.parse(
        path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=FETCHED
    ).rows
    assert raw.height > 0 and raw["export_dataset"].null_count() == raw.height
    with_actual = pl.concat([raw, _raw(shared_data, "Actual"), _raw(shared_data, "Amortized")])
    counted, _ = azure_datasets.split_counted_once(with_actual)
    assert counted.filter(pl.col("export_dataset").is_null()).height == raw.height
    assert azure_datasets.datasets_note(raw) is None


def test_rows_set_aside_are_quarantine_records_that_keep_money_conserved(shared_data):
    both = pl.concat([_raw(shared_data, "Actual"), _raw(shared_data, "Amortized")])
    counted, aside = azure_datasets.split_counted_once(both)
    source = azure_cost.to_focus(both)
    aside_focus = azure_cost.to_focus(aside)
    quarantine = azure_datasets.counted_elsewhere_quarantine(aside_focus)
    assert set(quarantine["x_reason"]) == {azure_datasets.COUNTED_IN_AMORTIZED}
    report = money_conservation(source, azure_cost.to_focus(counted), quarantine)
    assert report["difference"].to_list() == [0] * report.height
    # Without them the same check fails: ten rows' money would be missing.
    broken = money_conservation(source, azure_cost.to_focus(counted), quarantine.clear())
    assert (broken["difference"] != 0).any()
