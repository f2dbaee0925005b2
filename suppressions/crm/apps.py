from django.apps import AppConfig


class CrmConfig(AppConfig):
    """CRM integrations: records synced from a customer's CRM, and the customer's rules over them."""

    name = "suppressions.crm"
    label = "crm"
    verbose_name = "CRM integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Qualify offers the records a lead's company may already be; a CRM record marked as a customer is one,
        # and the CRM lives above the core, so it plugs into the core's list.
        from campaigns.selectors.opportunities import existing_record_finder_register
        from suppressions.crm.selectors import existing_customer_records

        existing_record_finder_register(existing_customer_records)
