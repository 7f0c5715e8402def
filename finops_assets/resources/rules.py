"""Where the allocation rules come from: the file shipped in the package, or a path."""

from pathlib import Path

from dagster import ConfigurableResource

from finops_assets.domain.rules import SHIPPED_RULES_PATH, AllocationRules, load_rules


class RulesResource(ConfigurableResource):
    """The allocation rules YAML: the shipped config by default, or `path`."""

    path: str = ""

    def file(self) -> Path:
        return Path(self.path) if self.path else SHIPPED_RULES_PATH

    def describe(self) -> str:
        return str(self.file())

    def load(self) -> AllocationRules:
        """Parse and validate the rules; a RulesError names the rule and the problem."""
        return load_rules(self.file().read_text(encoding="utf-8"))
