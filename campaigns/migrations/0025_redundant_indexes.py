"""Drop six indexes another index already serves, so that every write of a lead, a contact, a contact's number
or a contact's email writes fewer: the lead's ``lead_contact`` (the contact's foreign-key index is the same),
the lead's campaign (every ``(campaign, …)`` index serves it), the contact's customer (``contact_customer_
last_name``), a contact's number's contact and number (the unique ``(contact, phone)`` and
``contact_phone_by_phone``), a contact's email's contact (the unique ``(contact, email)``). Only the indexes go: the foreign keys stay as they are (Django's own ``AlterField`` would drop and
re-add each constraint, re-checking every row of the table). Names are Django's, the same on both databases."""

import django.db.models.deletion
from django.db import migrations, models

REDUNDANT = {
    "lead_contact": 'CREATE INDEX "lead_contact" ON "campaigns_lead" ("contact_id")',
    "campaigns_lead_campaign_id_40cfb07f": (
        'CREATE INDEX "campaigns_lead_campaign_id_40cfb07f" ON "campaigns_lead" ("campaign_id")'
    ),
    "campaigns_contactemail_contact_id_cadd119d": (
        'CREATE INDEX "campaigns_contactemail_contact_id_cadd119d" ON "campaigns_contactemail" ("contact_id")'
    ),
    "campaigns_contactphone_contact_id_8b2b841f": (
        'CREATE INDEX "campaigns_contactphone_contact_id_8b2b841f" ON "campaigns_contactphone" ("contact_id")'
    ),
    "campaigns_contact_customer_id_67fec8c5": (
        'CREATE INDEX "campaigns_contact_customer_id_67fec8c5" ON "campaigns_contact" ("customer_id")'
    ),
    "campaigns_contactphone_phone_id_5fb7085a": (
        'CREATE INDEX "campaigns_contactphone_phone_id_5fb7085a" ON "campaigns_contactphone" ("phone_id")'
    ),
}


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0024_registry_blocks")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"', reverse_sql=create)
                for name, create in REDUNDANT.items()
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="lead", name="lead_contact"),
                migrations.AlterField(
                    model_name="contactemail",
                    name="contact",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="emails",
                        to="campaigns.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="contactphone",
                    name="contact",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="phones",
                        to="campaigns.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="contactphone",
                    name="phone",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contact_links",
                        to="campaigns.phonenumber",
                    ),
                ),
                migrations.AlterField(
                    model_name="contact",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contacts",
                        to="campaigns.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="campaign",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="leads",
                        to="campaigns.campaign",
                    ),
                ),
            ],
        )
    ]
