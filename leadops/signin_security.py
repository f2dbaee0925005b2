"""django-axes as the back office names it: its tables (sign-in attempts, failures, logs) under "Sign-in
security", not "Axes". ``INSTALLED_APPS`` names this config instead of ``axes``."""

from axes.apps import AppConfig as AxesAppConfig


class SignInSecurityConfig(AxesAppConfig):
    verbose_name = "Sign-in security"
