from django.apps import AppConfig


class CrmConfig(AppConfig):
    """CRM integrations: records synced from a customer's CRM, and the customer's rules over them."""

    name = "suppressions.crm"
    label = "crm"
    verbose_name = "CRM integrations"
    default_auto_field = "django.db.models.BigAutoField"
