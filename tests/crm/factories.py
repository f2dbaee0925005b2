import factory

from suppressions.crm.models import CrmConnection, CrmRule
from tests.campaigns.factories import CustomerFactory


class CrmConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrmConnection

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"CRM {n}")
    kind = CrmConnection.Kind.GENERIC


class CrmRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrmRule

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    object_type = "company"
    property = "lifecyclestage"
    operator = CrmRule.Operator.EQUALS
    value = "customer"
    effect = CrmRule.Effect.ACCOUNT
