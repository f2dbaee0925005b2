from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Lead import and lead quality: CRM exports in, junk kept out, fit rules, scrubbed before the pool."""

    name = "campaigns.imports"
    label = "imports"
    verbose_name = "Lead imports and fit rules"
    default_auto_field = "django.db.models.BigAutoField"
