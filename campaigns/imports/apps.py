from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Lead import and lead quality: CRM exports in, junk kept out, fit rules, scrubbed before the pool."""

    name = "campaigns.imports"
    label = "imports"
    verbose_name = "Lead imports and fit rules"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The core's services scrub every lead, contact, number and email they add; the suppression
        # matching and fit rules live here, above the core, so they plug into its scrub.
        from campaigns.imports.services.importing import scrub_step
        from campaigns.imports.services.purging import contacts_junk_judge
        from campaigns.services import scrub_step_register

        scrub_step_register(scrub_step)
        # A contact added by hand is judged junk by the same rules as an import's row.
        scrub_step_register(contacts_junk_judge)
        # The lead report counts junk rows (which never became leads) through lead import.
        from campaigns.imports.selectors import junk_rows_counted
        from campaigns.selectors.reports import junk_counter_register

        junk_counter_register(junk_rows_counted)
