"""Ops and Ops lead keep the qualification catalogues in the admin: they may view, add and change each
customer's projects and lost reasons and each campaign's consideration stages (never delete them: a row is
switched off). Callers get none of these permissions.

Running ``grant_catalogues`` again adds what is missing and removes nothing an administrator granted.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CATALOGUE_MODELS = ("project", "lostreason", "considerationstage")
CATALOGUE_ACTIONS = ("view", "add", "change")
OPS_GROUPS = ("Ops", "Ops lead")


def _codenames() -> list[str]:
    return [f"{action}_{model}" for model in CATALOGUE_MODELS for action in CATALOGUE_ACTIONS]


def grant_catalogues(apps, schema_editor=None):
    # Permissions are created after migrations (post_migrate); a fresh database has none of the new ones yet.
    app_config = apps.get_app_config("campaigns")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = models_module
    Permission, Group = apps.get_model("auth", "Permission"), apps.get_model("auth", "Group")
    codenames = _codenames()
    found = list(Permission.objects.filter(content_type__app_label="campaigns", codename__in=codenames))
    missing = set(codenames) - {p.codename for p in found}
    if missing:
        raise RuntimeError(f"Missing permissions: {', '.join(sorted(missing))}.")
    for name in OPS_GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*found)


def revoke_catalogues(apps, schema_editor):
    Permission, Group = apps.get_model("auth", "Permission"), apps.get_model("auth", "Group")
    found = Permission.objects.filter(content_type__app_label="campaigns", codename__in=_codenames())
    for group in Group.objects.filter(name__in=OPS_GROUPS):
        group.permissions.remove(*found)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0013_qualification_catalogues_seed"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_catalogues, revoke_catalogues)]
