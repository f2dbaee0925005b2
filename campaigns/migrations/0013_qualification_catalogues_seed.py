"""Give every existing customer the default lost reasons and every existing campaign the default consideration
stages, as ``customer_create`` and ``campaign_create`` now do: one INSERT each."""

from django.db import migrations

LOST_REASONS = [
    ("Price", False),
    ("Timing", False),
    ("Competitor", False),
    ("No budget", False),
    ("No decision maker", False),
    ("Other", True),
]  # campaigns.services.catalogues.DEFAULT_LOST_REASONS when this was written
CONSIDERATION_STAGES = ["Awareness", "Consideration", "Decision"]  # …DEFAULT_CONSIDERATION_STAGES


def seed(apps, schema_editor):
    db = schema_editor.connection.alias
    Customer, Campaign = apps.get_model("campaigns", "Customer"), apps.get_model("campaigns", "Campaign")
    LostReason = apps.get_model("campaigns", "LostReason")
    ConsiderationStage = apps.get_model("campaigns", "ConsiderationStage")
    LostReason.objects.using(db).bulk_create(
        LostReason(customer_id=pk, label=label, needs_note=needs_note, sort_order=index)
        for pk in Customer.objects.using(db).values_list("pk", flat=True)
        for index, (label, needs_note) in enumerate(LOST_REASONS)
    )
    ConsiderationStage.objects.using(db).bulk_create(
        ConsiderationStage(campaign_id=pk, label=label, sort_order=index)
        for pk in Campaign.objects.using(db).values_list("pk", flat=True)
        for index, label in enumerate(CONSIDERATION_STAGES)
    )


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0012_qualification_catalogues")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
