from django.apps import AppConfig


class SuppressionsConfig(AppConfig):
    name = "suppressions"
    verbose_name = "Suppressions"
    default_auto_field = "django.db.models.BigAutoField"
