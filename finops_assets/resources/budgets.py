"""Where budgets are configured: the YAML shipped in the package, or a path."""

from pathlib import Path

from dagster import ConfigurableResource

from finops_assets.domain.budgets import Budget, load_budgets

SHIPPED_BUDGETS = Path(__file__).resolve().parents[1] / "config" / "budgets.yaml"


class BudgetsResource(ConfigurableResource):
    """Budgets YAML: the shipped config by default, or `path`."""

    path: str = ""

    def load(self, base_currency: str) -> list[Budget]:
        """Parse and validate; a BudgetConfigError names the budget and the problem."""
        file = Path(self.path) if self.path else SHIPPED_BUDGETS
        return load_budgets(file.read_text(encoding="utf-8"), base_currency)
