"""Fill ``Lead.stage`` for the leads that existed before it: one UPDATE, the same rule the recompute uses."""

from django.db import migrations


def fill_stages(apps, schema_editor):
    # The rule's subqueries read the blocks, calls and meetings tables as they are at this migration.
    from campaigns.rules import lead_stage_expression

    Lead = apps.get_model("campaigns", "Lead")
    Lead.objects.using(schema_editor.connection.alias).update(stage=lead_stage_expression())


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0010_lead_stage")]

    operations = [migrations.RunPython(fill_stages, migrations.RunPython.noop)]
