"""Reference-data resources: where FX rates come from (shipped ECB history or a CSV path)."""

from pathlib import Path

from dagster import ConfigurableResource

from finops_assets.domain.reference import ECB_RATES_FILE, reference_text


class FxRatesResource(ConfigurableResource):
    """ECB-format daily rates: the shipped history by default, or a CSV file path."""

    csv_path: str = ""
    lookback_days: int = 7

    def csv_text(self) -> str:
        if self.csv_path:
            return Path(self.csv_path).read_text(encoding="utf-8")
        return reference_text(ECB_RATES_FILE)
