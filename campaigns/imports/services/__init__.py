"""Writes of lead import and lead quality."""

from campaigns.imports.services.fit import (
    FIT_RULE_FIELDS,
    FitRuleSpec,
    campaign_fit_evaluate,
    fit_rules_changed,
    fit_rules_preview,
    fit_rules_save,
)
from campaigns.imports.services.importing import (
    Preview,
    import_outcome,
    lead_import_preview,
    lead_import_run,
    scrub,
)
from campaigns.imports.services.uploads import (
    lead_import_confirm,
    lead_import_create,
    lead_import_enqueue,
    lead_import_remap,
)

__all__ = [
    "FIT_RULE_FIELDS",
    "FitRuleSpec",
    "Preview",
    "campaign_fit_evaluate",
    "fit_rules_changed",
    "fit_rules_preview",
    "fit_rules_save",
    "import_outcome",
    "lead_import_confirm",
    "lead_import_create",
    "lead_import_enqueue",
    "lead_import_preview",
    "lead_import_remap",
    "lead_import_run",
    "scrub",
]
