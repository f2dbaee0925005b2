"""The seeded "Ops" and "Ops lead" groups see and may do the whole ops product, not only campaigns and leads:
suppression lists and uploads, lead imports and fit rules, CRM connections and rules (their records, events
and matches are read-only). Deleting stays no one's: nothing here is ever deleted from the admin. Allowing
free-mail domains and public suffixes in a suppression upload (it stops every contact of that domain) is the
Ops lead's alone.

Running ``grant_product`` again adds what is missing and removes nothing an administrator granted.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# app label -> model -> the default permissions both groups hold on it.
PRODUCT_PERMISSIONS = {
    "suppressions": {
        "upload": ("view", "add", "change"),  # add = upload a list; change = remove an upload's entries
        "entry": ("view", "change"),  # change = remove entries (lifts their blocks)
        "rejectedrow": ("view",),
    },
    "imports": {
        "leadimport": ("view", "add", "change"),
        "leadimportissue": ("view",),
        "importedlead": ("view",),
        "fitrule": ("view", "add", "change"),
        "contactjunk": ("view",),
    },
    "crm": {
        "crmconnection": ("view", "add", "change"),
        "crmrule": ("view", "add", "change"),
        "crmrecord": ("view",),
        "crmrecordidentifier": ("view",),
        "crmevent": ("view",),
        "crmmatch": ("view",),
    },
}
OPS_LEAD_ONLY = {"suppressions": ("allow_broad_domains",)}
OPS_GROUPS = ("Ops", "Ops lead")


def _permissions(apps, wanted: dict[str, tuple[str, ...]]) -> list:
    Permission = apps.get_model("auth", "Permission")
    found = []
    for label, codenames in wanted.items():
        # Permissions are created after migrations (post_migrate); a fresh database has none of these yet.
        app_config = apps.get_app_config(label)
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = models_module
        rows = list(Permission.objects.filter(content_type__app_label=label, codename__in=codenames))
        missing = set(codenames) - {p.codename for p in rows}
        if missing:
            raise RuntimeError(f"Missing {label} permissions: {', '.join(sorted(missing))}.")
        found += rows
    return found


def _both_groups() -> dict[str, tuple[str, ...]]:
    return {
        label: tuple(f"{action}_{model}" for model, actions in models.items() for action in actions)
        for label, models in PRODUCT_PERMISSIONS.items()
    }


def grant_product(apps, schema_editor=None):
    Group = apps.get_model("auth", "Group")
    both = _permissions(apps, _both_groups())
    lead_only = _permissions(apps, OPS_LEAD_ONLY)
    for name in OPS_GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*both)
    Group.objects.get(name="Ops lead").permissions.add(*lead_only)


def revoke_product(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for label, codenames in {**_both_groups()}.items():
        codenames = (*codenames, *OPS_LEAD_ONLY.get(label, ()))
        rows = Permission.objects.filter(content_type__app_label=label, codename__in=codenames)
        for group in Group.objects.filter(name__in=OPS_GROUPS):
            group.permissions.remove(*rows)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0021_undo_requests"),
        ("suppressions", "0008_column_mapping_number_sign"),
        ("imports", "0003_junk_judgement_and_purge_log"),
        ("crm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_product, revoke_product)]
