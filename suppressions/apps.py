from django.apps import AppConfig


class SuppressionsConfig(AppConfig):
    name = "suppressions"
    verbose_name = "Suppressions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The core's explain and dial check must see an entry the moment it commits, and hold calls while an
        # upload is read; the suppression rules live here, above the core, so they plug into its checks.
        from campaigns.selectors.explaining import live_check_register
        from suppressions.registries import REGISTRY_LISTED, REGISTRY_STALE
        from suppressions.selectors import LIVE_ENTRIES, UPLOADS_PENDING

        live_check_register(LIVE_ENTRIES)
        live_check_register(UPLOADS_PENDING)
        # The national Do-Not-Call registry and state lists, and the freshness of the national copy.
        live_check_register(REGISTRY_LISTED)
        live_check_register(REGISTRY_STALE)
