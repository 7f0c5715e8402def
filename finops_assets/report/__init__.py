"""The report stage: the FinOps dashboard and showback files per billing month."""
